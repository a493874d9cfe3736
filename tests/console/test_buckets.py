"""The overview charts' closed buckets are worked out once and kept (console_buckets); kept or live, the
figures are the store's."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gateway.console import data
from gateway.store import JobFilter, JobState, Store
from gateway.store.tables import console_buckets, jobs
from tests.console.seed import Seeded

pytestmark = pytest.mark.postgres


def test_kept_buckets_agree_with_the_store(store: Store, seeded: Seeded) -> None:
    engine = store.engine
    now = datetime.now(UTC) + timedelta(hours=2)  # the seeded deliveries lie in closed buckets by then
    first = data.series(engine, "postal", "day", now, 0)
    with engine.connect() as connection:
        kept = connection.execute(sa.select(sa.func.count()).select_from(console_buckets)).scalar_one()
        delivered = connection.execute(sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.destination == "postal", jobs.c.delivered_at >= first.starts[0])).scalar_one()
    assert kept >= 20  # the day's closed hours, kept
    assert sum(first.delivered) == delivered > 0
    again = data.series(engine, "postal", "day", now, 0)  # from the kept rows this time
    assert again == first
    with engine.begin() as connection:
        connection.execute(console_buckets.delete())
    assert data.series(engine, "postal", "day", now, 0) == first  # worked out afresh: the same
    assert sum(first.accepted) == store.count_jobs(JobFilter(destination="postal"))
    assert all(latency is None or latency >= 0 for latency in first.latency_s)
    assert store.count_jobs(JobFilter(destination="postal", state=JobState.DELIVERED)) >= delivered


def test_open_buckets_are_read_live(store: Store, seeded: Seeded) -> None:
    engine = store.engine
    now = datetime.now(UTC)
    data.series(engine, "postal", "hour", now, 0)
    with engine.connect() as connection:
        latest = connection.execute(sa.select(sa.func.max(console_buckets.c.start))).scalar()
    assert latest is None or datetime.fromtimestamp(latest + 300, UTC) <= now - data.CLOSED_AFTER
