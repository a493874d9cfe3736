"""Lockout with backoff after repeated failed logins: per account and per source address.

After ``threshold`` failures of one key (an account's username, a source address) within
``forget_seconds``, that key is locked for ``base_seconds``, doubled at every further failure up to
``cap_seconds``; while locked, nothing is checked — the right password does not help. A good login
clears its account's count. Counts live in the process (several API processes each count on their
own: N processes allow N times the failures) and are bounded (``max_keys``, the oldest forgotten).
"""

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import hmac
import secrets
import threading
import time
import logging
from typing import Any

from gateway.config import Config, ConfigError
from gateway.store import Store

log = logging.getLogger(__name__)


# Keyed per process, as the counts are: a typed name that is no account's (a password typed in the wrong
# field, say) is counted under a digest nobody can reverse by guessing, and appears nowhere in clear.
_UNKNOWN_KEY = secrets.token_bytes(32)


def account_key(username: str, known: bool) -> str:
    """The lockout key of a login's account: a known account by its name; any other typed name by a
    keyed digest of it (``account:?…``), so it never reaches a lockout key, a log line or the audit log."""
    if known:
        return f"account:{username}"
    digest = hmac.new(_UNKNOWN_KEY, username.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    return f"account:?{digest[:20]}"


@dataclass(frozen=True)
class LockoutPolicy:
    account_threshold: int = 5
    address_threshold: int = 20  # higher: an agency's office shares one address behind its NAT
    base_seconds: float = 30.0
    cap_seconds: float = 900.0
    forget_seconds: float = 900.0  # failures older than this no longer count
    max_keys: int = 100_000

    @classmethod
    def from_config(cls, config: Config) -> "LockoutPolicy":
        raw: dict[str, Any] = dict(config.section("lockout"))
        try:
            policy = cls(**raw)
        except TypeError as exc:
            raise ConfigError(f"lockout: {exc}") from None
        if min(policy.account_threshold, policy.address_threshold) < 1 or policy.base_seconds <= 0 \
                or policy.cap_seconds < policy.base_seconds:
            raise ConfigError("lockout: thresholds ≥ 1, base_seconds > 0, cap_seconds ≥ base_seconds")
        return policy


@dataclass
class _Count:
    failures: int
    last: float
    until: float = 0.0


class Lockout:
    def __init__(self, policy: LockoutPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy, self.clock = policy, clock
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def _threshold(self, key: str) -> int:
        return self.policy.address_threshold if key.startswith("address:") else self.policy.account_threshold

    def retry_after(self, *keys: str) -> float:
        """Seconds until every one of ``keys`` may try again (0: none is locked)."""
        now = self.clock()
        with self._lock:
            return max([0.0] + [count.until - now for key in keys
                                if (count := self._counts.get(key)) is not None and count.until > now])

    def failed(self, *keys: str) -> dict[str, float]:
        """Counts a failure against each key; the keys it locks, with for how long."""
        now, locked = self.clock(), {}
        with self._lock:
            for key in keys:
                count = self._counts.pop(key, None)
                if count is None or now - count.last > self.policy.forget_seconds:
                    count = _Count(0, now)
                count.failures, count.last = count.failures + 1, now
                over = count.failures - self._threshold(key)
                if over >= 0:
                    seconds = min(self.policy.cap_seconds, self.policy.base_seconds * 2 ** min(over, 32))
                    count.until = now + seconds
                    locked[key] = seconds
                self._counts[key] = count  # most recent last
                while len(self._counts) > self.policy.max_keys:
                    self._counts.popitem(last=False)
        return locked

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


def audit_lock(store: Callable[[], Store], actor: str, action: str, locked: dict[str, float]) -> None:
    """Audits a lock (blocking); a store that is down costs the audit row, not the answer."""
    log.warning("tạm khoá / locked: %s", ", ".join(f"{key} {seconds:g} s" for key, seconds in locked.items()))
    try:
        store().audit(actor, action, next(iter(locked)), {"locked": locked})
    except Exception:
        log.exception("auditing a lockout failed")
