"""The worker's reconciler: payments whose CONFIRM never arrived.

Every ``reconcile_every_seconds``, each payment still ``initiated`` whose last change is older than ``reconcile_after_seconds`` is asked about with QUERY. One the
platform says is paid, with its MaGiaoDich, goes through the callback's own path (``Callbacks.settle_queried``):
the same amount check and record (``confirmed``: the settler fetches, verifies and originates), the same claim on
(MaThamChieu, MaGiaoDich) — so the platform's callback arriving later gets the reply recorded here and
changes nothing. Not paid yet: asked again after ``reconcile_after_seconds``.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import logging
import threading
import time
from typing import Any

from connectors.payment.client import Confirm
from connectors.payment.inbound import Callbacks
from gateway.kit import line

log = logging.getLogger(__name__)
OPEN_STATES = ("initiated",)  # a confirmed payment is the settler's (settle.py)
PAID = frozenset({"paid", "success", "00"})  # QUERY's words for a completed payment (national / PayGov)


def _text(data: dict[str, Any], *keys: str) -> str:
    """The first of ``keys`` the answer fills, as a string (the platforms send numbers as strings or not)."""
    return next((str(data[key]).strip() for key in keys if data.get(key) not in (None, "")), "")


def paid_confirm(reference: str, data: dict[str, Any]) -> Confirm | None:
    """The QUERY answer read as the CONFIRM it stands for; None while the payment is not completed."""
    def text(*keys: str) -> str:
        return _text(data, *keys)
    state = text("TrangThai", "status").lower()
    transaction = text("MaGiaoDich", "transactionId")
    if state not in PAID or not transaction:
        return None
    return Confirm(True, reference, transaction, "00", text("SoTien", "amount"), text("MaNganHang", "bankCode"),
                   text("ThoiGianGDThanhToan", "payDate"), data)


class Reconciler:
    def __init__(self, callbacks: Callbacks, after_seconds: float, every_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.callbacks, self.after, self.every, self.clock = callbacks, after_seconds, every_seconds, clock
        self._asked: dict[str, float] = {}  # reference → when last asked (monotonic): not asked every round

    def once(self) -> int:
        """One round; the number of payments settled by it."""
        store, platform = self.callbacks.store, self.callbacks.platform
        before = datetime.now(UTC) - timedelta(seconds=self.after)
        settled, now = 0, self.clock()
        for payment in store.stale_payments(OPEN_STATES, before):
            reference = payment["reference"]
            if now - self._asked.get(reference, -1e18) < self.after:
                continue
            self._asked[reference] = now
            answer = platform.query(reference)
            if answer.kind != "ok":
                log.info("%s", line("payment.log.query_unanswered", reference=reference, code=answer.code))
                continue
            confirm = paid_confirm(reference, answer.data)
            if confirm is None:
                continue
            status, _ = self.callbacks.settle_queried(confirm)
            store.audit("payment", "payment.reconciled", reference,
                        {"transaction": confirm.transaction[:64], "status": status}, dossier=payment["dossier"])
            settled += 1
        return settled

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.once()
            except Exception:  # a store or platform hiccup: the next round tries again
                log.exception("%s", line("payment.log.reconcile_failed"))
            stop.wait(self.every)
