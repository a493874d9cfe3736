"""``gateway audit verify``: the whole chain in the store, its head and its checkpoints, judged by
``gateway.audit.chain``'s rules; the first place it does not hold is named."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from gateway.audit.chain import Break, ChainWalk
from gateway.audit.checkpoint import CheckpointVerdict, verify_checkpoint
from gateway.store.api import Store
from signing.trust import TrustPolicy

PAGE = 5000


@dataclass
class AuditReport:
    entries: int = 0
    checkpoints: list[CheckpointVerdict] = field(default_factory=list)
    broken: Break | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def signed_up_to(self) -> int:
        """The last entry a signed, sound checkpoint vouches for (0: none)."""
        return max((v.checkpoint.n for v in self.checkpoints if v.signed and v.ok), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "signed_up_to": self.signed_up_to,
                "checkpoints": [{"n": v.checkpoint.n, "signed": v.signed, "signer": v.signer, "trusted": v.trusted,
                                 "problem": v.problem, "timestamp": v.timestamp,
                                 "proven_at": v.proven_at and v.proven_at.isoformat()} for v in self.checkpoints],
                "broken": None if self.broken is None else {
                    "n": self.broken.n, "kind": self.broken.kind, "message_vi": self.broken.message_vi,
                    "message_en": self.broken.message_en}}


def checkpoint_break(verdict: CheckpointVerdict) -> Break | None:
    """A checkpoint that cannot be relied on, as a break at the entry it claims to cover."""
    n = verdict.checkpoint.n
    if verdict.problem is not None:
        return Break.of(n, "checkpoint", "audit.checkpoint_forged", problem=verdict.problem)
    if verdict.trusted is False:
        if verdict.signer is None:
            return Break.of(n, "checkpoint", "audit.checkpoint_unsigned")
        return Break.of(n, "checkpoint", "audit.checkpoint_untrusted", signer=verdict.signer)
    if verdict.timestamp.startswith("failed"):
        return Break.of(n, "checkpoint", "audit.timestamp_fails", timestamp=verdict.timestamp)
    return None


def first_break(*breaks: Break | None) -> Break | None:
    found = [b for b in breaks if b is not None]
    return min(found, key=lambda b: b.n) if found else None


def verify_store(store: Store, trusted: list[x509.Certificate] | None = None,
                 tsa_trust: TrustPolicy | None = None) -> AuditReport:
    report = AuditReport()
    report.checkpoints = [verify_checkpoint(c, trusted, tsa_trust) for c in store.audit_checkpoints()]
    bad = [b for b in map(checkpoint_break, report.checkpoints) if b is not None]
    anchors = {v.checkpoint.n: v.checkpoint.hash for v in report.checkpoints if checkpoint_break(v) is None}
    head_n, head_hash = store.audit_head()
    walk = ChainWalk(anchors={**anchors, head_n: head_hash} if head_n else anchors, whole=True)
    after = 0
    while walk.broken is None:
        page = store.audit_entries(after=after, limit=PAGE)
        if not page:
            break
        walk.feed(page)
        after = page[-1].n
    walk.finish()
    report.entries = walk.last
    if walk.broken is None and walk.last > head_n:
        walk.broken = Break.of(head_n + 1, "head", "audit.beyond_head")
    report.broken = first_break(walk.broken, *bad)
    return report
