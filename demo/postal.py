"""Results returned by post in the demo: the senders of every agency of the day, the dossiers the postal
service should get an order for (status 9, HinhThuc 1), the packets the gateway originated from its tracking
feed (TrangThaiVanDon for the provincial portal, status 10 for the national portal), and the check of it all."""

from dataclasses import dataclass, field
import json
from typing import Any

import sqlalchemy as sa

from demo.day import Day
from demo.people import UNITS
from demo.play import Answer
from gateway.kit.harness import AdminClient
from gateway.store import Store

CUSTOMER = "KH-TINH-DEMO"  # the province's customer code at the postal service
EXAMPLE_AGENCY = "000.00.01.H22"  # the bundled examples' agency
EXAMPLE_DOSSIER = "000.00.01.H22-241201-0001"  # examples/VanDonBuuChinh.json's
ACCEPTED = (200, 202)


def senders_toml() -> str:
    """``[postal.senders."<agency>"]`` for every agency of the day and the examples' (made-up addresses)."""
    agencies = {unit.agency: unit.name for unit in UNITS.values()}
    agencies[EXAMPLE_AGENCY] = "Trung tâm Phục vụ hành chính công tỉnh"
    tables = []
    for n, (agency, name) in enumerate(sorted(agencies.items())):
        tables.append(f'[postal.senders."{agency}"]\nname = {json.dumps(name, ensure_ascii=False)}\n'
                      f'address = "Số {n + 1} đường Lê Lợi"\ntel = "0236382222{n}"\n'
                      f'email = "mot-cua-{n + 1}@example.gov.vn"\nprovince = 48\ndistrict = 490\n')
    return "\n".join(tables)


def to_post(day: Day, answers: dict[str, Answer]) -> list[str]:
    """The day's dossiers whose status-9 HoSo returning the result by post (HinhThuc 1) the gateway accepted."""
    return sorted({p.dossier for p in day.packets if p.packet_type == "HoSo" and not p.flaw and p.body
                   and p.body.get("TrangThaiHoSo") == 9 and p.body.get("HinhThuc") == 1
                   and answers.get(p.packet_id, Answer(0, {})).status in ACCEPTED})


def originated(store: Store) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Packets the gateway made itself (sender "gateway"), oldest first: MaGoiTin → (type, dossier, body)."""
    engine = store.engine  # type: ignore[attr-defined]  # the SQL stores have an engine; the Store protocol does not name it
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT packet_id, packet_type, dossier, raw, encoding FROM packets "
                                          "WHERE sender = 'gateway' ORDER BY received_at")).all()
    made: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for packet_id, kind, dossier, raw, encoding in rows:
        body: dict[str, Any] = {}
        if encoding == "json" and raw:
            body = json.loads(bytes(raw).decode("utf-8")).get("NoiDung", {}).get(kind, {})
        made[str(packet_id)] = (str(kind), str(dossier or ""), body)
    return made


def delivered_on_portal(portal: AdminClient, dossiers: list[str], post: AdminClient) -> bool:
    """Every shipment delivered by the postal service has its dossier at status 10 on the national portal."""
    orders = (post.record() or {}).get("orders", {})
    if any(code not in orders for code in dossiers):
        return False
    if any(o.get("Status") not in (4, 7, 8) for code, o in orders.items() if code in dossiers):
        return False  # still on its way
    record = (portal.record() or {}).get("dossiers", {})
    return all((record.get(code) or {}).get("status") == 10 for code in dossiers if orders[code].get("Status") == 4)


@dataclass
class PostalCheck:
    expected: int = 0  # dossiers at status 9 returned by post
    orders: int = 0  # … that the postal service has an order for (once)
    delivered: int = 0  # shipments the postal service delivered
    status_10: int = 0  # … whose dossier reached status 10 on the national portal after its earlier steps
    tracking: int = 0  # TrangThaiVanDon packets the gateway originated
    tracking_received: int = 0  # … that the provincial portal recorded
    repeated: int = 0  # orders sent again after a lost answer, answered "duplicate" (102): still one shipment
    calls: dict[str, int] = field(default_factory=dict)  # the postal service's calls, by kind
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.expected > 0 and self.orders == self.expected and self.status_10 == self.delivered > 0
                and self.tracking > 0 and self.tracking_received == self.tracking and not self.problems)


def check(post_record: dict[str, Any], dossiers: list[str], portal_record: dict[str, Any],
          made: dict[str, tuple[str, str, dict[str, Any]]], provincial_record: dict[str, Any]) -> PostalCheck:
    orders: dict[str, Any] = post_record.get("orders", {})
    on_portal: dict[str, Any] = portal_record.get("dossiers", {})
    result = PostalCheck(expected=len(dossiers), calls=dict(post_record.get("calls", {})))
    for code in dossiers:
        order = orders.get(code)
        if order is None:
            result.problems.append(f"{code}: bưu chính không có đơn / no postal order")
            continue
        result.orders += 1
        result.repeated += int(order.get("Creates", 1)) - 1  # answered "duplicate": still one order
        if order.get("Status") != 4:
            continue
        result.delivered += 1
        progress = [step.get("TrangThai") for step in (on_portal.get(code) or {}).get("progress", [])]
        if progress and progress[-1] == 10 and progress.count(10) == 1 and 9 in progress:
            result.status_10 += 1
        else:
            result.problems.append(f"{code}: các bước trên cổng / steps on the portal {progress}")
    tracking = {packet_id for packet_id, (kind, _, _) in made.items() if kind == "TrangThaiVanDon"}
    result.tracking = len(tracking)
    result.tracking_received = len(tracking & set(provincial_record.get("received", {})))
    return result
