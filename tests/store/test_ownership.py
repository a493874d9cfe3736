"""Dossier ownership in the store: the first packet's agency owns the dossier; the guard decides every
later packet inside the accepting transaction, also when two agencies create one dossier at the same
instant (threads on SQLite, processes' worth of connections on PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
import importlib
import threading

import sqlalchemy as sa

from gateway.receive.ownership import Ownership
from gateway.store import BatchNotAdmitted, NewPacket, Store, open_store
from tests.store.test_store import packet

A, B, C = "000.00.01.H22", "000.00.02.H22", "000.00.03.H22"
OWNERSHIP = Ownership({A: frozenset({C})})  # A hands its dossiers over to C


def sent(agency: str, dossier: str = "000.00.01.H22-241201-0001", status: int | None = 2) -> NewPacket:
    return replace(packet(dossier), agency=agency, acts_for=frozenset({agency}), status=status)


def test_the_first_packet_records_its_agency_and_other_agencies_are_refused(store: Store) -> None:
    assert store.dossier_owner("000.00.01.H22-241201-0001") is None
    assert not store.accept_many([(sent(A), ["portal"])], guard=OWNERSHIP.guard)[0].refused
    assert store.dossier_owner("000.00.01.H22-241201-0001") == A
    refused = store.accept_many([(sent(B, status=8), ["portal"])], guard=OWNERSHIP.guard)[0].refused
    assert refused is not None and refused["error"] == "auth.dossier" and "8" not in str(refused)
    handed = store.accept_many([(sent(C, status=4), ["portal"])], guard=OWNERSHIP.guard)[0]
    assert handed.refused is None and handed.destinations == ["portal"]
    assert store.dossier_owner("000.00.01.H22-241201-0001") == A  # a later packet never changes the owner
    assert store.counts() == {"portal": {"pending": 2}}


def test_a_refused_packet_of_a_whole_batch_leaves_no_owner_behind(store: Store) -> None:
    store.accept(sent(A, "D-A"), ["portal"])
    try:
        store.accept_many([(sent(B, "D-B"), ["portal"]), (sent(B, "D-A"), ["portal"])], guard=OWNERSHIP.guard,
                          whole=True)
        raise AssertionError("not refused")
    except BatchNotAdmitted as refused:
        assert list(refused.refusals.values())[0]["error"] == "auth.dossier"
    assert store.dossier_owner("D-B") is None


def test_two_agencies_creating_one_dossier_at_the_same_instant_get_one_owner(store_url: str) -> None:
    stores = [open_store(store_url), open_store(store_url)]  # two pools, as two processes would have
    try:
        for round_ in range(8):
            dossier = f"race-{round_}"
            start = threading.Barrier(2)

            def send(index: int) -> bool:
                agency = (A, B)[index]
                start.wait()  # noqa: B023 - the threads finish in this iteration
                result = stores[index].accept_many([(sent(agency, dossier, status=1), ["portal"])],  # noqa: B023 - the threads finish in this iteration
                                                   guard=OWNERSHIP.guard)[0]
                return result.refused is None

            with ThreadPoolExecutor(2) as pool:
                accepted = list(pool.map(send, range(2)))
            assert accepted.count(True) == 1, accepted
            winner = (A, B)[accepted.index(True)]
            assert stores[0].dossier_owner(dossier) == winner
    finally:
        for opened in stores:
            opened.close()


def test_the_migration_gives_existing_dossiers_their_first_packets_agency(store: Store) -> None:
    """What 0008 does to a store written before it: the owner is the earliest packet's agency."""
    from gateway.store.tables import dossiers

    store.accept(sent(B, "old"), ["portal"])
    store.accept(replace(sent(A, "old"), received_at=packet("old").received_at.replace(hour=1)), ["portal"])
    backfill = importlib.import_module("gateway.store.migrations.versions.0008_dossier_owner").BACKFILL
    with store.engine.begin() as connection:
        connection.execute(dossiers.delete())
        connection.execute(sa.text(backfill))
    assert store.dossier_owner("old") == A
