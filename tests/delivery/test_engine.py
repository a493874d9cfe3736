"""The delivery engine against a real local destination over HTTP, on SQLite and PostgreSQL."""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import time

from gateway.deliver.traffic import Packet
from gateway.store.api import BreakerState, JobFilter, JobState

DEST = "dest"


def expected_order(packets: list[Packet]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for p in packets:
        order[p.dossier].append(p.packet_id)
    return dict(order)


def first_arrivals(deliveries: list[dict]) -> dict[str, list[str]]:
    """Per dossier, the keys in the order they first arrived (repeats carry the same key)."""
    seen: set[str] = set()
    order: dict[str, list[str]] = defaultdict(list)
    for d in deliveries:
        if d["key"] not in seen:
            seen.add(d["key"])
            order[d["dossier"]].append(d["key"])
    return dict(order)


def all_delivered(store, count: int):
    return lambda: store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED)) == count


# The bucket's grants are exact, but a call reaches the peer a little after its token (thread
# scheduling, the transform, HTTP): on a busy machine one second at the receiver can hold calls
# granted up to this much earlier.
ARRIVAL_JITTER_SECONDS = 0.1


def assert_rate_kept(arrivals: list[float], rate: float, burst: int) -> None:
    """At most ``burst + rate × (1 s + jitter)`` calls in any second, and the whole run no faster
    than the rate allows."""
    arrivals = sorted(arrivals)
    worst = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    bound = burst + rate * (1 + ARRIVAL_JITTER_SECONDS)
    assert worst <= bound, f"{worst} calls in one second, rate {rate}/s burst {burst}"
    shortest = (len(arrivals) - burst) / rate - ARRIVAL_JITTER_SECONDS
    assert arrivals[-1] - arrivals[0] >= shortest, f"{len(arrivals)} calls in {arrivals[-1] - arrivals[0]:.2f} s"


def test_dossiers_in_order_in_parallel_and_batched(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(latency_ms=20)  # calls last long enough to overlap
    packets = list(traffic.interleaved(dossiers=30, steps=5))
    feed(packets)
    engines(policy(concurrency=4, max_batch=3))
    until(all_delivered(store, len(packets)), what="every job delivered")
    deliveries = peer.deliveries()
    assert first_arrivals(deliveries) == expected_order(packets)
    assert len(deliveries) == len(packets), "no fault, so no repeat"
    assert peer.state.dossier_overlaps == 0 and peer.state.key_overlaps == 0
    assert peer.state.max_in_flight > 1, "different dossiers travel in parallel"
    assert max(d["batch"] for d in deliveries) > 1, "consecutive steps of a dossier share a call"
    assert max(d["batch"] for d in deliveries) <= 3


def test_transient_faults_are_retried_until_delivered_in_order(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(error_rate=0.25, throttle_rate=0.1, retry_after=0.05, reset_rate=0.1, malformed_rate=0.15,
                    seed=11)
    packets = list(traffic.interleaved(dossiers=12, steps=4))
    feed(packets)
    engines(policy(concurrency=4, max_batch=2))
    until(all_delivered(store, len(packets)), what="every job delivered despite faults")
    deliveries = peer.deliveries()
    assert first_arrivals(deliveries) == expected_order(packets)
    answers = peer.state.answered
    assert answers.get("500") and answers.get("429") and answers.get("reset") and answers.get("malformed")
    by_key = defaultdict(set)
    for d in deliveries:
        by_key[d["key"]].add(d["sha256"])
    assert all(len(hashes) == 1 for hashes in by_key.values()), "a repeat is the same packet under the same key"
    retried = [j for j in store.find_jobs(JobFilter(destination=DEST, limit=1000)) if j.attempts > 1]
    assert retried, "some jobs needed more than one attempt"
    log = store.get_job(retried[0].job_id).attempt_log
    assert [a.outcome for a in log][-1] == "delivered" and "transient" in [a.outcome for a in log]


def test_timeouts_and_slowness(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(timeout_rate=0.3, hang_seconds=1.5, latency_ms=60, seed=3)
    packets = list(traffic.interleaved(dossiers=6, steps=3))
    feed(packets)
    engines(policy(timeout_seconds=0.5, concurrency=6))
    until(all_delivered(store, len(packets)), timeout=60, what="delivery despite timeouts")
    deliveries = peer.deliveries()
    assert first_arrivals(deliveries) == expected_order(packets)
    assert len(deliveries) > len(packets), "a timed-out call the peer had taken is sent again"
    attempts = [a for j in store.find_jobs(JobFilter(destination=DEST, limit=100))
                for a in store.get_job(j.job_id).attempt_log]
    assert any("timeout" in a.message for a in attempts if a.outcome == "transient")
    assert all(a.duration_ms >= 60 for a in attempts), "every call waited for the slow peer"


def test_permanent_refusal_dead_letter_holds_its_dossier_then_replay(store, feed, traffic, peer, policy, engines,
                                                                      until):
    blocked, other = traffic.dossier(1, 3), traffic.dossier(2, 3)
    refused = blocked[1]
    peer.set_faults(reject_keys=[refused.packet_id])
    feed(blocked + other)
    engines(policy())
    job_id = f"{refused.packet_id}/{DEST}"
    until(lambda: store.get_job(job_id).state is JobState.DEAD, what="the refused job dead-lettered")
    until(lambda: {d["key"] for d in peer.deliveries()} >= {p.packet_id for p in other}, what="other dossier")
    time.sleep(0.3)
    delivered = [d["key"] for d in peer.deliveries()]
    assert blocked[0].packet_id in delivered and blocked[2].packet_id not in delivered, "held behind the dead job"
    dead = store.get_job(job_id)
    assert dead.attempts == 1 and "từ chối" in dead.last_error and dead.attempt_log[0].peer_status == "422"
    assert [j.job_id for j in store.find_jobs(JobFilter(state=JobState.DEAD, reason="refused"))] == [job_id]

    peer.clear_faults()  # the mapping was corrected at the destination
    assert store.replay(JobFilter(destination=DEST, state=JobState.DEAD), "tester", "fixed", dry_run=True) == 1
    assert store.get_job(job_id).state is JobState.DEAD, "a dry run changes nothing"
    assert store.replay([job_id], "tester", "destination fixed its mapping") == 1
    until(all_delivered(store, len(blocked + other)), what="replayed job and its followers delivered")
    assert first_arrivals(peer.deliveries())[refused.dossier] == [p.packet_id for p in blocked]
    replayed = store.get_job(job_id)
    assert replayed.attempts == 2 and [a.outcome for a in replayed.attempt_log] == ["permanent", "delivered"]
    assert any(row["action"] == "replay" or "replay" in str(row) for row in store.audit_log(limit=50))


def test_skip_policy_lets_later_steps_pass_a_dead_job(store, feed, traffic, peer, policy, engines, until):
    packets = traffic.dossier(1, 3)
    peer.set_faults(reject_keys=[packets[1].packet_id])
    feed(packets)
    engines(policy(on_dead="skip"))
    until(lambda: store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED)) == 3, what="skip")
    assert first_arrivals(peer.deliveries())[packets[0].dossier] == [packets[0].packet_id, packets[2].packet_id,
                                                                      packets[3].packet_id]


def test_attempts_are_bounded_then_dead_letter(store, feed, traffic, peer, policy, engines, until):
    packets = traffic.dossier(1, 0)
    peer.set_faults(error_rate=1.0)
    feed(packets)
    engines(policy(max_attempts=3))
    job_id = f"{packets[0].packet_id}/{DEST}"
    until(lambda: store.get_job(job_id).state is JobState.DEAD, what="dead after 3 attempts")
    job = store.get_job(job_id)
    assert job.attempts == 3 and [a.peer_status for a in job.attempt_log] == ["500"] * 3
    assert "3" in job.last_error


def test_age_bound_dead_letters_an_old_job(store, feed, traffic, peer, policy, engines, until):
    packets = traffic.dossier(1, 0)
    peer.set_faults(error_rate=1.0)
    feed(packets)
    time.sleep(0.3)
    engines(policy(max_age_hours=0.2 / 3600))
    job_id = f"{packets[0].packet_id}/{DEST}"
    until(lambda: store.get_job(job_id).state is JobState.DEAD, what="dead for its age")
    assert store.get_job(job_id).attempts == 1


def test_circuit_opens_probes_and_recovers(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(error_rate=1.0)
    packets = list(traffic.interleaved(dossiers=10, steps=1))
    feed(packets)
    engines(policy(breaker_threshold=3, breaker_cooldown_seconds=0.6, concurrency=1))
    until(lambda: store.destination_state(DEST).breaker_state is BreakerState.OPEN, what="circuit open")
    opened = store.destination_state(DEST).breaker_opened_at.timestamp()
    time.sleep(1.0)
    # Timed from the breaker's own opening (in the store), not from when this test noticed it.
    calls = list(peer.state.call_times)
    assert not [t for t in calls if opened + 0.05 < t < opened + 0.55], "no call while the circuit is open"
    assert 1 <= len([t for t in calls if t >= opened + 0.55]) <= 2, "after the cool-down, a probe (it fails, reopens)"
    peer.clear_faults()
    until(all_delivered(store, len(packets)), what="recovery")
    assert store.destination_state(DEST).breaker_state is BreakerState.CLOSED
    assert first_arrivals(peer.deliveries()) == expected_order(packets)


def test_pause_and_resume_burn_no_attempts(store, feed, traffic, peer, policy, engines, until):
    store.set_paused(DEST, True, "tester", "đối tác báo bảo trì / partner maintenance")
    packets = list(traffic.interleaved(dossiers=3, steps=2))
    feed(packets)
    engines(policy())
    time.sleep(0.5)
    assert peer.state.calls == 0
    assert all(j.attempts == 0 and j.state is JobState.PENDING
               for j in store.find_jobs(JobFilter(destination=DEST, limit=100)))
    store.set_paused(DEST, False, "tester", "xong / done")
    until(all_delivered(store, len(packets)), what="delivered after resume")
    assert all(j.attempts == 1 for j in store.find_jobs(JobFilter(destination=DEST, limit=100)))


def test_maintenance_window_burns_no_attempts(store, feed, traffic, peer, policy, engines, until):
    now = datetime.now(UTC)
    window = {"start_at": (now - timedelta(minutes=5)).isoformat(), "end_at": (now + timedelta(seconds=1.5)).isoformat(),
              "note": "nâng cấp / upgrade"}
    packets = traffic.dossier(1, 2)
    feed(packets)
    engines(policy(windows=[window]))
    time.sleep(0.8)
    assert peer.state.calls == 0, "nothing is sent during the window"
    until(all_delivered(store, len(packets)), what="delivered after the window")
    assert min(d["at"] for d in peer.deliveries()) >= (now + timedelta(seconds=1.5)).timestamp()
    assert all(j.attempts == 1 for j in store.find_jobs(JobFilter(destination=DEST, limit=100)))


def test_peer_maintenance_503_waits_for_retry_after(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(maintenance=True, retry_after=0.5)
    packets = traffic.dossier(1, 0)
    feed(packets)
    engines(policy())
    job_id = f"{packets[0].packet_id}/{DEST}"
    until(lambda: store.get_job(job_id).attempts >= 1, what="a first attempt")
    job = store.get_job(job_id)
    first = job.attempt_log[0]
    assert first.peer_status == "503" and job.next_attempt_at - first.started_at >= timedelta(seconds=0.5)
    peer.clear_faults()
    until(all_delivered(store, 1), what="delivered after maintenance")


def test_rate_and_concurrency_limits(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(latency_ms=30)
    packets = list(traffic.interleaved(dossiers=40, steps=0))
    feed(packets)
    engines(policy(rate_per_second=20.0, burst=2, concurrency=2))
    until(all_delivered(store, len(packets)), what="all delivered")
    assert_rate_kept([d["at"] for d in peer.deliveries()], rate=20.0, burst=2)
    assert peer.state.max_in_flight <= 2


def test_several_workers_share_one_rate_limit(store, feed, traffic, peer, policy, engines, until):
    """Two workers, each with its own connections to the store (as two processes have): together they
    keep to the destination's 20 calls/s, not 20 each."""
    from gateway.deliver.engine import Engine
    from gateway.store import open_store

    peer.set_faults(latency_ms=10)
    packets = list(traffic.interleaved(dossiers=60, steps=0))
    feed(packets)
    limited = policy(rate_per_second=20.0, burst=2, concurrency=4)
    engines(limited)
    other = open_store(store.url)
    second = Engine(other, {limited.name: limited}, poll_seconds=0.01, hold_check_seconds=0.05).start()
    try:
        until(all_delivered(store, len(packets)), what="all delivered", timeout=30)
    finally:
        second.stop()
        other.close()
    arrivals = [d["at"] for d in peer.deliveries()]
    assert len(arrivals) == len(packets)
    assert_rate_kept(arrivals, rate=20.0, burst=2)  # 20 each would be some 40 calls a second


def test_leases_are_renewed_during_a_long_call(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(latency_ms=1500)
    packets = list(traffic.interleaved(dossiers=3, steps=0))
    feed(packets)
    # past the configuration check, which refuses a lease shorter than the timeout
    slow = replace(policy(timeout_seconds=3.0, lease_seconds=3.0), lease_seconds=0.6)
    engines(slow)
    engines(slow)  # a second worker would take the jobs if the leases lapsed
    until(all_delivered(store, len(packets)), what="all delivered")
    assert len(peer.deliveries()) == len(packets) and peer.state.key_overlaps == 0


def test_stop_releases_unsent_jobs_without_an_attempt(store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(latency_ms=400)
    packets = list(traffic.interleaved(dossiers=8, steps=0))
    feed(packets)
    engine = engines(policy(concurrency=2, rate_per_second=1.0, burst=1))
    until(lambda: peer.state.calls >= 1, what="a call in flight")
    engine.stop()
    jobs = store.find_jobs(JobFilter(destination=DEST, limit=100))
    assert not [j for j in jobs if j.state is JobState.LEASED], "nothing left leased after a clean stop"
    delivered = {d["key"] for d in peer.deliveries()}
    assert all((j.attempts == 0) == (j.packet_id not in delivered) for j in jobs)
    assert len(delivered) < len(packets)


def test_an_idle_worker_is_woken_by_new_jobs_not_by_its_poll(store_url, store, traffic, peer, policy, engines, until):
    """With the fallback poll far longer than the test may take, what an API process accepts after the
    worker went idle is still delivered, every step of each dossier in order: the accept wakes the
    worker (NOTIFY / SQLite's change counter), and each delivered step wakes it for the next."""
    from gateway.store import open_store

    engines(policy(concurrency=4), poll_seconds=600)
    time.sleep(0.3)  # its first claims found nothing: it waits now
    packets = list(traffic.interleaved(dossiers=4, steps=5))
    api = open_store(store_url)  # another process's store
    try:
        for p in packets:
            api.accept(p.stored(), [DEST])
    finally:
        api.close()
    until(all_delivered(store, len(packets)), timeout=60, what="every job delivered without a poll")
    assert first_arrivals(peer.deliveries()) == expected_order(packets)
