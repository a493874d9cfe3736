"""The worker's settler: a confirmed payment's receipt fetched (GET_BILL), its signature verified, and the
BienLaiThanhToan originated — after the callback has answered, not while the platform waits.

Each task claims confirmed (or verified, not yet forwarded) payments from the store by lease
(``claim_payments``): a worker that dies mid-way leaves them to the next once the lease lapses, and every
state change is made only while the lease is held. A receipt not fetched yet (the platform unavailable),
a verification not decided yet (TRY_LATER, REVOCATION_UNKNOWN) or an intake saying "try later" is tried again
with backoff, the reason kept in the payment's detail. A receipt that fails verification stops there
(``receipt_rejected`` with its reason and report, audited). The packet's MaGoiTin and bytes are fixed by the
payment and its transaction, so a packet originated by a worker that died before recording it is the same
packet again (the intake answers "duplicate"): forwarded once.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import logging
import os
import socket
import threading
from typing import Any
import uuid

from connectors.payment.client import Platform
import connectors.payment.messages  # noqa: F401 - its sentences joined to the catalogue
from connectors.payment.receipt import verify_receipt
from connectors.payment.settings import PaymentSettings
from connectors.payment.transform import receipt_packet, stamp
from gateway.kit import Accepted, Refused, Store, TrustPolicy, TryLater, line, text

log = logging.getLogger(__name__)
WORK_STATES = ("confirmed", "verified")


@dataclass(frozen=True)
class Pace:
    lease_seconds: float = 60.0  # longer than one GET_BILL + verification; a dead worker's payments wait this
    poll_seconds: float = 0.05  # idle: how often to look for newly confirmed payments
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0
    batch: int = 2  # payments claimed at once by one task

    def retry_at(self, attempts: int) -> datetime:
        delay = min(self.retry_cap_seconds, self.retry_base_seconds * 2 ** min(attempts, 20))
        return datetime.now(UTC) + timedelta(seconds=delay)


class Settler:
    def __init__(self, platform: Platform, services: Any, trust: TrustPolicy, settings: PaymentSettings,
                 pace: Pace | None = None, worker: str | None = None) -> None:
        self.platform, self.services, self.trust, self.settings = platform, services, trust, settings
        self.pace = pace or Pace()
        self.worker = worker or f"payment:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    @property
    def store(self) -> Store:
        return self.services.store  # type: ignore[no-any-return]  # the intake's store (services is the kit's untyped adapter)

    def once(self) -> int:
        """One claim and the payments it got; how many were claimed."""
        holder = f"{self.worker}:{uuid.uuid4().hex[:8]}"
        claimed = self.store.claim_payments(WORK_STATES, holder, limit=self.pace.batch,
                                            lease_seconds=self.pace.lease_seconds)
        for payment in claimed:
            try:
                self.settle(payment, holder)
            except Exception:  # a store or peer hiccup: the lease lapses and the payment is tried again
                log.exception("%s", line("payment.log.settle_failed", reference=payment["reference"]))
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.once()
            except Exception:  # the store unavailable: the next round tries again
                log.exception("%s", line("payment.log.round_failed"))
                busy = 0
            if not busy:
                stop.wait(self.pace.poll_seconds)

    def _later(self, payment: dict[str, Any], holder: str, state: str, detail: dict[str, Any],
               audit: tuple[str, str, dict[str, Any]] | None = None) -> None:
        self.store.update_payment(payment["reference"], state, detail, holder=holder, audit=audit,
                                  retry_at=self.pace.retry_at(int(payment.get("attempts") or 0)))

    def settle(self, payment: dict[str, Any], holder: str) -> str:
        """One claimed payment as far as it goes now; its state after."""
        if payment["state"] == "verified":  # verified before, its packet not stored yet
            return self._forward(payment, holder, payment["detail"])
        reference = payment["reference"]
        answer, bill = self.platform.get_bill(reference)
        if bill is None:
            if answer.kind == "transient":
                self._later(payment, holder, "confirmed", {"bill_error": answer.message, "bill_code": answer.code})
                return "confirmed"
            return self._reject(payment, holder, "BILL_UNAVAILABLE", {"code": answer.code, "message": answer.message})
        checked = verify_receipt(bill.document, self.trust, self.settings.max_receipt_bytes)
        if checked.later:  # not decided yet (revocation unknown for now …): verified again later
            self._later(payment, holder, "confirmed", {"verification": checked.report, "reason": checked.reason})
            return "confirmed"
        if not checked.passed:
            return self._reject(payment, holder, checked.reason, checked.report)
        verified = {"verification": checked.report, "receipt_format": checked.format, "receipt_number": bill.number,
                    "reason": ""}
        return self._forward(payment, holder, {**payment["detail"], **verified})

    def _reject(self, payment: dict[str, Any], holder: str, reason: str, report: dict[str, Any]) -> str:
        reason_vi, reason_en = text("payment.receipt_rejected")
        detail = {"reason": reason, "verification": report, "reason_vi": reason_vi, "reason_en": reason_en}
        log.warning("%s", line("payment.log.receipt_rejected", reference=payment["reference"], reason=reason))
        self.store.update_payment(payment["reference"], "receipt_rejected", detail, holder=holder,
                                  audit=("payment", "payment.receipt.rejected",
                                         {"reason": reason, "verdict": report.get("verdict"),
                                          "transaction": payment["transaction_id"]}))
        return "receipt_rejected"

    def _forward(self, payment: dict[str, Any], holder: str, verified: dict[str, Any]) -> str:
        txn = str(payment["transaction_id"])
        paid_at = str(verified.get("paid_at") or "")
        if not (paid_at.isdigit() and len(paid_at) == 14):  # recorded before the callback fixed it: fixed by the row
            paid_at = stamp(payment["created_at"])
        packet_id, data = receipt_packet(payment, txn, str(verified.get("bank") or ""), paid_at,
                                         verified.get("receipt_number"))
        result = self.services.originate(data, "json")
        audit = {"format": verified.get("receipt_format"), "verdict": (verified.get("verification") or {}).get("verdict"),
                 "transaction": txn, "packet": packet_id}
        kept: dict[str, Any] = {key: verified[key] for key in ("verification", "receipt_format", "receipt_number", "reason")
                if key in verified}
        if isinstance(result, Accepted):  # the intake's Accepted | Refused | TryLater (gateway.kit)
            self.store.update_payment(payment["reference"], "forwarded", {**kept, "packet": packet_id},
                                      holder=holder, audit=("payment", "payment.receipt.verified", audit))
            return "forwarded"
        if isinstance(result, Refused):
            reason = f"{result.rule}: {result.message_en}"[:300]
            self.store.update_payment(payment["reference"], "forward_refused",
                                      {**kept, "packet": packet_id, "reason": reason}, holder=holder,
                                      audit=("payment", "payment.forward.refused", {**audit, "reason": reason}))
            return "forward_refused"
        reason = (f"{result.reason}: {result.message_en}" if isinstance(result, TryLater)
                  else type(result).__name__)[:300]
        self._later(payment, holder, "verified", {**kept, "forward_error": reason})  # verified and kept: originated next try
        return "verified"
