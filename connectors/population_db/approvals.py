"""Which clients may look citizens up: deny by default.

Two sources, the store's decision first: ``gateway population-db allow-lookups NAME`` / ``revoke-lookups NAME``
(for clients added with ``gateway clients add``, kept in the store, and to override a configured one), recorded
as audit entries (``client.lookups.allow`` / ``client.lookups.revoke``, subject ``lookups:NAME``) — the
approval is its own audit trail, tamper-evident, and a lost entry fails closed; without any, the
configuration's ``[clients.NAME] citizen_lookups = true``. Read at most every ``ttl`` seconds per name, so
a decision reaches every API process within seconds.
"""

from collections.abc import Callable
import threading
import time
from typing import Any

from gateway.kit import Config, Store

ALLOW, REVOKE = "client.lookups.allow", "client.lookups.revoke"


def subject(name: str) -> str:
    return f"lookups:{name}"


def store_decision(store: Store, name: str) -> bool | None:
    """The latest allow/revoke recorded for ``name``; None when none was."""
    for entry in store.audit_log(subject(name), limit=20):  # newest first
        if entry["action"] in (ALLOW, REVOKE):
            return bool(entry["action"] == ALLOW)
    return None


def decide(store: Store, name: str, allow: bool, actor: str) -> None:
    store.audit(actor, ALLOW if allow else REVOKE, subject(name), {"client": name})


class Approvals:
    def __init__(self, config: Config, store: Callable[[], Store], ttl: float = 2.0) -> None:
        self.config, self.store, self.ttl = config, store, ttl
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def configured(self, name: str) -> bool:
        entry: Any = self.config.section("clients").get(name)
        return isinstance(entry, dict) and entry.get("citizen_lookups") is True

    def cached(self, name: str) -> bool | None:
        """The decision read less than ``ttl`` ago, None when none is: cheap, fit for the event loop (the
        look-up's hot path then needs no thread for it)."""
        with self._lock:
            cached = self._cache.get(name)
        return cached[1] if cached is not None and time.monotonic() - cached[0] < self.ttl else None

    def approved(self, name: str) -> bool:
        """Blocking (reads the store when the cached decision is stale): call it off the event loop."""
        now = time.monotonic()
        known = self.cached(name)
        if known is not None:
            return known
        decision = store_decision(self.store(), name)
        allowed = self.configured(name) if decision is None else decision
        with self._lock:
            self._cache[name] = (now, allowed)
        return allowed
