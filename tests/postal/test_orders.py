"""Ordering and cancelling through the real delivery engine and store, over HTTP to the simulator:
a resend or a retry never orders twice (the record, and the service's duplicate answer), a VanDonBuuChinh
orders with its own parties, a withdrawn or stopped dossier's shipment is cancelled."""

import pytest

from connectors.postal.ledger import PostalLedger
from gateway.config import Config
from gateway.receive.intake import PacketIntake
from gateway.receive.outcomes import Accepted
from gateway.store.api import JobState, Store

from .conftest import SENDER_CLIENT, Simulator, dossier, dossier_code, step, submit, waybill, wait_for
from .helpers import count, jobs, postal_engine


def ledger(config: Config) -> PostalLedger:
    return PostalLedger(str(config.section("store")["url"]))


@pytest.mark.postgres
def test_a_resend_or_a_second_status_9_does_not_order_again(config: Config, store: Store, intake: PacketIntake,
                                                            simulator: Simulator) -> None:
    code = dossier_code()
    submit(intake, dossier(code, 4))
    nine = dossier(code, 9, HinhThuc=1)
    assert submit(intake, nine).packet_id
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the order")
        resent = intake.receive(SENDER_CLIENT, nine, "json")
        assert isinstance(resent, Accepted) and resent.duplicate  # the same bytes: the original receipt, no new job
        assert len(jobs(store, destination="postal")) == 1
        submit(intake, dossier(code, 9, HinhThuc=1, GhiChu="Gửi lại / sent again"))  # a new packet, same dossier
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 2, what="the second status-9 packet")
    record = simulator.record()
    assert record["calls"]["orders"] == 1 and record["orders"][code]["Creates"] == 1  # asked once only
    second = store.get_job(jobs(store, destination="postal")[-1].job_id)
    assert second is not None and "not ordered again" in second.attempt_log[-1].message


@pytest.mark.postgres
def test_a_lost_answer_is_retried_and_the_services_duplicate_counts_as_delivered(
        config: Config, store: Store, intake: PacketIntake, simulator: Simulator) -> None:
    simulator.faults(lost_answer_rate=1.0, hang_seconds=2.5, calls=["orders"])  # applied, the answer never comes
    code = dossier_code()
    submit(intake, dossier(code, 9, HinhThuc=1))
    with postal_engine(config, store):
        wait_for(lambda: simulator.record()["calls"].get("orders", 0) >= 1, what="the first call")
        simulator.faults(lost_answer_rate=0.0)
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the order delivered")
    (job,) = jobs(store, destination="postal")
    attempts = store.get_job(job.job_id).attempt_log
    assert attempts[0].outcome == "transient" and "timeout" in attempts[0].message
    assert attempts[-1].outcome == "delivered" and attempts[-1].peer_status == "200/102"
    order = simulator.order(code)
    assert order is not None and order["Creates"] == 2 and len(simulator.record()["orders"]) == 1
    record = ledger(config)
    try:
        shipment = record.get(code)
        assert shipment is not None and shipment.state == "ordered" and shipment.item_code == order["ItemCode"]
    finally:
        record.close()


@pytest.mark.postgres
def test_a_waybill_packet_orders_with_its_own_parties(config: Config, store: Store, intake: PacketIntake,
                                                      simulator: Simulator) -> None:
    code = dossier_code()
    submit(intake, waybill(code))
    assert [j.packet_type for j in jobs(store, destination="postal")] == ["VanDonBuuChinh"]
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the waybill ordered")
    order = simulator.order(code)
    assert order is not None and order["ItemCode"] == "EI123456789VN"
    sent = order["Order"]
    assert (sent["ReceiverProvince"], sent["ReceiverDistrict"], sent["Weight"]) == (1, 2, 120)
    assert sent["SenderName"] == "Trung tâm Phục vụ hành chính công tỉnh"


@pytest.mark.postgres
def test_withdrawn_or_stopped_dossiers_cancel_their_shipment(config: Config, store: Store, intake: PacketIntake,
                                                             simulator: Simulator) -> None:
    shipped, never_shipped = dossier_code(), dossier_code()
    submit(intake, dossier(shipped, 9, HinhThuc=1))
    submit(intake, dossier(never_shipped, 4))
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the order")
        submit(intake, step(shipped, 8))  # stopped after it was finished: a warning, then the cancellation
        submit(intake, step(never_shipped, 7))  # withdrawn: nothing was ordered, nothing to cancel
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 3, what="the cancellations")
    order = simulator.order(shipped)
    assert order is not None and order["Status"] == 8 and order["History"][-1] == 8
    assert simulator.order(never_shipped) is None and simulator.record()["calls"]["cancel"] == 1
    record = ledger(config)
    try:
        assert record.get(shipped).state == "cancelled"
        assert record.get(never_shipped) is None
    finally:
        record.close()
    nothing = [j for j in jobs(store, destination="postal") if j.dossier == never_shipped]
    assert "no shipment to cancel" in store.get_job(nothing[0].job_id).attempt_log[-1].message


@pytest.mark.postgres
def test_a_delivered_shipment_is_not_cancelled(config: Config, store: Store, intake: PacketIntake,
                                               simulator: Simulator) -> None:
    code = dossier_code()
    simulator.plan(**{code: "delivered"})
    submit(intake, dossier(code, 9, HinhThuc=1))
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the order")
        simulator.advance(3)
        submit(intake, step(code, 7))  # the service refuses to cancel what it delivered: the operator sees why
        wait_for(lambda: count(store, "postal", JobState.DEAD) == 1, what="the refused cancellation")
    dead = [j for j in jobs(store, destination="postal") if j.state is JobState.DEAD][0]
    assert "105" in (dead.last_error or "") or "không thể huỷ" in (dead.last_error or "")
    assert simulator.order(code)["Status"] == 4
