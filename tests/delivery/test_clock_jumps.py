"""The machine's clock jumping forward and back during retries and leases. Each engine takes its wall
clock from a ``clock`` seam; here one worker's clock jumps an hour ahead, then an hour behind, while two
workers deliver through a destination that fails a third of its calls. Leases, retry due times and the
shared token bucket are reckoned on the store's clock (PostgreSQL's ``now()``, the store's process on
SQLite), and durations in-process on the monotonic clock, so the jumping worker neither takes the other's
leases (no job sent twice at once), nor leaves jobs due an hour late after jumping back."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import threading
import time

from gateway.deliver.breaker import CircuitBreaker
from gateway.store.api import BreakerState, JobFilter, JobState

from tests.delivery.test_engine import DEST, all_delivered


class JumpingClock:
    """Wall time (UTC) plus an offset that the test moves, as an NTP step or an operator would."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.lock = threading.Lock()

    def jump(self, to: timedelta) -> None:
        with self.lock:
            self.offset = to

    def __call__(self) -> datetime:
        with self.lock:
            return datetime.now(UTC) + self.offset


def test_a_workers_clock_jumping_an_hour_ahead_then_behind_sends_nothing_twice_and_leaves_nothing_late(
        store, feed, traffic, peer, policy, engines, until):
    peer.set_faults(latency_ms=120, error_rate=0.3, seed=19)
    packets = list(traffic.interleaved(dossiers=16, steps=6))
    feed(packets)
    chosen = policy(concurrency=3, max_batch=2, timeout_seconds=1.0, lease_seconds=3.0,
                    backoff_base_seconds=0.2, backoff_cap_seconds=1.0)
    jumping = JumpingClock()
    engines(chosen, worker="a", clock=jumping)
    engines(chosen, worker="b", clock=JumpingClock())
    delivered = JobFilter(destination=DEST, state=JobState.DELIVERED)
    until(lambda: store.count_jobs(delivered) >= 5, timeout=30, what="deliveries under way")
    jumping.jump(timedelta(hours=1))  # a's clock an hour ahead: b's leases look long expired to it
    time.sleep(1.5)
    jumping.jump(timedelta(hours=-1))  # then an hour behind: what a scheduled must not wait two hours
    started = time.monotonic()
    left = len(packets) - store.count_jobs(delivered)
    assert left > 10, "work is left after the jumps (else they tested nothing)"
    until(all_delivered(store, len(packets)), timeout=90, what="all delivered after the jumps")
    after_jump = time.monotonic() - started
    assert peer.state.key_overlaps == 0, "a job was sent twice at once"
    assert peer.state.dossier_overlaps == 0, "two steps of one dossier were in flight at once"
    first_seen: dict[str, list[str]] = defaultdict(list)
    for call in peer.deliveries():
        if call["key"] not in first_seen[call["dossier"]]:
            first_seen[call["dossier"]].append(call["key"])
    expected: dict[str, list[str]] = defaultdict(list)
    for packet in packets:
        expected[packet.dossier].append(packet.packet_id)
    assert dict(first_seen) == dict(expected), "each dossier's steps arrived in order"
    assert peer.state.answered.get("500", 0) > 0, "the destination failed calls: retries were scheduled"
    print(f"\nclock +1 h then -1 h on one of two workers: {len(packets)} delivered, "
          f"{peer.state.answered.get('500', 0)} retries, the last {left} of them {after_jump:.1f} s after the jump back")


def test_the_breakers_cool_down_ignores_the_wall_clock():
    """An open circuit waits its cool-down on the monotonic clock: a wall clock set back an hour does not
    keep it open an hour, one set forward does not skip it. The wall time it opened is still what the
    store shows operators."""
    wall = [1_000_000.0]
    breaker = CircuitBreaker(1, 0.3, wall=lambda: wall[0])
    breaker.record(success=False)
    assert breaker.state is BreakerState.OPEN and breaker.opened_at == 1_000_000.0
    wall[0] += 3600  # forward: the cool-down is not over
    assert breaker.permits() == 0
    wall[0] -= 7200  # back: it ends on time all the same
    time.sleep(0.35)
    assert breaker.permits() == 1 and breaker.state is BreakerState.HALF_OPEN
