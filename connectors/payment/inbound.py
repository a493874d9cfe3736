"""The platform's CONFIRM callback: ``POST /v1/payment/confirm`` (national) or
``POST /v1/payment/paygov/confirm`` (PayGov variant) — whichever ``[payment] variant`` chose.

No gateway API key: the message authenticates itself (MaXacThuc / checksum, compared in constant time).
The callback answers as soon as the CONFIRM is checked and durably recorded; the receipt's fetch (GET_BILL),
its signature verification and the BienLaiThanhToan's origination are the worker's (``settle.py``).
In order, and nothing done before the check:
  1. forged (wrong MaXacThuc, partner or message type): refused 401, audited (``payment.callback.forged``);
  2. unknown reference: refused 404, audited (``payment.callback.unknown``);
  3. once per (MaThamChieu, MaGiaoDich): a repeat gets the first reply, nothing is done again;
  4. not paid (MaLoi ≠ "00"): recorded (state ``failed``) unless the payment settled already (a late or
     out-of-order callback never undoes a settled payment; a payment confirmed by another transaction is settled);
  5. amount ≠ what the gateway asked: flagged (state ``amount_mismatch``, audited), nothing forwarded;
  6. paid: state ``confirmed`` with the transaction, bank and time, and the reply "00", in one transaction —
     durable before it says yes; the worker then fetches and verifies the receipt and originates the packet.
Blocking work (the store) runs off the event loop.
"""

from dataclasses import replace
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.payment.client import Confirm, Platform, platform_for
from connectors.payment.messages import words
from connectors.payment.settings import PaymentSettings
from connectors.payment.transform import stamp
from gateway.kit import Config, ConfigError, Store, TrustError, TrustPolicy, Unreadable, line, parse_json, text

log = logging.getLogger(__name__)
MAX_CALLBACK_BYTES = 64 * 1024

# Reply codes (the platform publishes only "00"): ours, in the platform's format.
OK, BAD_REQUEST, FORGED, UNKNOWN, MISMATCH, LATER = "00", "01", "07", "02", "03", "99"
# A payment another transaction has settled or is settling: a later callback changes nothing.
SETTLING = frozenset({"confirmed", "verified", "forwarded"})


class Callbacks:
    def __init__(self, platform: Platform, services: Any, settings: PaymentSettings) -> None:
        self.platform, self.services, self.settings = platform, services, settings

    @property
    def store(self) -> Store:
        return self.services.store  # type: ignore[no-any-return]  # opened by the gateway on first use

    def _answer(self, status: int, confirm: Confirm | None, code: str, rule: str) -> JSONResponse:
        return JSONResponse(self.platform.reply(confirm, code, words(rule)), status_code=status)

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_CALLBACK_BYTES:
            return self._answer(413, None, BAD_REQUEST, "payment.reply.too_large")
        try:
            message = parse_json(body.decode("utf-8"))
        except (Unreadable, UnicodeDecodeError, ValueError):
            return self._answer(400, None, BAD_REQUEST, "payment.reply.unreadable")
        status, reply = await run_in_threadpool(self.confirm, message, request.client.host if request.client else "-")
        return JSONResponse(reply, status_code=status)

    def confirm(self, message: dict[str, Any], source: str) -> tuple[int, dict[str, Any]]:
        """Blocking: the callback, from the check of its MaXacThuc to its durable record."""
        confirm = self.platform.read_confirm(message)
        if not confirm.authentic:
            self.store.audit("payment-platform", "payment.callback.forged", confirm.reference[:64] or "-",
                             {"source": source, "variant": self.platform.variant})
            return 401, self.platform.reply(None, FORGED, words("payment.reply.forged"))
        payment = self.store.payment(confirm.reference) if confirm.reference else None
        if payment is None:
            self.store.audit("payment-platform", "payment.callback.unknown", confirm.reference[:64] or "-",
                             {"transaction": confirm.transaction[:64], "source": source})
            return 404, self.platform.reply(confirm, UNKNOWN, words("payment.reply.unknown"))
        if not confirm.transaction:
            return 400, self.platform.reply(confirm, BAD_REQUEST, words("payment.reply.no_transaction"))
        return self._record(confirm)

    def settle_queried(self, confirm: Confirm) -> tuple[int, dict[str, Any]]:
        """A payment QUERY found paid (the reconciler, when no CONFIRM came): handled exactly as its callback,
        recorded on the same (MaThamChieu, MaGiaoDich), so the callback arriving later gets this reply. An answer
        without an amount is taken at the amount asked (QUERY's amount field is not published)."""
        payment = self.store.payment(confirm.reference)
        if payment is None:
            return 404, self.platform.reply(confirm, UNKNOWN, words("payment.reply.unknown"))
        if not confirm.amount:
            confirm = replace(confirm, amount=str(int(payment["amount"])))
        return self._record(confirm)

    def _record(self, confirm: Confirm) -> tuple[int, dict[str, Any]]:
        """Once per (MaThamChieu, MaGiaoDich), in one store transaction with the payment locked: a repeat gets
        the first reply and nothing is done again; else the payment's change, its audit entry and the reply."""
        _, answer = self.store.record_callback(confirm.reference, confirm.transaction,
                                               lambda payment: self._decide(confirm, payment))
        return int(answer.get("status", 200)), answer["reply"]

    def _change(self, confirm: Confirm, state: str, status: int, code: str, rule: str,
                detail: dict[str, Any] | None = None, audit: tuple[str, str, dict[str, Any]] | None = None,
                transaction: str | None = None) -> dict[str, Any]:
        reply = {"status": status, "reply": self.platform.reply(confirm, code, words(rule))}
        return {"state": state, "detail": detail, "transaction": transaction, "audit": audit, "reply": reply}

    def _decide(self, confirm: Confirm, payment: dict[str, Any]) -> dict[str, Any]:
        reference, txn = confirm.reference, confirm.transaction
        if payment["state"] in SETTLING and payment["transaction_id"] != txn:  # never undoes a settled payment
            return self._change(confirm, payment["state"], 200, OK, "payment.reply.after_settled",
                                audit=("payment-platform", "payment.callback.after_settled",
                                       {"transaction": txn, "code": confirm.code,
                                        "settled_by": payment["transaction_id"]}))
        if confirm.code != "00":
            return self._change(confirm, "failed", 200, OK, "payment.reply.not_paid",
                                {"platform_code": confirm.code}, transaction=txn,
                                audit=("payment-platform", "payment.failed", {"transaction": txn, "code": confirm.code}))
        if not confirm.amount.isdigit() or int(confirm.amount) != int(payment["amount"]):
            reason_vi, reason_en = text("payment.amount_mismatch")
            detail = {"expected": int(payment["amount"]), "received": confirm.amount[:20],
                      "reason_vi": reason_vi, "reason_en": reason_en}
            log.warning("%s", line("payment.log.amount_mismatch", reference=reference))
            return self._change(confirm, "amount_mismatch", 200, MISMATCH, "payment.reply.mismatch",
                                detail, transaction=txn,
                                audit=("payment-platform", "payment.amount_mismatch", {**detail, "transaction": txn}))
        # the receipt's time as the packet will carry it, fixed now: the worker originates the same bytes every try
        paid_at = confirm.paid_at if confirm.paid_at.isdigit() and len(confirm.paid_at) == 14 else stamp()
        return self._change(confirm, "confirmed", 200, OK, "payment.reply.recorded",
                            {"bank": confirm.bank[:32], "paid_at": paid_at}, transaction=txn)


def callback_path(settings: PaymentSettings) -> str:
    return "/v1/payment/confirm" if settings.variant == "national" else "/v1/payment/paygov/confirm"


def trust_of(config: Config, settings: PaymentSettings) -> TrustPolicy:
    """The trust the bank's receipts are verified under."""
    try:
        return TrustPolicy.from_config(config, settings.receipt_purpose)
    except TrustError as exc:
        raise ConfigError(f"payment.receipt_purpose: {exc}") from exc


def install(app: FastAPI, config: Config, services: Any) -> Callbacks:
    """The spec's ``routes``: adds the callback endpoint; ``services`` gives ``store``."""
    settings = PaymentSettings.from_config(config)
    trust_of(config, settings)  # a receipt purpose that cannot be loaded stops the start, not the worker's first try
    callbacks = Callbacks(platform_for(settings), services, settings)
    app.add_api_route(callback_path(settings), callbacks.handle, methods=["POST"], include_in_schema=False)
    app.state.payment_callbacks = callbacks
    return callbacks
