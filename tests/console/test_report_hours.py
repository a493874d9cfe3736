"""The monthly report's closed hours are counted once and kept (console_hours); kept or counted straight from
packets and jobs, the report is the same, for every operator, across a month's edge."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gateway.console import data
from gateway.console.accounts import Operator
from gateway.store import Store
from gateway.store.tables import console_hours
from tests.console.seed import AGENCY_A, seed

pytestmark = pytest.mark.postgres

LOCAL = timedelta(hours=data.LOCAL_OFFSET_HOURS)


def test_kept_hours_agree_with_a_direct_count(store: Store) -> None:
    engine = store.engine
    now = datetime.now(UTC)
    local_month = (now + LOCAL).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (local_month - timedelta(days=1)).replace(day=1)
    edge = last_month - LOCAL  # where last month began, in UTC: well in the past whatever today is
    seeded = seed(store, 30, now=edge + timedelta(hours=2))  # packets from ~3 h before the edge to 2 h after
    since = (last_month - timedelta(days=1)).replace(day=1) - LOCAL  # the month before the edge
    until = edge + timedelta(days=40)
    admin = Operator("admin", "admin", ("*",), False)
    one = Operator("op", "operator", (AGENCY_A,), False)
    for late in (timedelta(minutes=30), timedelta(days=3650)):
        for who in (admin, one):
            direct = data.monthly(engine, who, since=since, until=until, late_after=late, kept=False)
            assert data.monthly(engine, who, since=since, until=until, late_after=late) == direct  # counted, kept
            assert data.monthly(engine, who, since=since, until=until, late_after=late) == direct  # from the rows
            assert len({r.month for r in direct if r.received}) == 2  # packets on both sides of the edge
        everything = data.monthly(engine, admin, since=since, until=until, late_after=late)
        assert sum(r.received for r in everything) == seeded.packets
        assert sum(r.delivered for r in everything) == seeded.delivered
    with engine.connect() as connection:
        kept = connection.execute(sa.select(sa.func.count()).select_from(console_hours)
                                  .where(console_hours.c.agency != "")).scalar_one()
    assert kept > 0


def test_open_hours_are_counted_live(store: Store) -> None:
    engine = store.engine
    now = datetime.now(UTC)
    seed(store, 4, now=now)
    since = (now + LOCAL).replace(day=1, hour=0, minute=0, second=0, microsecond=0) - LOCAL
    admin = Operator("admin", "admin", ("*",), False)
    report = data.monthly(engine, admin, since=since, until=now + timedelta(days=1), late_after=timedelta(hours=1))
    assert sum(r.received for r in report) == 8
    with engine.connect() as connection:
        latest = connection.execute(sa.select(sa.func.max(console_hours.c.start))).scalar()
    assert latest is None or datetime.fromtimestamp(latest + 3600, UTC) <= now - data.CLOSED_AFTER
