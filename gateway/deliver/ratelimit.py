"""A destination's rate limit, shared by every worker process: at most ``rate`` calls per second
on average, bursts up to ``burst`` — the national portal throttles the province, not each worker.

The bucket lives in the store (``Store.take_tokens``). A worker draws a few tokens at a time, about
``GRANT_SECONDS`` of the rate, so the store is asked some twenty times a second at most, and uses
them within ``HOLD_SECONDS`` or gives them up: a grant kept for later would let a burst through above
the rate once the others have used the refill.
"""

from collections.abc import Callable
import logging
import threading
import time

log = logging.getLogger(__name__)

GRANT_SECONDS = 0.05
HOLD_SECONDS = 0.25
STORE_RETRY_SECONDS = 1.0

# (tokens wanted) → (tokens granted, seconds until the next one when none was granted)
Draw = Callable[[int], tuple[int, float]]


class SharedBucket:
    def __init__(self, draw: Draw, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._draw, self._clock, self._sleep = draw, clock, sleep
        self.retune(rate, burst)
        self._tokens, self._granted_at, self._next_draw = 0, 0.0, 0.0
        self._lock = threading.Lock()

    def retune(self, rate: float, burst: int) -> None:
        """A new rate limit (set from the console): later draws ask for this rate's share."""
        self.rate, self.burst = rate, burst
        self.grant = max(1, min(burst, round(rate * GRANT_SECONDS)))

    def try_take(self) -> float:
        """Takes a token if one can be had (returns 0.0); else the seconds until one may be."""
        with self._lock:
            now = self._clock()
            if self._tokens and now - self._granted_at > HOLD_SECONDS:
                self._tokens = 0  # unused too long: given up
            if not self._tokens:
                if now < self._next_draw:
                    return self._next_draw - now
                try:
                    granted, wait = self._draw(self.grant)
                except Exception as exc:  # noqa: BLE001 - the store is briefly unreachable: nothing is sent meanwhile
                    log.warning("rate limit: the store did not answer (%s)", type(exc).__name__)
                    granted, wait = 0, STORE_RETRY_SECONDS
                if not granted:
                    self._next_draw = now + wait
                    return wait
                self._tokens, self._granted_at = granted, now
            self._tokens -= 1
            return 0.0

    def take(self, cancelled: Callable[[], bool] = lambda: False, within: float | None = None) -> bool:
        """Waits for a token; False if ``cancelled()`` turned true (shutdown) or none came ``within``
        seconds (the caller gives its jobs back rather than let their leases run out waiting)."""
        deadline = None if within is None else self._clock() + within
        while (wait := self.try_take()) > 0:
            if cancelled() or (deadline is not None and self._clock() + wait > deadline):
                return False
            self._sleep(min(wait, 0.25))
        return True
