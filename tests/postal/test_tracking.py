"""The tracking feed: the cursor lives in the store and survives a restart (a poller that died holding
the feed is taken over after its lease), items already handled are never originated again, the intake's
"later" stops the cursor where it was, and the connector's task runs the loop until told to stop."""

from dataclasses import replace
import threading
import time

import pytest

from connectors.postal import CONNECTOR
from gateway.config import Config
from gateway.receive.intake import PacketIntake
from gateway.store import open_store
from gateway.store.api import JobState, Store

from .conftest import Originator, Simulator, dossier, dossier_code, submit, wait_for
from .helpers import body, close, count, jobs, poller, postal_engine

FEED = "vnpost"
LEASE = 4.0  # seconds: how long a poller that died holding the feed keeps it


def ordered(config: Config, store: Store, intake: PacketIntake, simulator: Simulator, n: int) -> list[str]:
    codes = [dossier_code() for _ in range(n)]
    for code in codes:
        simulator.plan(**{code: "delivered"})
        submit(intake, dossier(code, 9, HinhThuc=1))
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == n, what="the orders")
    return codes


def tracking_codes(store: Store, code: str) -> list[str]:
    return [body(store, j)["MaTrangThai"] for j in jobs(store, destination="provincial_portal", dossier=code)]


@pytest.mark.postgres
def test_the_cursor_survives_a_restart_and_nothing_is_originated_twice(
        config: Config, store_url: str, store: Store, intake: PacketIntake, originate: Originator,
        simulator: Simulator) -> None:
    config = Config({**config.raw, "postal": {**config.raw["postal"],
                                              "tracking": {**config.raw["postal"]["tracking"], "page_size": 3, "lease_seconds": LEASE}}}, config.source)
    codes = ordered(config, store, intake, simulator, 2)  # two "accepted" events
    simulator.advance(1)  # two "picked up": 4 events so far

    first = poller(config, originate, holder="worker-1")
    result = first.poll_once()
    assert result.error is None and result.items == 4 and result.cursor == "4" and result.pages == 2
    held_at = time.monotonic()
    close(first)  # the process dies here, without giving the feed back (its lease runs out)

    intake.close()  # the whole gateway restarts: store, intake, poller, all new objects
    store.close()
    simulator.advance(2)  # meanwhile: out for delivery, delivered — 4 more events
    reopened = open_store(store_url)
    try:
        again = PacketIntake(config, store=reopened)
        originate_again = Originator(again)
        second = poller(config, originate_again, holder="worker-2")
        assert second.ledger.cursor(FEED) == "4"
        if time.monotonic() - held_at < LEASE - 1.0:
            assert second.poll_once().held is False  # the dead worker's lease still runs
        time.sleep(max(0.0, held_at + LEASE + 0.1 - time.monotonic()))
        result = second.poll_once()
        assert result.held and result.error is None and result.items == 4 and result.cursor == "8"
        assert len(originate_again.calls) == 6  # 4 tracking packets + 2 status-10 steps, none from before
        for code in codes:
            assert tracking_codes(reopened, code) == ["DA_NHAN_DON", "DA_LAY_HANG", "DANG_PHAT", "PHAT_THANH_CONG"]
            tens = [j for j in jobs(reopened, destination="national_portal", dossier=code)
                    if body(reopened, j).get("TrangThai") == 10]
            assert len(tens) == 1
        close(second)
        again._store = None
        again.close()
    finally:
        reopened.close()


@pytest.mark.postgres
def test_reading_an_item_again_gives_the_same_packet_and_the_intakes_later_keeps_the_cursor(
        config: Config, store: Store, intake: PacketIntake, originate: Originator, simulator: Simulator) -> None:
    (code,) = ordered(config, store, intake, simulator, 1)
    simulator.advance(3)
    tracker = poller(config, originate)
    try:
        originate.unavailable = True  # the store is down: the intake says "later"
        result = tracker.poll_once()
        assert result.items == 0 and result.error and result.retry_after == 5  # the intake's own "later"
        assert tracker.ledger.cursor(FEED) is None and tracking_codes(store, code) == []
        originate.unavailable = False
        assert tracker.poll_once().items == 4
        # A crash after originating, before the cursor moved: the items are read again, the same packets
        # are originated again, and the intake takes them as resends.
        tracker.ledger.advance(FEED, tracker.holder, "0")
        calls = len(originate.calls)
        result = tracker.poll_once()
        assert result.items == 4 and result.originated == 5 and result.refused == 0
        assert originate.calls[calls:] == originate.calls[1:calls]  # byte for byte (the first was "later")
        assert len(tracking_codes(store, code)) == 4  # stored once
    finally:
        close(tracker)


@pytest.mark.postgres
def test_the_feed_faults_stop_the_poll_without_moving_the_cursor(
        config: Config, store: Store, intake: PacketIntake, originate: Originator, simulator: Simulator) -> None:
    (code,) = ordered(config, store, intake, simulator, 1)
    tracker = poller(config, originate)
    try:
        for faults, expect in (({"maintenance": True, "maintenance_retry_after": 7}, 7.0),
                               ({"malformed_rate": 1.0}, None), ({"throttle_rate": 1.0}, 1.0),
                               ({"error_rate": 1.0}, None), ({"timeout_rate": 1.0, "hang_seconds": 1.0}, None)):
            simulator.post("/_admin/reset", {})
            simulator.faults(**faults)
            result = tracker.poll_once() if "timeout_rate" not in faults else _short_timeout(tracker)
            assert result.error and result.items == 0 and result.retry_after == expect, faults
        simulator.faults(maintenance=False, malformed_rate=0, throttle_rate=0, error_rate=0, timeout_rate=0)
        assert tracker.ledger.cursor(FEED) is None
    finally:
        close(tracker)


def _short_timeout(tracker):
    from connectors.postal.client import PostalClient

    settings = replace(tracker.settings, read_timeout=0.3)
    tracker.client.close()
    tracker.client = PostalClient(settings)
    return tracker.poll_once()


@pytest.mark.postgres
def test_the_connectors_task_polls_on_the_simulators_clock_until_stopped(
        config: Config, store: Store, intake: PacketIntake, originate: Originator, simulator: Simulator) -> None:
    (code,) = ordered(config, store, intake, simulator, 1)
    simulator.clock(running=True, step_seconds=3600, time_scale=3600 * 20)  # an hour every 50 ms
    stop = threading.Event()
    # the services the worker gives its tasks: the real intake (its originate, its store)
    threads = [threading.Thread(target=task, args=(stop,)) for task in CONNECTOR.tasks(config, intake)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: any(body(store, j).get("TrangThai") == 10
                             for j in jobs(store, destination="national_portal", dossier=code)),
                 timeout=20, what="the status-10 step")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert tracking_codes(store, code)[-1] == "PHAT_THANH_CONG"
    tracker = poller(config, originate, holder="after")
    try:  # the stopped task gave the feed back: another holder takes it at once
        assert tracker.poll_once().held
    finally:
        close(tracker)


@pytest.mark.postgres
def test_items_of_shipments_the_gateway_did_not_order_are_passed_over_and_answers_are_bounded(
        config: Config, store: Store, intake: PacketIntake, originate: Originator, simulator: Simulator) -> None:
    import httpx

    from .conftest import TOKEN
    from .test_simulator import order

    (code,) = ordered(config, store, intake, simulator, 1)
    with httpx.Client(base_url=simulator.url, headers={"access_token": TOKEN}, trust_env=False) as api:
        assert api.post("/api/orders", json=order("KHAC-0001")).json()["Status"] == 100  # ordered by another system
    tracker = poller(config, originate)
    try:
        result = tracker.poll_once()
        assert result.items == 2 and result.not_ours == 1 and result.originated == 1 and result.cursor == "2"
        assert tracking_codes(store, code) == ["DA_NHAN_DON"]
        tracker.ledger.release_feed(FEED, tracker.holder)  # as the task does when it stops
    finally:
        close(tracker)
    simulator.advance(3)
    bounded = Config({**config.raw, "postal": {**config.raw["postal"], "max_reply_bytes": 300}}, config.source)
    small = poller(bounded, originate)
    try:  # a page longer than the bound is an error, not read on; the cursor stays
        result = small.poll_once()
        assert result.items == 0 and "AnswerTooLarge" in (result.error or "") and result.cursor == "2"
    finally:
        close(small)
