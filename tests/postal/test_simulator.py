"""The simulator is a peer, not a mock: strict about orders as the real service, authenticated, with its
feed paged by cursor and its clock moving shipments along their routes."""

from typing import Any

import httpx
import pytest

from .conftest import CUSTOMER, TOKEN, Simulator


def order(number: str = "000.00.01.H22-241201-0001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CustomerCode": CUSTOMER, "OrderNumber": number, "CODAmount": 0, "SenderName": "Trung tâm PVHCC",
        "SenderAddress": "Số 1 Lê Lợi", "SenderTel": "02363822222", "SenderEmail": "", "SenderProvince": 48,
        "SenderDistrict": 490, "SenderDesc": "Kết quả TTHC", "Description": "", "ReceiverName": "Trần Thị Bình",
        "ReceiverAddress": "Số 2 Hàng Bài", "ReceiverTel": "0912345678", "ReceiverEmail": "",
        "ReceiverProvince": "1", "ReceiverDistrict": "2", "Weight": 200}  # postal codes as text, as clients send
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def api(simulator: Simulator) -> httpx.Client:
    return httpx.Client(base_url=simulator.url, timeout=10, trust_env=False, headers={"access_token": TOKEN})


def test_orders_are_read_strictly(api: httpx.Client, simulator: Simulator) -> None:
    assert api.post("/api/orders", json=order()).json()["Status"] == 100
    assert api.post("/api/orders", json=order()).json()["Status"] == 102  # the same OrderNumber
    for changes, words in (({"ReceiverTel": None}, "Thiếu ReceiverTel"), ({"Extra": 1}, "Trường không hỗ trợ: Extra"),
                           ({"SenderProvince": "Đà Nẵng"}, "SenderProvince"), ({"ReceiverTel": "12345"}, "ReceiverTel"),
                           ({"CustomerCode": "OTHER"}, "Mã khách hàng"), ({"Weight": -1}, "Weight"),
                           ({"ItemCode": "123"}, "ItemCode"), ({"OrderNumber": "a b"}, "OrderNumber"),
                           ({"ReceiverEmail": "not-an-email"}, "ReceiverEmail")):
        answer = api.post("/api/orders", json=order("X-" + str(len(words)), **changes)).json()
        assert answer["Status"] == 103 and words in answer["Message"], changes
    assert api.post("/api/orders", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert len(simulator.record()["orders"]) == 1


def test_calls_without_the_token_are_refused(simulator: Simulator) -> None:
    anonymous = httpx.Client(base_url=simulator.url, timeout=10, trust_env=False)
    assert anonymous.post("/api/orders", json=order()).status_code == 401
    assert anonymous.get("/api/tracking", params={"pageSize": 5}).status_code == 401
    wrong = httpx.Client(base_url=simulator.url, timeout=10, trust_env=False, headers={"access_token": "x"})
    assert wrong.post("/api/orders/cancel", json={"CustomerCode": CUSTOMER, "OrderNumber": "A"}).status_code == 401


def test_the_feed_pages_by_cursor_and_the_clock_moves_shipments(api: httpx.Client, simulator: Simulator) -> None:
    simulator.plan(**{"R-*": "returned", "D-*": "delivered"})
    for number in ("D-1", "R-1"):
        assert api.post("/api/orders", json=order(number)).json()["Status"] == 100
    simulator.advance(5)
    seen: list[dict[str, Any]] = []
    last = None
    while True:
        params: dict[str, Any] = {"pageSize": 3, "customerCode": CUSTOMER} | ({"lastId": last} if last else {})
        page = api.get("/api/tracking", params=params).json()
        if not page["Data"]:
            break
        seen += page["Data"]
        last = page["LastId"]
    assert [e["Id"] for e in seen] == list(range(1, len(seen) + 1))
    by_order = {n: [e["StatusCode"] for e in seen if e["OrderNumber"] == n] for n in ("D-1", "R-1")}
    assert by_order == {"D-1": ["1", "2", "3", "4"], "R-1": ["1", "2", "3", "5", "6", "7"]}  # codes as text
    assert api.get("/api/tracking", params={"pageSize": 0}).status_code == 400
    # cancelling: a delivered shipment cannot be, an unknown one is not found, a fresh one is
    assert api.post("/api/orders/cancel", json={"CustomerCode": CUSTOMER, "OrderNumber": "D-1"}).json()["Status"] == 105
    assert api.post("/api/orders/cancel", json={"CustomerCode": CUSTOMER, "OrderNumber": "N"}).json()["Status"] == 104
    api.post("/api/orders", json=order("C-1"))
    assert api.post("/api/orders/cancel", json={"CustomerCode": CUSTOMER, "OrderNumber": "C-1"}).json()["Status"] == 100
    assert api.post("/api/orders/cancel", json={"CustomerCode": CUSTOMER, "OrderNumber": "C-1"}).json()["Status"] == 102


def test_admin_faults_are_checked(simulator: Simulator) -> None:
    assert simulator.admin.post("/_admin/faults", json={"no_such_fault": 1}).status_code == 400
    assert simulator.admin.post("/_admin/plan", json={"X": "lost_in_the_post"}).status_code == 400
