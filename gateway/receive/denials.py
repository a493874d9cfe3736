"""Refused authentication (401) in the audit chain: who knocked, where, with what kind of key — never the key.

The entry names the caller's address and, for a key presented, the first 12 hex digits of its SHA-256: the
same digits an operator finds at the start of a client's ``key_sha256``, so an old or mistyped key of a
known client is recognisable, while the key itself cannot be recovered. Rows go through the intake's
batcher (one transaction per interval), and the lockout answers a flood from one address with 429 before
authentication, so failed keys cost the store little.
"""

import hashlib
from collections.abc import Mapping

from gateway.receive.auth import Denied, _presented_key
from gateway.store.trail import AuditBatcher

KEY_DIGITS = 12


def key_hint(headers: Mapping[str, str]) -> str | None:
    """``sha256:`` and the first 12 hex digits of the presented key's SHA-256, or None without a key."""
    key = _presented_key(headers)
    return None if key is None else "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:KEY_DIGITS]


def audit_denied(trail: AuditBatcher, endpoint: str, address: str, headers: Mapping[str, str],
                 denied: Denied) -> None:
    """Queues the ``auth.denied`` entry for a 401 (403s are audited where they are decided)."""
    if denied.status != 401:
        return
    trail.add("anonymous", "auth.denied", address, {"endpoint": endpoint, "rule": denied.rule,
                                                    "key": key_hint(headers)})
