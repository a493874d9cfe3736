"""The sync-quality view read from each dossier's kept path (dossier_sync, written by the intake) is the view read
from every packet: for every operator and period, after hand-overs, late arrivals, straddled periods and purges;
and the paths kept packet by packet are those read again from the packets (what migration 0018 fills)."""

from datetime import UTC, datetime, timedelta
import hashlib
import json

import pytest
import sqlalchemy as sa

from gateway.console import data
from gateway.console.accounts import Operator
from gateway.console.web import quality_rules
from gateway.store import NewPacket, Store, dossier_sync
from gateway.store.tables import dossier_sync as sync_table, dossier_sync_agencies
from tests.console.conftest import console_config
from tests.console.seed import AGENCY_A, AGENCY_B, EXAMPLE

pytestmark = pytest.mark.postgres
NOW = datetime.now(UTC).replace(microsecond=0)
COUNT = [0]


def step(dossier: str, agency: str, days_ago: float, status: int | None, kind: str = "HoSo",
         end: str | None = None, due: str | None = None) -> NewPacket:
    COUNT[0] += 1
    body = json.loads(json.dumps(EXAMPLE))
    body["MaGoiTin"], body["NoiGui"], body["LoaiGoiTin"] = f"q-{COUNT[0]:06d}", agency, kind
    hoso = body["NoiDung"]["HoSo"]
    hoso["MaHoSo"] = dossier
    for name, value in (("NgayKetThucXuLy", end), ("NgayHenTra", due)):
        hoso.pop(name, None)
        if value is not None:
            hoso[name] = value
    raw = json.dumps(body, ensure_ascii=False).encode()
    return NewPacket(body["MaGoiTin"], hashlib.sha256(raw).hexdigest(), raw, "json", "motcua", NOW - timedelta(days=days_ago),
                     kind, dossier, {"validation": {"valid": True}}, agency=agency, status=status)


def kept_rows(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with store.engine.connect() as connection:
        return ([tuple(r) for r in connection.execute(sa.select(sync_table).order_by(sync_table.c.dossier))],
                [tuple(r) for r in connection.execute(sa.select(dossier_sync_agencies)
                                                      .order_by(dossier_sync_agencies.c.dossier,
                                                                dossier_sync_agencies.c.agency))])


def test_kept_paths_give_the_view_read_from_the_packets(store: Store, store_url: str) -> None:
    engine = store.engine
    rules = quality_rules(console_config(store_url))
    a, b = f"{AGENCY_A}-q", f"{AGENCY_B}-q"
    batches = [
        [step(a + "1", AGENCY_A, 9, 1), step(a + "1", AGENCY_A, 8, 2, "TienDoXuLy"), step(a + "1", AGENCY_A, 7, 4),
         step(a + "1", AGENCY_A, 6, 7, end="20261101120000", due="20261102120000")],  # complete, on time
        [step(a + "2", AGENCY_A, 20, 1), step(a + "2", AGENCY_A, 19, 4), step(a + "2", AGENCY_A, 18, 2,
                                                                           end="20261103000000", due="20261102000000")],
        [step(b + "3", AGENCY_B, 3, 1, end="20261101", due="20261101")],  # backwards above; on time (equal) here
        [step(a + "4", AGENCY_A, 5, 1), step(a + "4", AGENCY_B, 2, 2, "TienDoXuLy")],  # handed over to B
        [step(a + "5", AGENCY_A, 4, 1, end="20261101", due="20261130")],  # purged below
        [step(b + "6", AGENCY_B, 2, 2, "TienDoXuLy")],
        [step(b + "6", AGENCY_B, 2.5, 1, end="20261105", due="20261101")],  # arrives after a later packet
        [step(a + "7", AGENCY_A, 50, 1), step(a + "7", AGENCY_A, 1, 2, "TienDoXuLy")],  # straddles [-45, -30)
        [step(a + "8", AGENCY_A, 50, 1), step(a + "8", AGENCY_A, 40, None, "TienDoXuLy"),
         step(a + "8", AGENCY_A, 1, 3, "TienDoXuLy")],
        [step(b + "9", AGENCY_B, 40, 1, end="20261001", due="20261002")],  # silent for weeks
        [step(a + "10", AGENCY_A, 30, 1, end="20261001", due="20261002"), step(a + "10", AGENCY_A, 29, 2, "TienDoXuLy")],
    ]
    for batch in batches:
        store.accept_many([(p, []) for p in batch])
    store.purge_dossier(a + "5", "test", "asked")
    periods = [(NOW - timedelta(days=45), NOW + timedelta(days=1)), (NOW - timedelta(days=45), NOW - timedelta(days=30)),
               (NOW - timedelta(days=10), NOW - timedelta(days=4)), (NOW - timedelta(days=3), NOW)]
    operators = [Operator("admin", "admin", ("*",), False), Operator("a", "operator", (AGENCY_A,), False),
                 Operator("b", "operator", (AGENCY_B,), False)]

    def compare() -> data.Quality:
        for since, until in periods:
            for who in operators:
                read = data.quality(engine, who, since=since, until=until, now=NOW, kept=False, **rules)
                assert data.quality(engine, who, since=since, until=until, now=NOW, **rules) == read, (who, since)
        return data.quality(engine, operators[0], since=periods[0][0], until=periods[0][1], now=NOW, **rules)

    whole = compare()
    assert whole.dossiers == 10 and whole.backwards == [a + "2"] and whole.stale == sorted([a + "10", a + "2", b + "9"])
    assert (whole.terminal, whole.steps_complete, whole.finished, whole.on_time) == (2, 2, 6, 4)
    straddled = data.quality(engine, operators[0], since=periods[1][0], until=periods[1][1], now=NOW, **rules)
    assert straddled.dossiers == 2  # a8 (a packet 40 days ago) and b9; not a7 (50 days and one day ago)
    assert data.quality(engine, operators[2], since=periods[3][0], until=periods[3][1], now=NOW, **rules).dossiers == 3
    kept = kept_rows(store)
    with engine.begin() as connection:  # what migration 0018 does: every path read again from the packets
        assert dossier_sync.rebuild(connection, lambda _id, raw: raw) == 10
    assert kept_rows(store) == kept
    store.purge_delivered(NOW - timedelta(days=15))  # no job holds them: the contents of older packets go
    after = compare()
    assert (after.finished, after.on_time) == (3, 2)  # a2's, b9's and a10's HoSo purged
