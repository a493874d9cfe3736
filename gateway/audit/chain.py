"""The audit log's hash chain: how one entry is hashed, how entries link, and how a run of entries is
checked. Pure functions over plain values, so the store's ``gateway audit verify`` and an evidence
bundle's offline verifier judge a chain by exactly the same rules.

Entry ``n`` (1, 2, 3 …) has ``digest = SHA-256(canonical JSON of [n, at, actor, action, subject, dossier],
"\n", canonical JSON of detail)`` and ``hash = SHA-256(hash of entry n-1 ‖ digest)``; entry 1 links to
``GENESIS``. An entry's
content may later be withheld (an evidence bundle shows other dossiers' entries by digest only) without
breaking the chain.

Packets accepted in one committed batch make ONE entry (``BATCH``): its detail is ``{"items": [...]}``, one
item per packet (id, dossier, sender, SHA-256 of the bytes, the verdicts' outcome, routes), and its digest
is taken over the list of the items' SHA-256 (``item_hash``), not the items themselves: so a bundle shows
its dossier's items in clear and the others' as their hash, and the entry still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
import hashlib
import json
from typing import Any
from collections.abc import Iterable, Sequence

from gateway.messages import text

GENESIS = "0" * 64
BATCH = "packets.accepted"  # the entry of one committed batch of accepted packets


def canonical_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    """``detail`` as the JSON column hands it back (keys as text, tuples as lists), so what is hashed
    is what is stored."""
    stored: dict[str, Any] = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    return stored


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def timestamp(at: datetime) -> str:
    """An entry's time as hashed: UTC, microseconds (both stores keep them)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_digest(n: int, at: str, actor: str, action: str, subject: str, dossier: str | None,
                 detail: dict[str, Any] | str) -> str:
    """SHA-256 of the canonical JSON of ``[n, at, actor, action, subject, dossier]``, a line feed, and the
    canonical JSON of ``detail`` (given as a dict, or already as that text)."""
    text = detail if isinstance(detail, str) else canonical_json(detail)
    return hashlib.sha256(f"{canonical_json([n, at, actor, action, subject, dossier])}\n{text}"
                          .encode()).hexdigest()


def item_hash(item: dict[str, Any]) -> str:
    """What a batch entry's digest covers of one item: SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(item).encode()).hexdigest()


def batch_texts(items: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """A batch entry's detail as stored (its items in clear) and as its digest covers it (their hashes),
    both canonical JSON; each item serialised once."""
    texts = [canonical_json(item) for item in items]
    hashes = (hashlib.sha256(text.encode()).hexdigest() for text in texts)
    return '{"items":[' + ",".join(texts) + "]}", '{"items":[' + ",".join(f'"{h}"' for h in hashes) + "]}"


def sealed_detail(action: str, detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as the digest covers it: a batch entry's items by their hash (an item already shown by
    its hash stays so)."""
    if action != BATCH or not isinstance(detail.get("items"), list):
        return detail
    return {**detail, "items": [item if isinstance(item, str) else item_hash(item) for item in detail["items"]]}


def link(previous: str, digest: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(digest)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One audit entry as stored. ``content`` is False when only its digest is known (withheld)."""

    n: int
    digest: str
    hash: str
    at: str = ""
    actor: str = ""
    action: str = ""
    subject: str = ""
    dossier: str | None = None
    detail: dict[str, Any] | None = None
    content: bool = True

    def recomputed(self) -> str:
        return entry_digest(self.n, self.at, self.actor, self.action, self.subject, self.dossier,
                            sealed_detail(self.action, self.detail or {}))

    @property
    def withheld_items(self) -> bool:
        """A batch entry some of whose items are shown by their hash only."""
        return self.action == BATCH and any(isinstance(i, str) for i in (self.detail or {}).get("items") or [])

    def shown_to(self, dossier: str) -> Entry:
        """The entry as a bundle of ``dossier`` shows it: a batch entry's other items by their hash."""
        if self.action != BATCH or self.detail is None:
            return self
        items = [item if isinstance(item, str) or item.get("dossier") == dossier else item_hash(item)
                 for item in self.detail.get("items") or []]
        return replace(self, detail={**self.detail, "items": items})

    def accepted(self) -> list[dict[str, Any]]:
        """The packets this entry records accepted and shows in clear (a batch's items, or an entry of a
        single packet as written before batches): packet_id, dossier, sha256, …"""
        if self.action == BATCH:
            return [item for item in (self.detail or {}).get("items") or [] if isinstance(item, dict)]
        if self.action == "packet.accepted":
            return [{**(self.detail or {}), "packet_id": self.subject, "dossier": self.dossier}]
        return []

    def to_dict(self) -> dict[str, Any]:
        if not self.content:
            return {"n": self.n, "digest": self.digest, "hash": self.hash}
        return {"n": self.n, "at": self.at, "actor": self.actor, "action": self.action, "subject": self.subject,
                "dossier": self.dossier, "detail": self.detail, "digest": self.digest, "hash": self.hash}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        if "action" not in data:
            return cls(int(data["n"]), str(data["digest"]), str(data["hash"]), content=False)
        return cls(int(data["n"]), str(data["digest"]), str(data["hash"]), str(data["at"]), str(data["actor"]),
                   str(data["action"]), str(data["subject"]), data.get("dossier"), dict(data.get("detail") or {}))


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold: entry ``n`` and what is wrong there."""

    n: int
    kind: str  # edited | missing | chain | truncated | checkpoint | head
    message_vi: str
    message_en: str

    @classmethod
    def of(cls, n: int, kind: str, rule: str, /, **fields: Any) -> Break:
        """A break in the catalogue's words (``rule``, gateway.messages)."""
        return cls(n, kind, *text(rule, **fields))

    def __str__(self) -> str:
        at_vi, at_en = text("audit.entry", n=self.n)
        return f"{at_vi}: {self.message_vi} / {at_en}: {self.message_en}"


class ChainWalk:
    """Checks entries fed in ``n`` order, from entry ``start`` whose predecessor's hash is ``previous``,
    against ``anchors``: what signed checkpoints (or the head row) say entry n's hash is."""

    def __init__(self, start: int = 1, previous: str = GENESIS, anchors: dict[int, str] | None = None, *,
                 whole: bool = False) -> None:
        """``whole``: every batch item must be there in clear (the store's log; a bundle withholds others')."""
        self.expected, self.previous, self.whole = start, previous, whole
        self.anchors = dict(anchors or {})
        self.broken: Break | None = None

    @property
    def last(self) -> int:
        return self.expected - 1

    def feed(self, entries: Iterable[Entry]) -> Break | None:
        for entry in entries:
            if self.broken is not None:
                break
            self.broken = self._check(entry)
        return self.broken

    def finish(self) -> Break | None:
        """The first break, once every entry was fed: anchors past the last entry mean a truncated log."""
        if self.broken is None and self.anchors and max(self.anchors) > self.last:
            n = max(self.anchors)
            self.broken = Break.of(self.last + 1, "truncated", "audit.truncated", n=n, last=self.last)
        return self.broken

    def _check(self, entry: Entry) -> Break | None:
        n = self.expected
        if entry.n < n:
            return Break.of(entry.n, "missing", "audit.out_of_order", n=n)
        if entry.n > n:
            return Break.of(n, "missing", "audit.deleted", next=entry.n)
        if entry.content and (entry.recomputed() != entry.digest or self.whole and entry.withheld_items):
            return Break.of(n, "edited", "audit.edited")
        if link(self.previous, entry.digest) != entry.hash:
            return Break.of(n, "chain", "audit.chain")
        if n in self.anchors and self.anchors[n] != entry.hash:
            return Break.of(n, "checkpoint", "audit.rewritten")
        self.previous, self.expected = entry.hash, n + 1
        return None
