"""A token bucket: at most ``rate`` calls per second on average, bursts up to ``burst``."""

from collections.abc import Callable
import threading
import time


class TokenBucket:
    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.burst = rate, float(burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> float:
        """Takes a token if one is there (returns 0.0); else returns the seconds until one will be."""
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def take(self, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Waits for a token; False if ``cancelled()`` turned true meanwhile (shutdown)."""
        while (wait := self.try_take()) > 0:
            if cancelled():
                return False
            self._sleep(min(wait, 0.25))
        return True
