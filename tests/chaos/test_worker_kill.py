"""Recovery after a worker is killed: under ``gateway worker --processes 2`` with the default 30 s lease,
a child SIGKILLed in the middle of its calls does not hold its dossiers for the lease — the supervisor
sees it end and gives its jobs back, and they are delivered by the survivor or the replacement.
Measured on both stores; the bound asserted is far above the goal (2 s) and far below the lease, so a
loaded machine does not fail it while a lease wait would; the figure is printed (bench/README.md)."""

from datetime import UTC, datetime
import os
import re
import signal
import time

import pytest

from gateway.deliver.engine import worker_prefix
from gateway.deliver.traffic import Traffic
from gateway.store.api import JobFilter, JobState, open_store

from tests.delivery.test_crash import DEST, GATEWAY, Process, children_of, supervised, wait_until, write_config

LEASE_SECONDS = 30.0
BOUND_SECONDS = 10.0  # the goal is 2 s (median reported); a lease wait would be 30; a loaded machine varies


def held_by(store, pid: int) -> list[str]:
    prefix = worker_prefix(pid)
    return [job.job_id for job in store.find_jobs(JobFilter(destination=DEST, state=JobState.LEASED, limit=10000))
            if (job.lease_owner or "").startswith(prefix)]


def taken_up(store, job_ids: list[str], pid: int):
    """Whether every one of ``job_ids`` is delivered or held by a live worker now (one query: a job at a
    time cost the check up to a second under load, which the figure then counted)."""
    prefix, wanted = worker_prefix(pid), set(job_ids)

    def check() -> bool:
        jobs = [job for job in store.find_jobs(JobFilter(destination=DEST, limit=100000)) if job.job_id in wanted]
        return len(jobs) == len(wanted) and all(
            job.state is JobState.DELIVERED or
            (job.state is JobState.LEASED and not (job.lease_owner or "").startswith(prefix)) for job in jobs)

    return check


def test_a_killed_workers_dossiers_resume_long_before_its_lease_ends(store, peer, tmp_path):
    config = write_config(tmp_path / "gateway.toml", store.url, peer, "unused", lease_seconds=LEASE_SECONDS)
    peer.set_faults(latency_ms=150)
    packets = list(Traffic(seed=19).interleaved(dossiers=60, steps=6))
    supervisor = supervised(store, packets, config, tmp_path / "supervisor.log")
    assert supervisor.proc is not None
    delivered = JobFilter(destination=DEST, state=JobState.DELIVERED)
    try:
        victim = next(pid for pid in children_of(supervisor.proc.pid) if held_by(store, pid))
        os.kill(victim, signal.SIGKILL)
        killed, killed_at = time.monotonic(), datetime.now()
        held = held_by(store, victim)  # what it held when it died (settled in flight are not counted)
        assert held, "the victim held jobs when it was killed"
        wait_until(taken_up(store, held, victim), 25, "the killed worker's jobs taken up again")
        resumed = time.monotonic() - killed
        wait_until(lambda: all(store.get_job(job_id).state is JobState.DELIVERED for job_id in held), 25,
                   "the killed worker's jobs delivered")
        finished = time.monotonic() - killed
        wait_until(lambda: store.count_jobs(delivered) == len(packets), 120, "every job delivered")
    finally:
        exit_code = supervisor.stop()
    print(f"\n{store.url.split(':')[0]}: {len(held)} jobs held by the killed worker taken up again {resumed:.2f} s "
          f"and all delivered {finished:.2f} s after SIGKILL (lease {LEASE_SECONDS:g} s), "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    given_back = re.search(rf"^(\S+ \S+) WARNING gateway.supervise worker process {victim} ended",
                           supervisor.log.read_text(), re.M)
    if given_back:  # the supervisor's part of the figure (its log is in local time, as datetime.now())
        at = datetime.strptime(given_back.group(1), "%Y-%m-%d %H:%M:%S,%f")
        print(f"  the supervisor gave them back {(at - killed_at).total_seconds():.2f} s after SIGKILL")
    assert exit_code == 0
    assert resumed < BOUND_SECONDS, f"resumed after {resumed:.1f} s: the lease was waited out"
    assert "jobs given back" in supervisor.log.read_text()


@pytest.mark.postgres
def test_on_postgres_a_killed_standalone_workers_leases_end_with_its_session(postgres_url, peer, tmp_path):
    """Two ``gateway worker`` processes, no supervisor: the leases of the one SIGKILLed are tied to its
    database session, which the server ends when the process dies; the other takes its jobs at once."""
    store = open_store(postgres_url)
    config = write_config(tmp_path / "gateway.toml", postgres_url, peer, "unused", lease_seconds=LEASE_SECONDS)
    peer.set_faults(latency_ms=150)
    packets = list(Traffic(seed=20).interleaved(dossiers=60, steps=6))
    for packet in packets:
        store.accept(packet.stored(), [DEST])
    env = {**os.environ, "GATEWAY_CONFIG": str(config)}
    workers = [Process(name, [*GATEWAY, "worker", "--name", name], env, tmp_path / f"{name}.log")
               for name in ("alone-a", "alone-b")]
    delivered = JobFilter(destination=DEST, state=JobState.DELIVERED)

    def held_by_a() -> list[str]:
        return [job.job_id for job in store.find_jobs(JobFilter(destination=DEST, state=JobState.LEASED, limit=10000))
                if (job.lease_owner or "").startswith("alone-a#")]

    try:
        for worker in workers:
            worker.start()
        wait_until(lambda: store.count_jobs(delivered) > 20 and bool(held_by_a()), 60, "both workers delivering")
        workers[0].kill()
        killed = time.monotonic()
        held = held_by_a()
        assert held, "the victim held jobs when it was killed"
        wait_until(lambda: not set(held) & set(held_by_a()), 25, "the killed worker's jobs taken up again")
        resumed = time.monotonic() - killed
        wait_until(lambda: store.count_jobs(delivered) == len(packets), 120, "every job delivered")
        print(f"\npostgresql, no supervisor: {len(held)} jobs held by the killed worker taken up again "
              f"{resumed:.2f} s after SIGKILL (lease {LEASE_SECONDS:g} s)")
        assert resumed < BOUND_SECONDS, f"resumed after {resumed:.1f} s: the lease was waited out"
    finally:
        assert workers[1].stop() == 0
        store.close()
