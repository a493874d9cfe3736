"""When to try a failed job again: exponential backoff with full jitter, never sooner than the peer asked."""

import random


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): uniform in [0, min(cap, base·2^(n-1))].

    Full jitter spreads the retries of many dossiers that failed together (an outage) so
    they do not return in one wave when the destination comes back."""
    ceiling = min(cap, base * 2 ** min(attempt - 1, 62))
    return (rng or random).uniform(0, ceiling)


def retry_delay(attempt: int, base: float, cap: float, retry_after: float | None = None,
                rng: random.Random | None = None) -> float:
    """Seconds until failed attempt ``attempt`` is tried again: the backoff, never sooner than the peer asked
    (calling sooner would only be refused again). A delay, not a time: the store adds it to its own clock."""
    delay = backoff_delay(attempt, base, cap, rng)
    return delay if retry_after is None else max(delay, retry_after)
