"""The circuit breaker's states on a clock the test moves: closed → open after N failures in a row →
half-open (one trial only) → closed on success, open again on failure."""

import pytest

from connectors.population_db.breaker import Breaker, BreakerOpen


def test_opens_lets_one_trial_through_and_closes() -> None:
    now = [0.0]
    breaker = Breaker(failures=2, open_seconds=10, clock=lambda: now[0])
    breaker.enter()
    assert breaker.failed() is False and breaker.state == "closed"
    breaker.succeeded()  # a success in between: the count starts again
    breaker.enter()
    assert breaker.failed() is False
    assert breaker.failed() is True and breaker.state == "open"
    now[0] = 4.0
    with pytest.raises(BreakerOpen) as waiting:
        breaker.enter()
    assert waiting.value.retry_after == pytest.approx(6.0)
    now[0] = 10.0
    assert breaker.state == "half-open"
    breaker.enter()  # the trial
    with pytest.raises(BreakerOpen):
        breaker.enter()  # nobody else while it runs
    breaker.succeeded()
    assert breaker.state == "closed"


def test_a_failed_trial_opens_it_again_and_a_refusal_ends_the_trial() -> None:
    now = [0.0]
    breaker = Breaker(failures=1, open_seconds=5, clock=lambda: now[0])
    assert breaker.failed() is True
    now[0] = 5.0
    breaker.enter()
    assert breaker.failed() is True and breaker.state == "open"  # open for another 5 s from now
    now[0] = 10.0
    breaker.enter()
    breaker.released()  # the trial was refused by the database: no verdict, the next call may try
    breaker.enter()
    breaker.succeeded()
    assert breaker.state == "closed"
