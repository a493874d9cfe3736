"""Lockout with backoff after repeated failed logins: per account and per source address.

After ``threshold`` failures of one key (an account's username, a source address) within
``forget_seconds``, that key is locked for ``base_seconds``, doubled at every further failure up to
``cap_seconds``; while locked, nothing is checked — the right password does not help. A good login
clears its account's count. Counts live in the process, bounded (``max_keys``, the oldest forgotten),
and — with ``shared`` (the default) — also in the store's ``lockouts`` table, so several API processes
count together: a background thread adds each process's failures to the shared counts, locks a key there
when the shared count reaches its threshold, and every ``refresh_seconds`` reads the keys locked now into
a small in-process cache. The thread starts with the app that serves (or at the first failure counted) and
stops when it closes: an intake that serves no one never reads the store for it. A request never reads the
store: a locked key costs a dictionary look-up, and a lock decided by another process is seen here within
``refresh_seconds``.
"""

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import hmac
import secrets
import logging
import queue
import threading
import time
from typing import Any

from gateway.config import Config, ConfigError
from gateway.messages import line
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
    shared: bool = True  # counts shared between API processes through the store
    refresh_seconds: float = 1.0  # how often the keys locked in the store are read (one query per process)

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


def _seconds(policy: LockoutPolicy, over: int) -> float:
    return float(min(policy.cap_seconds, policy.base_seconds * 2.0 ** min(over, 32)))


def _threshold(policy: LockoutPolicy, key: str) -> int:
    return policy.address_threshold if key.startswith("address:") else policy.account_threshold


class SharedCounts:
    """The store's side of the lockout, off the request path: failures and clears are queued and written by
    one thread, which also reads the keys locked now every ``refresh_seconds`` (wall-clock times). The thread
    runs from ``start`` to ``close``."""

    def __init__(self, store: Callable[[], Store], policy: LockoutPolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self.store, self.policy, self.clock = store, policy, clock
        self.locked: dict[str, float] = {}  # key → until (wall clock), replaced whole at each refresh
        self._queue: queue.Queue[tuple[str, tuple[str, ...]] | None] = queue.Queue(maxsize=100_000)
        self._synced = threading.Condition()
        self._rounds = 0
        self._down = False
        self._thread = threading.Thread(target=self._run, name="lockout-shared", daemon=True)
        self._state = "new"  # → "running" → "closed"; "new" → "closed" without ever running
        self._state_lock = threading.Lock()

    def start(self) -> None:
        """Starts the thread, once (the app's start-up; else the first failure or clear counted)."""
        with self._state_lock:
            if self._state == "new":
                self._thread.start()
                self._state = "running"

    def failed(self, keys: tuple[str, ...]) -> None:
        self.start()
        try:
            self._queue.put_nowait(("failed", keys))
        except queue.Full:  # a flood: the in-process count still locks; the shared one catches up later
            log.warning("lockout: shared queue full, a failure counted in this process only")

    def clear(self, key: str) -> None:
        self.locked.pop(key, None)
        self.start()
        try:
            self._queue.put_nowait(("clear", (key,)))
        except queue.Full:
            log.warning("lockout: shared queue full, a clear not shared")

    def wait(self, keys: tuple[str, ...]) -> float:
        now, locked = self.clock(), self.locked
        return max([0.0] + [until - now for key in keys if (until := locked.get(key)) is not None and until > now])

    def sync(self, timeout: float = 10.0) -> None:
        """Waits until everything queued so far is written and the locks are read back (tests, shutdown)."""
        self.start()
        with self._synced:
            target = self._rounds + 2
            self._queue.put(("sync", ()))
            self._synced.wait_for(lambda: self._rounds >= target, timeout)

    def close(self) -> None:
        with self._state_lock:
            running, self._state = self._state == "running", "closed"
        if running:
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self.policy.refresh_seconds)
            except queue.Empty:
                item = ("sync", ())
            if item is None:
                return
            items = [item]
            while len(items) < 1000:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                items.append(more)
            try:
                self._write(items)
                self.locked = self.store().lockouts_in_force(self.clock(), self.policy.forget_seconds)
                self._down = False
            except Exception as exc:  # noqa: BLE001 — a store down or not yet migrated: one line per outage
                if not self._down:
                    log.warning("lockout: shared counts unavailable (%s); in-process counts hold", type(exc).__name__)
                self._down = True
            with self._synced:
                self._rounds += 1
                self._synced.notify_all()

    def _write(self, items: list[tuple[str, tuple[str, ...]]]) -> None:
        store, now = self.store(), self.clock()
        for kind, keys in items:
            if kind == "clear":
                store.lockout_clear(keys[0])
            elif kind == "failed":
                counts = store.lockout_failed(keys, now, self.policy.forget_seconds)
                until = {key: now + _seconds(self.policy, count - _threshold(self.policy, key))
                         for key, count in counts.items() if count >= _threshold(self.policy, key)}
                if until:
                    store.lockout_lock(until)
                    log.warning("%s: %s", line("log.locked_shared"), ", ".join(until))


class Lockout:
    def __init__(self, policy: LockoutPolicy, clock: Callable[[], float] = time.monotonic,
                 shared: SharedCounts | None = None) -> None:
        self.policy, self.clock, self.shared = policy, clock, shared
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._lock = threading.Lock()

    def start(self) -> None:
        """The shared counts' thread (with the app that serves)."""
        if self.shared is not None:
            self.shared.start()

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()

    def _threshold(self, key: str) -> int:
        return self.policy.address_threshold if key.startswith("address:") else self.policy.account_threshold

    def retry_after(self, *keys: str) -> float:
        """Seconds until every one of ``keys`` may try again (0: none is locked)."""
        now = self.clock()
        with self._lock:
            local = max([0.0] + [count.until - now for key in keys
                                 if (count := self._counts.get(key)) is not None and count.until > now])
        return max(local, self.shared.wait(keys)) if self.shared is not None else local

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
                    seconds = _seconds(self.policy, over)
                    count.until = now + seconds
                    locked[key] = seconds
                self._counts[key] = count  # most recent last
                while len(self._counts) > self.policy.max_keys:
                    self._counts.popitem(last=False)
        if self.shared is not None:
            self.shared.failed(keys)
        return locked

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
        if self.shared is not None:
            self.shared.clear(key)


def audit_lock(store: Callable[[], Store], actor: str, action: str, locked: dict[str, float]) -> None:
    """Audits a lock (blocking); a store that is down costs the audit row, not the answer."""
    log.warning("%s: %s", line("log.locked"), ", ".join(f"{key} {seconds:g} s" for key, seconds in locked.items()))
    try:
        store().audit(actor, action, next(iter(locked)), {"locked": locked})
    except Exception:
        log.exception("auditing a lockout failed")
