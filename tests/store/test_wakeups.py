"""Idle workers are woken by commits instead of polling the store: ``Store.job_signal`` on both stores.

A second store on the same URL stands for another process (the API); the signal's watcher has a
connection of its own, so every commit it reports came from elsewhere."""

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from gateway.store import AttemptRecord, JobFilter, Store, open_store
from gateway.store.wakeups import APPLICATION_NAME, JobSignal
from tests.conftest import fresh_schema
from tests.store.test_store import packet

DEST, OTHER = "national_portal", "postal"


@pytest.fixture
def signal(store: Store) -> JobSignal:
    signal = store.job_signal(0.01)
    assert signal.watching.wait(20), "the signal's watcher did not start"
    return signal


@pytest.fixture
def api(store_url: str) -> Iterator[Store]:
    other = open_store(store_url)
    yield other
    other.close()


def test_a_packet_accepted_elsewhere_wakes_its_destination(signal: JobSignal, api: Store) -> None:
    seen = signal.seen(DEST)
    api.accept(packet(), [DEST])
    assert signal.wait(DEST, seen, timeout=20), "not woken by the accept"


def test_nothing_committed_wakes_nobody(signal: JobSignal, api: Store) -> None:
    seen = signal.seen(DEST)
    assert api.find_jobs(JobFilter()) == []  # a read commits nothing
    assert not signal.wait(DEST, seen, timeout=0.3)


@pytest.mark.postgres
def test_postgres_wakes_only_its_own_stores_destinations_with_new_jobs(postgres_url: str,
                                                                        postgres_base_url: str) -> None:
    """NOTIFY names the schema and the destination: an accept for one destination does not wake
    another's runners, nor does a store in another schema of the same database wake this one."""
    with ExitStack() as stack:
        worker, api = open_store(postgres_url), open_store(postgres_url)
        neighbour = open_store(stack.enter_context(fresh_schema(postgres_base_url)))  # another gateway's store
        stack.callback(lambda: [store.close() for store in (worker, api, neighbour)])
        signal = worker.job_signal(0.01)
        assert signal.watching.wait(20)
        seen_other, seen = signal.seen(OTHER), signal.seen(DEST)
        neighbour.accept(packet(), [DEST])
        assert not signal.wait(DEST, seen, timeout=0.3), "woken by another store's accept"
        api.accept(packet(), [DEST])
        assert signal.wait(DEST, seen, timeout=20)
        assert not signal.wait(OTHER, seen_other, timeout=0.3)


def test_a_replayed_dead_letter_and_a_released_job_wake_their_destination(signal: JobSignal, api: Store) -> None:
    api.accept_many([(packet("D-replay"), [DEST]), (packet("D-release"), [DEST])])
    now = datetime.now(UTC)
    claimed = [job for batch in api.claim(DEST, "w1", limit=2, max_batch=1, lease_seconds=30, now=now)
               for job in batch]
    assert len(claimed) == 2
    api.dead_letter(claimed[0].job_id, "w1", AttemptRecord(now, 5, "permanent", "422", "refused"), "refused")
    seen = signal.seen(DEST)
    assert api.replay([claimed[0].job_id], "operator", "mapping fixed") == 1
    assert signal.wait(DEST, seen, timeout=20), "not woken by the replay"
    seen = signal.seen(DEST)
    assert api.release([claimed[1].job_id], "w1") == 1
    assert signal.wait(DEST, seen, timeout=20), "not woken by the release"


def test_closing_the_store_stops_the_watcher(store_url: str) -> None:
    store = open_store(store_url)
    signal = store.job_signal(0.01)
    assert signal.watching.wait(20)
    store.close()
    assert signal.closed.is_set() and not any(thread.is_alive() for thread in signal._watchers)


@pytest.mark.postgres
def test_the_listener_comes_back_after_its_connection_is_killed(postgres_url: str) -> None:
    """PostgreSQL ends the listening session (a restart, an operator's pg_terminate_backend): the watcher
    wakes every runner at once — they ask the store themselves — reconnects, and listens again."""
    import psycopg
    from sqlalchemy.engine import make_url

    worker, api = open_store(postgres_url), open_store(postgres_url)
    try:
        signal = worker.job_signal(0.01)
        assert signal.watching.wait(20)
        libpq = make_url(worker.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as admin:
            listeners = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                      (APPLICATION_NAME,)).fetchall()
            assert listeners, "no listening session found"
            signal.watching.clear()
            seen = signal.seen(DEST)
            for (pid,) in listeners:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert signal.wait(DEST, seen, timeout=20), "the lost listener did not wake the runners"
        assert signal.watching.wait(20), "the listener did not come back"
        seen = signal.seen(DEST)
        api.accept(packet(), [DEST])
        assert signal.wait(DEST, seen, timeout=20), "not woken after the reconnection"
    finally:
        worker.close(), api.close()
