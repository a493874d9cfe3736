"""The simulated postal service's state: orders, the tracking feed, and the clock that moves shipments
along their route (normal delivery, a failed attempt then delivery, or a return to the sender)."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
import random
import re
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

ACCEPTED, PICKED_UP, OUT_FOR_DELIVERY, DELIVERED, FAILED, RETURNING, RETURNED, CANCELLED = range(1, 9)
MESSAGES = {ACCEPTED: "Bưu điện đã nhận đơn hàng", PICKED_UP: "Đã lấy hàng tại cơ quan",
            OUT_FOR_DELIVERY: "Bưu tá đang đi phát", DELIVERED: "Phát thành công cho người nhận",
            FAILED: "Phát không thành công: người nhận vắng nhà", RETURNING: "Đang chuyển hoàn về người gửi",
            RETURNED: "Đã chuyển hoàn cho người gửi", CANCELLED: "Đơn hàng đã huỷ theo yêu cầu"}
# Routes after acceptance; the clock takes one step per tick.
ROUTES = {"delivered": [PICKED_UP, OUT_FOR_DELIVERY, DELIVERED],
          "failed_then_delivered": [PICKED_UP, OUT_FOR_DELIVERY, FAILED, OUT_FOR_DELIVERY, DELIVERED],
          "returned": [PICKED_UP, OUT_FOR_DELIVERY, FAILED, RETURNING, RETURNED]}
FINAL = {DELIVERED, RETURNED, CANCELLED}


@dataclass
class Order:
    order_number: str
    item_code: str
    body: dict[str, Any]
    route: list[int]
    status: int = ACCEPTED
    history: list[int] = field(default_factory=lambda: [ACCEPTED])
    creates: int = 1  # create calls seen for it (the first and every duplicate)

    def to_dict(self) -> dict[str, Any]:
        return {"OrderNumber": self.order_number, "ItemCode": self.item_code, "Status": self.status,
                "History": self.history, "Creates": self.creates, "Route": self.route, "Order": self.body}


@dataclass
class Clock:
    step_seconds: float = 3600.0  # simulated time between two steps of a shipment
    time_scale: float = 1.0  # simulated seconds per real second: 3600 makes an hour pass in a second
    running: bool = True

    @property
    def tick(self) -> float:
        return self.step_seconds / max(self.time_scale, 1e-6)


@dataclass
class Event:
    Id: int
    OrderNumber: str
    ItemCode: str
    StatusCode: str  # as the service writes it: text
    StatusMessage: str
    StatusDate: str  # dd/MM/yyyy HH:mm:ss, local time


def _stamp() -> str:
    """Events carry the real local time, as the service's (the clock paces shipments; it does not
    invent times ahead of the world's)."""
    return datetime.now(ZONE).strftime("%d/%m/%Y %H:%M:%S")


class PostalState:
    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.orders: dict[str, Order] = {}
        self.events: list[Event] = []
        self.clock = Clock()
        self.route_weights = {"delivered": 0.8, "failed_then_delivered": 0.1, "returned": 0.1}
        self.plans: dict[str, str] = {}  # OrderNumber (or a prefix ending in *) → route name
        self.calls: dict[str, int] = {}

    def count(self, what: str) -> None:
        self.calls[what] = self.calls.get(what, 0) + 1

    def _route_for(self, order_number: str) -> str:
        for pattern, route in self.plans.items():
            if pattern == order_number or (pattern.endswith("*") and order_number.startswith(pattern[:-1])):
                return route
        names = list(self.route_weights)
        return self.rng.choices(names, [self.route_weights[n] for n in names])[0]

    def _emit(self, order: Order, status: int) -> None:
        order.status = status
        order.history.append(status)
        self.events.append(Event(len(self.events) + 1, order.order_number, order.item_code, str(status),
                                 MESSAGES[status], _stamp()))

    def create(self, body: dict[str, Any]) -> Order:
        number = str(body["OrderNumber"])
        item_code = str(body.get("ItemCode") or f"EI{self.rng.randrange(10**8, 10**9)}VN")
        order = Order(number, item_code, body, list(ROUTES[self._route_for(number)]))
        self.orders[number] = order
        self.events.append(Event(len(self.events) + 1, number, item_code, str(ACCEPTED), MESSAGES[ACCEPTED],
                                 _stamp()))
        return order

    def cancel(self, order: Order) -> None:
        self._emit(order, CANCELLED)

    def advance(self, steps: int = 1) -> int:
        """Every shipment not final takes ``steps`` steps along its route."""
        moved = 0
        for _ in range(steps):
            for order in self.orders.values():
                if order.status in FINAL or not order.route:
                    continue
                self._emit(order, order.route.pop(0))
                moved += 1
        return moved

    def page(self, last_id: int, size: int) -> list[dict[str, Any]]:
        return [asdict(e) for e in self.events[last_id:last_id + size]]

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]  # reset to the defaults in place


PHONE = re.compile(r"^(0|\+84)[0-9]{8,10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ITEM_CODE = re.compile(r"^[A-Z]{2}[0-9]{9}[A-Z]{2}$")
