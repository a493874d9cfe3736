"""End to end over real HTTP on both stores: a finished dossier returned by post is ordered from the
simulated postal service by the delivery engine, tracked through the feed, each change stored as a
TrangThaiVanDon for the provincial portal, and the delivery as the dossier's status-10 step for the
national portal, after its earlier steps."""

import pytest

from gateway.config import Config
from gateway.receive.intake import PacketIntake
from gateway.store.api import JobState, Store

from .conftest import AGENCY, CUSTOMER, SENDER, Originator, Simulator, dossier, dossier_code, step, submit, wait_for
from .helpers import body, close, count, jobs, poller, postal_engine


def finished_by_post(intake: PacketIntake, code: str) -> None:
    submit(intake, dossier(code, 2))
    submit(intake, step(code, 4))
    submit(intake, dossier(code, 9, HinhThuc=1))


@pytest.mark.postgres
def test_status_9_by_post_is_ordered_tracked_and_returned_as_status_10(
        config: Config, store: Store, intake: PacketIntake, originate: Originator, simulator: Simulator) -> None:
    code = dossier_code()
    simulator.plan(**{code: "delivered"})
    finished_by_post(intake, code)
    assert [j.packet_type for j in jobs(store, destination="postal")] == ["HoSo"]  # only the status-9 one

    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the order delivered")
    order = simulator.order(code)
    assert order is not None and order["Creates"] == 1
    sent = order["Order"]
    assert sent["OrderNumber"] == code and sent["CustomerCode"] == CUSTOMER
    assert (sent["ReceiverName"], sent["ReceiverTel"]) == ("Nguyễn Thị Thu Hương", "0912345678")
    assert sent["ReceiverAddress"].startswith("Số 18 ngõ 42 phố Trần Hưng Đạo")  # the owner's, from ThongTinKhac
    assert (sent["SenderName"], sent["SenderProvince"], sent["SenderDistrict"]) == (
        SENDER["name"], SENDER["province"], SENDER["district"])

    assert simulator.advance(3) == 3  # picked up, out for delivery, delivered
    history = simulator.order(code)["History"]
    assert history == [1, 2, 3, 4]

    tracker = poller(config, originate)
    try:
        result = tracker.poll_once()
    finally:
        close(tracker)
    assert result.error is None and result.refused == 0 and result.items == len(history)

    tracking = jobs(store, destination="provincial_portal", dossier=code)
    assert [j.packet_type for j in tracking] == ["TrangThaiVanDon"] * len(history)
    mapped = {1: "DA_NHAN_DON", 2: "DA_LAY_HANG", 3: "DANG_PHAT", 4: "PHAT_THANH_CONG", 5: "PHAT_KHONG_THANH_CONG",
              6: "DANG_CHUYEN_HOAN", 7: "DA_CHUYEN_HOAN"}
    assert [body(store, j)["MaTrangThai"] for j in tracking] == [mapped[s] for s in history]
    assert all(body(store, j)["MaVanDon"] == order["ItemCode"] for j in tracking)
    assert all(j.state is JobState.PENDING for j in tracking)

    national = jobs(store, destination="national_portal", dossier=code)
    statuses = [body(store, j).get("TrangThaiHoSo", body(store, j).get("TrangThai")) for j in national]
    assert statuses == [2, 4, 9, 10]  # status 10 after every earlier step of the dossier
    ten = national[-1]
    assert ten.packet_type == "TienDoXuLy" and ten.seq > max(j.seq for j in national[:-1])
    assert ten.state is JobState.PENDING and ten.ordering_key == code
    packet = store.get_packet(ten.packet_id)
    assert packet is not None and packet.agency == AGENCY and packet.sender == "gateway"  # [intake] originator


@pytest.mark.postgres
def test_a_failed_attempt_then_delivery_and_a_return(config: Config, store: Store, intake: PacketIntake,
                                                     originate: Originator, simulator: Simulator) -> None:
    delivered, returned = dossier_code(), dossier_code()
    simulator.plan(**{delivered: "failed_then_delivered", returned: "returned"})
    for code in (delivered, returned):
        finished_by_post(intake, code)
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 2, what="both orders delivered")
    simulator.advance(5)  # both routes are five steps long
    tracker = poller(config, originate)
    try:
        result = tracker.poll_once()
    finally:
        close(tracker)
    assert result.error is None and result.items == 12 and result.originated == 13  # 12 tracking + one status 10

    codes = {code: [body(store, j)["MaTrangThai"] for j in jobs(store, destination="provincial_portal", dossier=code)]
             for code in (delivered, returned)}
    assert codes[delivered] == ["DA_NHAN_DON", "DA_LAY_HANG", "DANG_PHAT", "PHAT_KHONG_THANH_CONG", "DANG_PHAT",
                                "PHAT_THANH_CONG"]
    assert codes[returned] == ["DA_NHAN_DON", "DA_LAY_HANG", "DANG_PHAT", "PHAT_KHONG_THANH_CONG",
                               "DANG_CHUYEN_HOAN", "DA_CHUYEN_HOAN"]
    tens = [j for j in jobs(store, destination="national_portal") if body(store, j).get("TrangThai") == 10]
    assert [j.dossier for j in tens] == [delivered]
    assert tracker.ledger  # closed above; the record reopened below
    again = poller(config, originate)
    try:
        assert again.ledger.get(delivered).state == "delivered"
        assert again.ledger.get(returned).state == "returned"
    finally:
        close(again)
