"""PostgreSQL leases tied to the worker's session: another worker takes them only when the session has
ended AND their heartbeat is stale. A dead worker's jobs go within about a second; a live worker whose
holding connection dropped for a moment keeps them (its calls in flight are not sent twice)."""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

from gateway.store.api import JobState, open_store
from gateway.store.statements import STALE_SECONDS, session_name

from tests.store.test_store import packet

DEST = "portal"

pytestmark = pytest.mark.postgres


def end_session(store, worker: str) -> None:
    """What a network blip or an operator's pg_terminate_backend does to the worker's holding session."""
    libpq = make_url(store.engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                              (session_name(worker),)).fetchall()
    assert ended == [(True,)], "the holding session was found and ended"


def test_a_session_tied_lease_is_taken_only_when_the_session_ended_and_the_heartbeat_is_stale(postgres_url):
    store = open_store(postgres_url)
    try:
        store.accept(packet("HS-1", packet_id="p1"), [DEST])
        store.hold_session("a")
        t0 = datetime.now(UTC)
        (batch,) = store.claim(DEST, "a", limit=1, max_batch=1, lease_seconds=30, now=t0)
        assert "#~" in batch[0].holder, "tied to a's session"
        stale = t0 + timedelta(seconds=STALE_SECONDS + 0.2)
        # the session alive: a stale heartbeat alone frees nothing before the lease ends
        assert store.claim(DEST, "b", limit=1, max_batch=1, lease_seconds=30, now=stale) == []
        end_session(store, "a")
        # the session gone, the heartbeat fresh (a live worker's connection dropped): still a's
        assert store.claim(DEST, "b", limit=1, max_batch=1, lease_seconds=30,
                          now=t0 + timedelta(seconds=STALE_SECONDS / 2)) == []
        # a's heartbeat goes on through its other connections: still a's past the stale bound
        assert store.extend_leases([(batch[0].job_id, batch[0].holder)], 30, t0 + timedelta(seconds=STALE_SECONDS)) == 1
        assert store.claim(DEST, "b", limit=1, max_batch=1, lease_seconds=30, now=stale) == []
        # the session gone and the heartbeat stale (the worker died): b takes it, long before the lease ends
        later = t0 + timedelta(seconds=2 * STALE_SECONDS + 0.2)
        (taken,) = store.claim(DEST, "b", limit=1, max_batch=1, lease_seconds=30, now=later)
        assert taken[0].job_id == batch[0].job_id and taken[0].holder.startswith("b#")
        assert store.get_job(batch[0].job_id).state is JobState.LEASED
    finally:
        store.close()


def test_a_dead_workers_whole_batch_travels_with_its_head(postgres_url):
    """The jobs behind the head of a dead worker's batch are free as the head is: one claim takes them all
    (they used to come back one job per claim, seconds of recovery with a slow peer)."""
    store = open_store(postgres_url)
    try:
        for n in range(4):
            store.accept(packet("HS-1", packet_id=f"p{n}"), [DEST])
        store.hold_session("a")
        t0 = datetime.now(UTC)
        (batch,) = store.claim(DEST, "a", limit=1, max_batch=4, lease_seconds=30, now=t0)
        assert len(batch) == 4
        end_session(store, "a")
        (taken,) = store.claim(DEST, "b", limit=1, max_batch=4, lease_seconds=30,
                               now=t0 + timedelta(seconds=STALE_SECONDS + 0.2))
        assert [job.job_id for job in taken] == [job.job_id for job in batch]
    finally:
        store.close()
