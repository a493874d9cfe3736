"""A circuit breaker per destination: stop calling a destination that keeps failing, probe it after a cool-down."""

from collections.abc import Callable
import threading
import time

from gateway.store.api import BreakerState  # closed: calls flow; open: none until the cool-down; half_open: one probe


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; ``on_change(state, opened_at_epoch)`` persists each move
    (so operators see the state in the store). The cool-down runs on ``clock`` (monotonic: a wall clock set
    back an hour must not hold the circuit open an hour); ``opened_at`` is ``wall`` time, for operators."""

    def __init__(self, threshold: int, cooldown: float, *, on_change: Callable[[BreakerState, float | None], None]
                 | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.threshold, self.cooldown = threshold, cooldown
        self._on_change, self._clock, self._wall = on_change, clock, wall
        self._opened = 0.0  # ``clock`` when it opened
        self._lock = threading.Lock()
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.opened_at: float | None = None
        self._probing = False

    def restore(self, state: str | None, opened_at: float | None) -> None:
        """Takes over the state another process left in the store (an open circuit stays open)."""
        with self._lock:
            if state in (BreakerState.OPEN, BreakerState.HALF_OPEN) and opened_at is not None:
                self.state, self.opened_at, self.failures = BreakerState.OPEN, opened_at, self.threshold
                # what is left of its cool-down by the wall clocks, never more than a whole one
                self._opened = self._clock() - min(max(self._wall() - opened_at, 0.0), self.cooldown)

    def _move(self, state: BreakerState) -> None:
        self.state = state
        if state is BreakerState.OPEN:
            self.opened_at, self._opened = self._wall(), self._clock()
        if self._on_change:
            self._on_change(state, self.opened_at if state is not BreakerState.CLOSED else None)

    def permits(self) -> int:
        """How many calls may start now: unlimited (-1) when closed, 1 for the half-open probe, else 0.
        Granting the probe reserves it; ``record`` releases it."""
        with self._lock:
            if self.state is BreakerState.CLOSED:
                return -1
            if self.state is BreakerState.OPEN and self._clock() - self._opened >= self.cooldown:
                self._move(BreakerState.HALF_OPEN)
            if self.state is BreakerState.HALF_OPEN and not self._probing:
                self._probing = True
                return 1
            return 0

    def unprobe(self) -> None:
        """The reserved probe was not used (nothing to send, or the call was not made)."""
        with self._lock:
            self._probing = False

    def record(self, success: bool) -> None:
        with self._lock:
            self._probing = False
            if success:
                self.failures = 0
                if self.state is not BreakerState.CLOSED:
                    self._move(BreakerState.CLOSED)
                return
            self.failures += 1
            if self.state is BreakerState.HALF_OPEN or (
                    self.state is BreakerState.CLOSED and self.failures >= self.threshold):
                self._move(BreakerState.OPEN)
