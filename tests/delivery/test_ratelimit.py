"""The worker's side of the shared rate limit: grants drawn a few at a time, given up when stale,
and no call while the store cannot be asked."""

import pytest

from gateway.deliver.ratelimit import HOLD_SECONDS, STORE_RETRY_SECONDS, SharedBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_draws_a_grant_at_a_time_and_gives_up_stale_tokens() -> None:
    clock, draws = Clock(), []

    def draw(want: int) -> tuple[int, float]:
        draws.append(want)
        return want, 0.0

    bucket = SharedBucket(draw, rate=200.0, burst=20, clock=clock, sleep=clock.sleep)
    assert bucket.grant == 10  # 50 ms of the rate
    assert all(bucket.try_take() == 0.0 for _ in range(10)) and draws == [10]
    assert bucket.try_take() == 0.0 and draws == [10, 10]
    clock.now += HOLD_SECONDS + 0.01  # nine tokens left unused too long: a fresh draw, not a burst
    assert bucket.try_take() == 0.0 and draws == [10, 10, 10]


def test_an_empty_bucket_waits_as_the_store_says_and_gives_up_past_the_limit() -> None:
    clock = Clock()
    answers = iter([(0, 0.4), (1, 0.0), (0, 5.0)])
    bucket = SharedBucket(lambda want: next(answers), rate=2.0, burst=1, clock=clock, sleep=clock.sleep)
    assert bucket.try_take() == 0.4
    assert bucket.try_take() == pytest.approx(0.4)  # no second question to the store before then
    assert bucket.take() and clock.now >= 100.4
    assert bucket.take(within=1.0) is False  # 5 s away: the caller releases its jobs instead


def test_no_token_while_the_store_is_unreachable() -> None:
    clock = Clock()

    def draw(want: int) -> tuple[int, float]:
        raise ConnectionError("store down")

    bucket = SharedBucket(draw, rate=10.0, burst=5, clock=clock, sleep=clock.sleep)
    assert bucket.try_take() == STORE_RETRY_SECONDS
    assert bucket.take(cancelled=lambda: clock.now > 102) is False
