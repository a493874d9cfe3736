"""Look-ups per account and month, from the audit trail (the police's usage reports): months in the
gateway's time zone (Asia/Ho_Chi_Minh), one row per account, month and operation, counted by outcome."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

OUTCOMES = ("found", "not_found", "match", "no_match", "refused", "unavailable", "failed")


@dataclass(frozen=True)
class Row:
    account: str
    month: str  # yyyy-MM
    operation: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "month": self.month, "operation": self.operation, "total": self.total,
                **{name: self.counts.get(name, 0) for name in OUTCOMES}}


def _month(at: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(zone).strftime("%Y-%m")


def count(entries: Iterable[Any], zone: ZoneInfo) -> list[Row]:
    """Rows from audit entries (``n``, ``at``, ``actor``, ``action``, ``detail``): population.* ones only."""
    counts: dict[tuple[str, str, str], Counter[str]] = {}
    for entry in entries:
        if not str(entry.action).startswith("population."):
            continue
        detail = entry.detail or {}
        key = (entry.actor, _month(entry.at, zone), str(detail.get("operation", entry.action)))
        counts.setdefault(key, Counter())[str(detail.get("outcome", "unknown"))] += 1
    return [Row(account, month, operation, dict(counter))
            for (account, month, operation), counter in sorted(counts.items())]


def all_entries(store: Any, page: int = 5000) -> Iterable[Any]:
    """Every audit entry, in pages (the chain's own reader)."""
    after = 0
    while True:
        batch = store.audit_entries(after, None, page)
        if not batch:
            return
        yield from batch
        after = batch[-1].n
