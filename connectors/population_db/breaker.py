"""A circuit breaker per process: after ``failures`` look-ups in a row found the database unavailable, it
opens for ``open_seconds`` (callers answered 503 at once, no thread waits on the database); then one
trial call is let through (half-open): success closes it, failure opens it again."""

from collections.abc import Callable
from dataclasses import dataclass, field
import threading
import time


class BreakerOpen(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__("breaker open")
        self.retry_after = retry_after


@dataclass
class Breaker:
    failures: int = 5
    open_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _count: int = 0
    _opened_at: float | None = None
    _trial: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half-open" if self.clock() - self._opened_at >= self.open_seconds else "open"

    def enter(self) -> None:
        """Before a call: ``BreakerOpen`` while open (and while a half-open trial is under way)."""
        with self._lock:
            if self._opened_at is None:
                return
            left = self.open_seconds - (self.clock() - self._opened_at)
            if left > 0:
                raise BreakerOpen(left)
            if self._trial:
                raise BreakerOpen(1.0)
            self._trial = True

    def succeeded(self) -> None:
        with self._lock:
            self._count, self._opened_at, self._trial = 0, None, False

    def failed(self) -> bool:
        """One more failure; True when it opened the breaker."""
        with self._lock:
            self._count += 1
            reopen = self._trial
            self._trial = False
            if reopen or self._count >= self.failures:
                was_closed = self._opened_at is None or reopen
                self._opened_at = self.clock()
                return was_closed
            return False

    def released(self) -> None:
        """A call that neither succeeded nor failed (refused): a half-open trial ends without a verdict."""
        with self._lock:
            self._trial = False
