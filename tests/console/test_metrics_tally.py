"""/metrics counts the history through the timestamps' indexes (``metrics.Tally``): rows older than the settled
mark are counted once and kept, the recent ones at every scrape — the totals stay the store's, while a scrape
reads only what changed lately (on a million packets a full count took 570–610 ms per scrape)."""

from datetime import UTC, datetime, timedelta

from gateway.observe.metrics import RECOUNT, SETTLED, Tally
from gateway.store.api import Store
from gateway.store.tables import attempts

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _add(store: Store, at: datetime, outcome: str, n: int) -> None:
    rows = [{"job_id": f"{outcome}-{at.isoformat()}-{i}", "n": 1, "started_at": at, "duration_ms": 5,
             "outcome": outcome, "message": ""} for i in range(n)]
    with store.engine.begin() as connection:  # type: ignore[attr-defined]  # the SQL store's engine
        connection.execute(attempts.insert(), rows)


def _read(store: Store, tally: Tally, now: datetime) -> dict[str, int]:
    with store.engine.connect() as connection:  # type: ignore[attr-defined]  # the SQL store's engine
        return {group[0]: n for group, n in tally.read(connection, now).items()}


def test_totals_stay_the_stores_while_the_mark_moves(store: Store) -> None:
    tally = Tally(attempts.c.started_at, attempts.c.outcome)
    _add(store, NOW - timedelta(hours=1), "delivered", 5)
    _add(store, NOW - timedelta(seconds=30), "failed", 3)
    assert _read(store, tally, NOW) == {"delivered": 5, "failed": 3}
    assert tally.mark == NOW - SETTLED and tally.kept == {("delivered",): 5}  # the recent three: read live

    _add(store, NOW - timedelta(seconds=60), "delivered", 2)  # after the mark: seen at the next scrape
    assert _read(store, tally, NOW + timedelta(seconds=10)) == {"delivered": 7, "failed": 3}

    later = NOW + timedelta(minutes=10)  # everything so far settles: counted once, not twice
    _add(store, later - timedelta(seconds=1), "timeout", 1)
    assert _read(store, tally, later) == {"delivered": 7, "failed": 3, "timeout": 1}
    assert tally.kept == {("delivered",): 7, ("failed",): 3}
    assert _read(store, tally, later) == {"delivered": 7, "failed": 3, "timeout": 1}  # a second scrape: the same


def test_a_row_stamped_behind_the_mark_waits_for_the_recount(store: Store) -> None:
    """The price of reading only the recent rows: a row committed with a stamp already behind the mark (an attempt
    stamped when its call began, committed when it ended) is counted at the next exact recount, not before."""
    tally = Tally(attempts.c.started_at, attempts.c.outcome)
    _add(store, NOW - timedelta(hours=2), "delivered", 4)
    assert _read(store, tally, NOW) == {"delivered": 4}
    _add(store, NOW - timedelta(minutes=5), "timeout", 1)  # behind the mark when it arrives
    assert _read(store, tally, NOW + timedelta(seconds=5)) == {"delivered": 4}
    assert _read(store, Tally(attempts.c.started_at, attempts.c.outcome), NOW) == {"delivered": 4, "timeout": 1}
    assert _read(store, tally, NOW + RECOUNT) == {"delivered": 4, "timeout": 1}  # every process agrees again
    _add(store, NOW + RECOUNT, "delivered", 2)
    assert _read(store, tally, NOW + RECOUNT + timedelta(seconds=1)) == {"delivered": 6, "timeout": 1}
