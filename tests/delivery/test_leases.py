"""Leases that cannot be outlived: a claim is covered by the heartbeat from the moment it is made (not
only while its call is in flight), it is identified by its own token, and a lease shorter than the
connector's timeout does not pass the configuration check."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.config import ConfigError
from gateway.deliver.policy import policy_from
from gateway.store.api import AttemptRecord, JobFilter, JobState

from tests.delivery.test_engine import DEST, all_delivered


def test_a_lease_shorter_than_the_timeout_is_a_configuration_error():
    with pytest.raises(ConfigError, match="lease_seconds"):
        policy_from(DEST, {"url": "http://127.0.0.1:1", "timeout_seconds": 2.0, "lease_seconds": 1.5})
    assert policy_from(DEST, {"url": "http://127.0.0.1:1", "timeout_seconds": 2.0, "lease_seconds": 2.5})


def test_batches_waiting_for_a_slot_keep_their_lease(store, feed, traffic, peer, policy, engines, until):
    """1.5 s lease, 2 s timeout, calls of 1.7 s: the batches claimed behind the calls in flight wait longer
    than their lease. Before the heartbeat covered them, the worker claimed them again and sent the same
    job twice (here it is built past the configuration check, which refuses such a lease)."""
    peer.set_faults(latency_ms=1700)
    packets = list(traffic.interleaved(dossiers=8, steps=0))
    feed(packets)
    engines(replace(policy(concurrency=2, timeout_seconds=2.0), lease_seconds=1.5))
    until(all_delivered(store, len(packets)), timeout=60, what="all delivered")
    keys = [d["key"] for d in peer.deliveries()]
    assert sorted(keys) == sorted(p.packet_id for p in packets), "each job sent exactly once"
    assert peer.state.key_overlaps == 0
    assert {j.attempts for j in store.find_jobs(JobFilter(destination=DEST, limit=100))} == {1}


def test_a_claim_is_identified_by_its_token_not_only_the_worker(store, feed, traffic):
    """The same worker claims a job, its lease lapses and it claims the job again: the first claim can
    no longer settle, extend or release it; the second can."""
    feed(list(traffic.interleaved(dossiers=1, steps=0)))
    now = datetime.now(UTC)
    (first,) = store.claim(DEST, "w", limit=1, max_batch=1, lease_seconds=0.01, now=now)
    (second,) = store.claim(DEST, "w", limit=1, max_batch=1, lease_seconds=30, now=now + timedelta(seconds=1))
    old, new = first[0], second[0]
    assert old.job_id == new.job_id and old.holder != new.holder
    attempt = AttemptRecord(datetime.now(UTC), 5, "delivered", "200")
    assert store.extend_lease([old.job_id], old.holder, 30, datetime.now(UTC)) == 0
    assert store.release([old.job_id], old.holder) == 0
    assert store.complete_each([(old.job_id, attempt)], old.holder) == [False]
    assert store.get_job(old.job_id).state is JobState.LEASED
    assert store.complete_each([(new.job_id, attempt)], new.holder) == [True]
    assert store.get_job(new.job_id).attempts == 1


@pytest.mark.parametrize("name", ["portal#1", "#", "a b#c", "   ", "tab\there"])
def test_a_worker_name_that_would_break_claim_tokens_is_refused_at_start_up(store, name):
    """A holder is "<worker>#<token>": a '#' in the name would let the worker "a" settle the claims of a
    worker "a#b" and the audit name the wrong worker. The engine refuses it before it claims anything;
    the CLI says so in both languages and exits 2."""
    from typer.testing import CliRunner

    from gateway.cli import app
    from gateway.deliver.engine import Engine

    with pytest.raises(ValueError, match="worker name"):
        Engine(store, {}, worker=name)
    result = CliRunner().invoke(app, ["worker", "--store", store.url, "--name", name])
    assert result.exit_code == 2
    assert "tên tiến trình chuyển tiếp" in result.output and "worker name" in result.output


def test_an_ordinary_worker_name_is_accepted(store):
    from gateway.deliver.engine import Engine, check_worker_name

    assert check_worker_name("cổng-1:máy.a/2") == "cổng-1:máy.a/2"
    engine = Engine(store, {}, worker="portal-1")
    assert engine.worker == "portal-1"


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_dropped_holding_session_of_a_live_worker_does_not_send_its_jobs_twice(store, feed, traffic, peer,
                                                                                  policy, engines, until):
    """PostgreSQL: worker a's holding session is ended (pg_terminate_backend) while a's calls of 2 s are in
    flight and worker b is claiming every 10 ms. a keeps beating through its other connections, so b does
    not take a's jobs; a reopens its session and every job is sent exactly once."""
    from tests.store.test_session_leases import end_session

    peer.set_faults(latency_ms=2000)
    packets = list(traffic.interleaved(dossiers=4, steps=0))
    feed(packets)
    slow = policy(concurrency=4, timeout_seconds=4.0, lease_seconds=30.0)
    engines(slow, worker="a")
    until(lambda: peer.state.in_flight == 4, timeout=30, what="a's four calls in flight")
    end_session(store, "a")
    engines(slow, worker="b")
    until(all_delivered(store, len(packets)), timeout=60, what="all delivered")
    keys = [d["key"] for d in peer.deliveries()]
    assert sorted(keys) == sorted(p.packet_id for p in packets), "each job sent exactly once"
    assert peer.state.key_overlaps == 0
    assert {j.attempts for j in store.find_jobs(JobFilter(destination=DEST, limit=100))} == {1}
