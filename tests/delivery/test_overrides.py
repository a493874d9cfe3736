"""A running worker honours what an operator set in the store (the console's controls): a rate limit and
maintenance windows that override the configuration's until reset; and it registers itself for /readyz."""

from datetime import UTC, datetime, timedelta
import time

import pytest

from gateway.deliver.windows import LOCAL
from gateway.store.api import JobFilter, JobState
from tests.delivery.test_engine import DEST, all_delivered, assert_rate_kept

pytestmark = pytest.mark.postgres


def test_a_rate_limit_set_while_running_is_kept_then_reset(store, feed, traffic, peer, policy, engines, until):
    store.set_paused(DEST, True, "tester", "chờ đổi giới hạn")
    packets = list(traffic.interleaved(dossiers=24, steps=0))
    feed(packets)
    engines(policy(rate_per_second=1000.0, burst=100, concurrency=4))  # configured: a thousand a second
    time.sleep(0.2)
    store.set_rate_limit(DEST, 10.0, 1, "console:quantri", "đối tác giới hạn 10/giây")  # the running worker's
    store.set_paused(DEST, False, "tester", "xong")
    until(all_delivered(store, len(packets)), what="all delivered", timeout=30)
    assert_rate_kept([d["at"] for d in peer.deliveries()], rate=10.0, burst=1)  # 24 calls ≥ 2.2 s, not 24 ms
    store.set_rate_limit(DEST, None, None, "console:quantri", "về cấu hình")
    more = list(traffic.interleaved(dossiers=40, steps=0))
    began = time.monotonic()
    feed(more)
    until(all_delivered(store, len(packets) + len(more)), what="the rest delivered", timeout=30)
    assert time.monotonic() - began < 3.5  # at 10/s they would take 4 s at least


def test_a_window_held_in_the_store_holds_a_running_worker_until_it_closes(store, feed, traffic, peer, policy,
                                                                            engines, until):
    engines(policy())  # no window configured
    now = datetime.now(UTC)
    end = now + timedelta(seconds=1.5)
    store.set_windows(DEST, [{"start_at": (now - timedelta(minutes=5)).astimezone(LOCAL).isoformat(),
                              "end_at": end.astimezone(LOCAL).isoformat(), "note": "bảo trì"}],
                      "console:vanhanh_chung", "đối tác báo")
    time.sleep(0.2)  # the worker re-reads the store with the pause (hold_check_seconds)
    packets = traffic.dossier(1, 2)
    feed(packets)
    time.sleep(0.8)
    assert peer.state.calls == 0, "nothing is sent during the window"
    until(all_delivered(store, len(packets)), what="delivered after the window")
    assert min(d["at"] for d in peer.deliveries()) >= end.timestamp()
    assert all(j.attempts == 1 for j in store.find_jobs(JobFilter(destination=DEST, limit=100)))


def test_resetting_windows_goes_back_to_the_configuration(store, feed, traffic, peer, policy, engines, until):
    now = datetime.now(UTC)
    engines(policy())
    store.set_windows(DEST, [{"start_at": (now - timedelta(minutes=5)).astimezone(LOCAL).isoformat(),
                              "end_at": (now + timedelta(hours=1)).astimezone(LOCAL).isoformat()}], "t", "t")
    time.sleep(0.2)
    packets = traffic.dossier(1, 0)
    feed(packets)
    time.sleep(0.5)
    assert peer.state.calls == 0 and store.find_jobs(JobFilter(destination=DEST))[0].state is JobState.PENDING
    store.set_windows(DEST, None, "t", "huỷ bảo trì")
    until(all_delivered(store, len(packets)), what="delivered once the window is removed")


def test_a_worker_registers_and_leaves_the_registry(store, policy, engines):
    engine = engines(policy())
    seen = {w.name: w for w in store.workers()}
    assert engine.worker in seen and seen[engine.worker].destinations == [DEST]
    engine.stop()
    assert engine.worker not in {w.name for w in store.workers()}
