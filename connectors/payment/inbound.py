"""The platform's CONFIRM callback: ``POST /v1/payment/confirm`` (national) or
``POST /v1/payment/paygov/confirm`` (PayGov variant) — whichever ``[payment] variant`` chose.

No gateway API key: the message authenticates itself (MaXacThuc / checksum, compared in constant time).
In order, and nothing done before the check:
  1. forged (wrong MaXacThuc, partner or message type): refused 401, audited (``payment.callback.forged``);
  2. unknown reference: refused 404, audited (``payment.callback.unknown``);
  3. once per (MaThamChieu, MaGiaoDich): a repeat gets the first reply, nothing is done again;
  4. not paid (MaLoi ≠ "00"): recorded (state ``failed``) unless the payment settled already (a late or
     out-of-order callback never undoes a settled payment);
  5. amount ≠ what the gateway asked: flagged (state ``amount_mismatch``, audited), nothing forwarded;
  6. GET_BILL, then the receipt's signature verified under the bank purpose's trust; a failure stops
     there (state ``receipt_rejected`` with its reason, audited with the report); indeterminate for now
     (TRY_LATER, REVOCATION_UNKNOWN) is answered "try later" (503, 99) and decided at the next try;
  7. only then the BienLaiThanhToan packet is originated (stored with its job to the provincial portal);
     the verification report stays with the payment and in the dossier's audit trail.
Blocking work (store, GET_BILL, verification, origination) runs off the event loop.
"""

from dataclasses import replace
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.payment.client import Confirm, Platform, platform_for
from connectors.payment.receipt import verify_receipt
from connectors.payment.settings import PaymentSettings
from connectors.payment.transform import receipt_packet, stamp
from gateway.kit import (Accepted, Config, ConfigError, Refused, Store, TrustError, TrustPolicy, TryLater, Unreadable,
                         parse_json)

log = logging.getLogger(__name__)
MAX_CALLBACK_BYTES = 64 * 1024

# Reply codes (the platform publishes only "00"): ours, in the platform's format.
OK, BAD_REQUEST, FORGED, UNKNOWN, MISMATCH, LATER = "00", "01", "07", "02", "03", "99"


class Callbacks:
    def __init__(self, platform: Platform, services: Any, trust: TrustPolicy, settings: PaymentSettings) -> None:
        self.platform, self.services, self.trust, self.settings = platform, services, trust, settings

    @property
    def store(self) -> Store:
        return self.services.store  # type: ignore[no-any-return]  # opened by the gateway on first use

    def originate(self, data: bytes, encoding: str) -> Any:
        return self.services.originate(data, encoding)

    def _answer(self, status: int, confirm: Confirm | None, code: str, vi: str, en: str) -> JSONResponse:
        return JSONResponse(self.platform.reply(confirm, code, f"{vi} — {en}"), status_code=status)

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_CALLBACK_BYTES:
            return self._answer(413, None, BAD_REQUEST, "Bản tin quá lớn", "message too large")
        try:
            message = parse_json(body.decode("utf-8"))
        except (Unreadable, UnicodeDecodeError, ValueError):
            return self._answer(400, None, BAD_REQUEST, "Bản tin không đọc được", "unreadable message")
        status, reply = await run_in_threadpool(self.confirm, message, request.client.host if request.client else "-")
        return JSONResponse(reply, status_code=status)

    def confirm(self, message: dict[str, Any], source: str) -> tuple[int, dict[str, Any]]:
        """Blocking: the whole callback, from the check of its MaXacThuc to the originated packet."""
        confirm = self.platform.read_confirm(message)
        if not confirm.authentic:
            self.store.audit("payment-platform", "payment.callback.forged", confirm.reference[:64] or "-",
                             {"source": source, "variant": self.platform.variant})
            return 401, self.platform.reply(None, FORGED, "Mã xác thực không đúng — wrong MaXacThuc")
        payment = self.store.payment(confirm.reference) if confirm.reference else None
        if payment is None:
            self.store.audit("payment-platform", "payment.callback.unknown", confirm.reference[:64] or "-",
                             {"transaction": confirm.transaction[:64], "source": source})
            return 404, self.platform.reply(confirm, UNKNOWN,
                                            "Mã tham chiếu không tồn tại — unknown payment reference")
        if not confirm.transaction:
            return 400, self.platform.reply(confirm, BAD_REQUEST, "Thiếu mã giao dịch — no MaGiaoDich")
        first = self.store.claim_callback(confirm.reference, confirm.transaction)
        if first is not None:  # a repeat: the first reply, nothing done again
            return int(first.get("status", 200)), first["reply"]
        return self._settle(confirm, payment)

    def settle_queried(self, confirm: Confirm) -> tuple[int, dict[str, Any]]:
        """A payment QUERY found paid (the reconciler, when no CONFIRM came): handled exactly as its callback,
        claimed on the same (MaThamChieu, MaGiaoDich), so the callback arriving later gets this reply. An answer
        without an amount is taken at the amount asked (QUERY's amount field is not published)."""
        payment = self.store.payment(confirm.reference)
        if payment is None:
            return 404, self.platform.reply(confirm, UNKNOWN, "Mã tham chiếu không tồn tại — unknown payment reference")
        if not confirm.amount:
            confirm = replace(confirm, amount=str(int(payment["amount"])))
        first = self.store.claim_callback(confirm.reference, confirm.transaction)
        if first is not None:
            return int(first.get("status", 200)), first["reply"]
        return self._settle(confirm, payment)

    def _done(self, confirm: Confirm, state: str, status: int, code: str, words: str,
              detail: dict[str, Any] | None = None, audit: tuple[str, str, dict[str, Any]] | None = None,
              transaction: str | None = None) -> tuple[int, dict[str, Any]]:
        """The payment's new state, its audit entry and the callback's reply, in one transaction: a repeat
        of this callback then gets this reply."""
        reply = self.platform.reply(confirm, code, words)
        self.store.update_payment(confirm.reference, state, detail, transaction=transaction, audit=audit,
                                  callback=(confirm.transaction, {"status": status, "reply": reply}))
        return status, reply

    def _settle(self, confirm: Confirm, payment: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        reference, txn = confirm.reference, confirm.transaction
        settled = payment["state"] == "forwarded" or (payment["state"] == "verified" and payment["transaction_id"] != txn)
        if settled:  # late or out of order: never undoes a settled payment (a verified one of this txn goes on)
            return self._done(confirm, payment["state"], 200, OK, "Đã ghi nhận — recorded (payment already settled)",
                              audit=("payment-platform", "payment.callback.after_settled",
                                     {"transaction": txn, "code": confirm.code,
                                      "settled_by": payment["transaction_id"]}))
        if confirm.code != "00":
            return self._done(confirm, "failed", 200, OK, "Đã ghi nhận — recorded (not paid)",
                              {"platform_code": confirm.code}, transaction=txn,
                              audit=("payment-platform", "payment.failed", {"transaction": txn, "code": confirm.code}))
        if not confirm.amount.isdigit() or int(confirm.amount) != int(payment["amount"]):
            detail = {"expected": int(payment["amount"]), "received": confirm.amount[:20],
                      "reason_vi": "Số tiền thanh toán không khớp với số tiền yêu cầu",
                      "reason_en": "the amount paid differs from the amount requested"}
            log.warning("payment %s: amount mismatch — số tiền không khớp", reference)
            return self._done(confirm, "amount_mismatch", 200, MISMATCH, "Số tiền không khớp — amount mismatch",
                              detail, transaction=txn,
                              audit=("payment-platform", "payment.amount_mismatch", {**detail, "transaction": txn}))
        answer, bill = self.platform.get_bill(reference)
        paid = {"bank": confirm.bank, "paid_at": confirm.paid_at}
        if bill is None:
            if answer.kind == "transient":  # left open: the platform's next try is handled anew
                self.store.update_payment(reference, "confirmed", {**paid, "bill_error": answer.message,
                                                                   "bill_code": answer.code}, transaction=txn)
                return 503, self.platform.reply(confirm, LATER, "Chưa lấy được biên lai, gửi lại sau — "
                                                                "receipt not fetched yet, call again later")
            return self._reject(confirm, "BILL_UNAVAILABLE", {"code": answer.code, "message": answer.message})
        checked = verify_receipt(bill.document, self.trust, self.settings.max_receipt_bytes)
        if checked.later:  # not decided yet (revocation unknown for now …): left open, verified at the next try
            self.store.update_payment(reference, "confirmed", {**paid, "verification": checked.report,
                                                               "reason": checked.reason}, transaction=txn)
            return 503, self.platform.reply(confirm, LATER, "Chưa kiểm tra xong chữ ký biên lai, gửi lại sau — "
                                                            "receipt signature not decided yet, call again later")
        if not checked.passed:
            return self._reject(confirm, checked.reason, checked.report)
        verified = {**paid, "verification": checked.report, "receipt_format": checked.format,
                    "receipt_number": bill.number}
        return self._forward(confirm, payment, bill.number, verified)

    def _reject(self, confirm: Confirm, reason: str, report: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        detail = {"reason": reason, "verification": report,
                  "reason_vi": "Biên lai không qua kiểm tra chữ ký số; chưa báo cổng tỉnh",
                  "reason_en": "the receipt failed signature verification; the provincial portal was not told"}
        log.warning("payment %s: receipt rejected (%s) — biên lai bị từ chối", confirm.reference, reason)
        return self._done(confirm, "receipt_rejected", 200, OK, "Đã ghi nhận; biên lai không hợp lệ — recorded; "
                          "receipt invalid", detail, transaction=confirm.transaction,
                          audit=("payment", "payment.receipt.rejected",
                                 {"reason": reason, "verdict": report.get("verdict"), "transaction": confirm.transaction}))

    def _forward(self, confirm: Confirm, payment: dict[str, Any], number: str | None,
                 verified: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        paid_at = confirm.paid_at if confirm.paid_at.isdigit() and len(confirm.paid_at) == 14 else stamp()
        packet_id, data = receipt_packet(payment, confirm.transaction, confirm.bank, paid_at, number)
        result = self.originate(data, "json")
        audit = {"format": verified["receipt_format"], "verdict": verified["verification"].get("verdict"),
                 "transaction": confirm.transaction, "packet": packet_id}
        if isinstance(result, Accepted):  # the intake's Accepted | Refused | TryLater (gateway.kit)
            return self._done(confirm, "forwarded", 200, OK, "Thành công — success", {**verified, "packet": packet_id},
                              transaction=confirm.transaction, audit=("payment", "payment.receipt.verified", audit))
        words = (f"{result.rule}: {result.message_en}" if isinstance(result, Refused)
                 else f"{result.reason}: {result.message_en}" if isinstance(result, TryLater) else type(result).__name__)[:300]
        if not isinstance(result, Refused):  # TryLater (or unknown): verified and kept; the next try originates it
            self.store.update_payment(confirm.reference, "verified", {**verified, "forward_error": words},
                                      transaction=confirm.transaction,
                                      audit=("payment", "payment.receipt.verified", audit))
            return 503, self.platform.reply(confirm, LATER, "Gửi lại sau — call again later")
        return self._done(confirm, "forward_refused", 200, OK, "Đã ghi nhận — recorded",
                          {**verified, "packet": packet_id, "reason": words}, transaction=confirm.transaction,
                          audit=("payment", "payment.forward.refused", {**audit, "reason": words}))


def callback_path(settings: PaymentSettings) -> str:
    return "/v1/payment/confirm" if settings.variant == "national" else "/v1/payment/paygov/confirm"


def trust_of(config: Config, settings: PaymentSettings) -> TrustPolicy:
    """The trust the bank's receipts are verified under."""
    try:
        return TrustPolicy.from_config(config, settings.receipt_purpose)
    except TrustError as exc:
        raise ConfigError(f"payment.receipt_purpose: {exc}") from exc


def install(app: FastAPI, config: Config, services: Any) -> Callbacks:
    """The spec's ``routes``: adds the callback endpoint; ``services`` gives ``store`` and ``originate``."""
    settings = PaymentSettings.from_config(config)
    callbacks = Callbacks(platform_for(settings), services, trust_of(config, settings), settings)
    app.add_api_route(callback_path(settings), callbacks.handle, methods=["POST"], include_in_schema=False)
    app.state.payment_callbacks = callbacks
    return callbacks


