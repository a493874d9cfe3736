"""A simulator of the payment platform (national, or PayGov-style), strict like the real one.

It checks MaXacThuc / checksum, the partner code and version of every call; keeps the payments it was
asked for; completes each on a clock (``pay_after_seconds`` × ``time_scale``) and calls the gateway back
with CONFIRM; answers QUERY and GET_BILL (a signed receipt: PDF/PAdES or XML-DSig, by the bank's key).

Faults (``POST /_admin/faults`` JSON, each switchable): ``duplicate`` (every CONFIRM sent twice),
``late_seconds`` (CONFIRM delayed), ``out_of_order`` (a failed attempt's CONFIRM with another MaGiaoDich
after the success), ``wrong_checksum``, ``amount_delta`` (CONFIRM says another amount), ``receipt``
("ok" | "tampered" | "untrusted"), ``receipt_format`` ("pdf" | "xml"), ``bill_unavailable``, ``init_error`` (INIT answers this code; with ``init_error_times`` N only the next N
do), ``drop_callback`` (paid, but
no CONFIRM ever sent: only QUERY tells), ``bill_delay_seconds`` (GET_BILL answered that late). ``POST /_admin/resend/{ref}`` sends a paid payment's CONFIRM now.
``POST /_admin/confirm/{ref}`` completes one now; ``POST /_admin/callback`` sends a raw callback
(e.g. for a reference it never created); ``GET /_admin/record`` is what it holds and what it was told.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import base64
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.payment.checksum import CONFIRM_FIELDS, QUERY_FIELDS, ma_xac_thuc, paygov_checksum, same
from connectors.payment.simulator.receipts import signed_pdf, signed_xml, tamper
from connectors.payment.transform import stamp
from gateway.kit import HttpClient, HttpError

log = logging.getLogger(__name__)


@dataclass
class SimulatorSettings:
    secret: str
    partner_code: str
    bank_key: Path
    bank_cert: Path
    bank_chain: list[Path]
    untrusted_key: Path | None = None
    untrusted_cert: Path | None = None
    untrusted_chain: list[Path] = field(default_factory=list)
    access_key: str = ""
    variant: str = "national"
    callback_url: str = ""
    pay_after_seconds: float = 60.0
    time_scale: float = 1.0  # 0.001: a minute of the platform in 60 ms
    init_fields: tuple[str, ...] = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe",
                                    "ThoiGianGD")
    reply_fields: tuple[str, ...] = ("MaLoi", "MoTaLoi", "MaDoiTac", "MaThamChieu", "ThoiGianGD")


DEFAULT_FAULTS: dict[str, Any] = {"duplicate": False, "late_seconds": 0.0, "out_of_order": False,
                                  "wrong_checksum": False, "amount_delta": 0, "receipt": "ok",
                                  "receipt_format": "pdf", "bill_unavailable": False, "init_error": "",
                                  "init_error_times": 0, "drop_callback": False, "bill_delay_seconds": 0.0}


class Platform:
    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.faults = dict(DEFAULT_FAULTS)
        self.payments: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []  # every callback sent and the gateway's reply
        self.refused: list[dict[str, Any]] = []  # calls it refused (bad MaXacThuc, fields)
        self.dropped: list[str] = []  # references whose CONFIRM was never sent (fault drop_callback)
        self.lock = threading.Lock()
        self.http = HttpClient(timeout=10.0, max_connections=64)
        self.stopping = threading.Event()
        self.clock = threading.Thread(target=self._tick, name="payment-sim-clock", daemon=True)
        self.clock.start()

    # --- the gateway's calls ---

    def refuse(self, code: str, vi: str, en: str, message: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.refused.append({"code": code, "message_en": en, "type": message.get("LoaiBanTin")
                                 or message.get("requestCode")})
        return {"code": code, "text": f"{vi} — {en}"}

    def national(self, message: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        kind = message.get("LoaiBanTin")
        fields = s.init_fields if kind == "INIT" else QUERY_FIELDS
        if kind not in ("INIT", "QUERY", "GET_BILL"):
            return self._reply(message, **self.refuse("01", "Loại bản tin không hỗ trợ", "unsupported message", message))
        if not same(message.get("MaXacThuc"), ma_xac_thuc(message, fields, s.secret)):
            return self._reply(message, **self.refuse("07", "Sai mã xác thực", "wrong MaXacThuc", message))
        if message.get("MaDoiTac") != s.partner_code or message.get("PhienBan") != "1.0.6":
            return self._reply(message, **self.refuse("01", "Sai đối tác hoặc phiên bản", "wrong partner or version",
                                                      message))
        reference = str(message.get("MaThamChieu") or "")
        if kind == "INIT":
            missing = [k for k in ("SoTien", "MaTienTe", "ThongTinBienLai", "ThoiGianGD", "LoaiHinhThanhToan")
                       if message.get(k) in (None, "")]
            if missing or not str(message["SoTien"]).isdigit():
                return self._reply(message, **self.refuse("01", "Thiếu hoặc sai trường", f"bad fields {missing}",
                                                          message))
            return self._reply(message, **self.init(reference, int(message["SoTien"]), message["ThongTinBienLai"]))
        payment = self.payments.get(reference)
        if payment is None:
            return self._reply(message, code="02", text="Không tìm thấy giao dịch — unknown reference")
        if kind == "QUERY":
            return self._reply(message, code="00", text="", TrangThai=payment["state"],
                               MaGiaoDich=payment.get("transaction", ""), SoTien=str(payment["amount"]),
                               **({"MaNganHang": "VCB", "ThoiGianGDThanhToan": payment["paid_at"]}
                                  if payment.get("paid_at") else {}))
        bill = self.bill(payment)
        if bill is None:
            return self._reply(message, code="99", text="Biên lai chưa sẵn sàng — receipt not ready")
        number, document = bill
        return self._reply(message, code="00", text="", SoBienLai=number,
                           NoiDungBienLai=base64.b64encode(document).decode("ascii"))

    def _reply(self, message: dict[str, Any], code: str, text: str, **extra: Any) -> dict[str, Any]:
        return {"MaLoi": code, "MoTaLoi": text, "MaDoiTac": self.settings.partner_code,
                "MaThamChieu": message.get("MaThamChieu", ""), "ThoiGianGD": stamp(), **extra}

    def init(self, reference: str, amount: int, info: Any) -> dict[str, Any]:
        if code := self.faults["init_error"]:
            with self.lock:  # init_error_times > 0: only that many INIT calls fail, then the platform recovers
                if left := int(self.faults["init_error_times"]):
                    self.faults["init_error_times"] = left - 1
                    self.faults["init_error"] = "" if left == 1 else code
            return {"code": str(code), "text": "Lỗi hệ thống — platform error"}
        with self.lock:
            if reference in self.payments:
                return {"code": "09", "text": "Mã tham chiếu đã tồn tại — reference exists"}
            due = time.monotonic() + self.settings.pay_after_seconds * self.settings.time_scale
            self.payments[reference] = {"reference": reference, "amount": amount, "info": info, "state": "pending",
                                        "due": due}
        return {"code": "00", "text": "", "UrlThanhToan": f"https://thanhtoan.example.gov.vn/pay/{reference}"}

    def bill(self, payment: dict[str, Any]) -> tuple[str, bytes] | None:
        payment["bill_calls"] = payment.get("bill_calls", 0) + 1
        time.sleep(float(self.faults["bill_delay_seconds"]))  # a slow platform (in the request's own thread)
        if payment["state"] != "paid" or self.faults["bill_unavailable"]:
            return None
        s, info = self.settings, payment["info"] if isinstance(payment["info"], dict) else {}
        number = f"BL{payment['transaction'][-10:]}"
        values = {"SoBienLai": number, "MaThamChieu": payment["reference"], "MaGiaoDich": payment["transaction"],
                  "SoTien": str(payment["amount"]), "MaHoSo": str(info.get("MaHoSo", "")), "ThoiGianGD": payment["paid_at"]}
        key, cert, chain = s.bank_key, s.bank_cert, s.bank_chain
        untrusted = self.faults["receipt"] == "untrusted" and s.untrusted_key and s.untrusted_cert
        if untrusted:
            key, cert, chain = s.untrusted_key, s.untrusted_cert, s.untrusted_chain  # type: ignore[assignment]  # checked just above: the untrusted key and certificate are set
        fmt = self.faults["receipt_format"]
        issued = payment.setdefault("bills", {})  # a receipt once issued stays the same document
        document = issued.get((fmt, bool(untrusted)))
        if document is None:
            if fmt == "xml":
                document = signed_xml(values, key, cert)
            else:
                document = signed_pdf([f"{k}: {v}" for k, v in values.items()], key, cert, chain)
            issued[(fmt, bool(untrusted))] = document
        if self.faults["receipt"] == "tampered":
            document = tamper(document, str(payment["amount"]))
        return number, document

    # --- PayGov-style ---

    def paygov(self, request_code: str, message: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        order, amount = str(message.get("orderId", "")), str(message.get("amount", ""))
        expected = paygov_checksum(s.secret, s.access_key, s.partner_code, order, request_code, amount)
        if message.get("requestCode") != request_code or not same(message.get("checksum"), expected) \
                or message.get("accessKey") != s.access_key:
            refusal = self.refuse("07", "Sai checksum", "wrong checksum", message)
            return {"errorCode": refusal["code"], "message": refusal["text"]}
        if request_code == "CREATE":
            if not amount.isdigit():
                return {"errorCode": "01", "message": "amount"}
            answer = self.init(order, int(amount), message.get("billInfo"))
            return {"errorCode": answer["code"], "message": answer["text"], "orderId": order,
                    "payUrl": answer.get("UrlThanhToan", "")}
        payment = self.payments.get(order)
        if payment is None:
            return {"errorCode": "02", "message": "unknown order"}
        if request_code == "QUERY":
            return {"errorCode": "00", "orderId": order, "status": payment["state"], "amount": str(payment["amount"]),
                    "transactionId": payment.get("transaction", ""),
                    **({"bankCode": "VCB", "payDate": payment["paid_at"]} if payment.get("paid_at") else {})}
        bill = self.bill(payment)
        if bill is None:
            return {"errorCode": "99", "message": "receipt not ready"}
        return {"errorCode": "00", "orderId": order, "billNo": bill[0],
                "billContent": base64.b64encode(bill[1]).decode("ascii")}

    # --- the clock and the callbacks ---

    def _tick(self) -> None:
        while not self.stopping.wait(0.02):
            now = time.monotonic()
            with self.lock:
                due = [p for p in self.payments.values() if p["state"] == "pending" and p["due"] <= now]
                for payment in due:
                    payment["state"] = "paying"
            for payment in due:
                threading.Thread(target=self.complete, args=(payment,), daemon=True).start()

    def complete(self, payment: dict[str, Any]) -> None:
        """The citizen paid: record it and tell the gateway (with whatever faults are on)."""
        with self.lock:
            payment.update(state="paid", transaction=f"FT{uuid.uuid4().hex[:14].upper()}", paid_at=stamp())
        if self.faults["drop_callback"]:  # the callback lost on the way: only QUERY will tell the gateway
            with self.lock:
                self.dropped.append(payment["reference"])
            return
        late = float(self.faults["late_seconds"])
        if late:
            time.sleep(late)
        amount = payment["amount"] + int(self.faults["amount_delta"])
        self.callback(payment["reference"], payment["transaction"], amount, "00")
        if self.faults["duplicate"]:
            self.callback(payment["reference"], payment["transaction"], amount, "00")
        if self.faults["out_of_order"]:  # an earlier, failed attempt's callback arriving after the success
            self.callback(payment["reference"], f"FT{uuid.uuid4().hex[:14].upper()}", amount, "24")

    def confirm_message(self, reference: str, transaction: str, amount: int, code: str) -> dict[str, Any]:
        s = self.settings
        if s.variant == "paygov":
            message = {"partnerCode": s.partner_code, "requestCode": "CONFIRM", "orderId": reference,
                       "amount": str(amount), "transactionId": transaction, "errorCode": code, "bankCode": "VCB",
                       "payDate": stamp()}
            message["checksum"] = paygov_checksum(s.secret + ("x" if self.faults["wrong_checksum"] else ""),
                                                  s.access_key, s.partner_code, reference, "CONFIRM", str(amount))
            return message
        message = {"LoaiBanTin": "CONFIRM", "MaLoi": code, "MaDoiTac": s.partner_code, "MaThamChieu": reference,
                   "SoTien": str(amount), "MaTienTe": "VND", "MaGiaoDich": transaction, "MaNganHang": "VCB",
                   "ThoiGianGD": stamp(), "ThongTinGiaoDich": f"Thanh toan {reference}"}
        secret = s.secret + ("x" if self.faults["wrong_checksum"] else "")
        message["MaXacThuc"] = ma_xac_thuc(message, CONFIRM_FIELDS, secret)
        return message

    def callback(self, reference: str, transaction: str, amount: int, code: str,
                 message: dict[str, Any] | None = None) -> dict[str, Any]:
        message = message or self.confirm_message(reference, transaction, amount, code)
        entry: dict[str, Any] = {"reference": reference, "transaction": transaction, "code": code, "sent_at": time.time()}
        try:
            reply = self.http.post(self.settings.callback_url, json=message)
            entry |= {"status": reply.status_code, "reply": reply.json() if reply.content else None}
            if self.settings.variant == "national" and isinstance(entry["reply"], dict):
                expected = ma_xac_thuc(entry["reply"], self.settings.reply_fields, self.settings.secret)
                entry["reply_authentic"] = same(entry["reply"].get("MaXacThuc"), expected)
        except (HttpError, ValueError) as exc:
            entry |= {"status": None, "error": type(exc).__name__}
        entry["replied_at"] = time.time()
        with self.lock:
            self.sent.append(entry)
        return entry


def create_app(settings: SimulatorSettings) -> FastAPI:
    platform = Platform(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        platform.stopping.set()  # the clock stops with the server

    app = FastAPI(title="Payment platform simulator", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.platform = platform

    async def body(request: Request) -> dict[str, Any] | None:
        raw = await request.body()
        if len(raw) > 1_000_000:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @app.post("/api/thanhtoan")
    async def national(request: Request) -> JSONResponse:
        message = await body(request)
        if message is None:
            return JSONResponse({"MaLoi": "01", "MoTaLoi": "Bản tin không đọc được — unreadable"}, status_code=400)
        return JSONResponse(await run_in_threadpool(platform.national, message))

    def paygov_route(code: str) -> Any:
        async def paygov(request: Request) -> JSONResponse:
            message = await body(request)
            if message is None:
                return JSONResponse({"errorCode": "01", "message": "unreadable"}, status_code=400)
            return JSONResponse(await run_in_threadpool(platform.paygov, code, message))
        return paygov

    for name, code in (("create", "CREATE"), ("query", "QUERY"), ("bill", "BILL")):
        app.add_api_route(f"/paygov/{name}", paygov_route(code), methods=["POST"])

    @app.post("/_admin/faults")
    async def faults(request: Request) -> dict[str, Any]:
        changes = await body(request) or {}
        unknown = set(changes) - set(DEFAULT_FAULTS)
        if unknown:
            return {"error": f"unknown faults {sorted(unknown)}"}
        platform.faults.update(changes)
        return platform.faults

    @app.post("/_admin/reset")
    async def reset() -> dict[str, Any]:
        with platform.lock:
            platform.payments.clear()
            platform.sent.clear()
            platform.refused.clear()
            platform.faults = dict(DEFAULT_FAULTS)
        return {"ok": True}

    @app.post("/_admin/settings")
    async def change(request: Request) -> dict[str, Any]:
        values = await body(request) or {}
        for key in ("callback_url", "time_scale", "pay_after_seconds"):
            if key in values:
                setattr(settings, key, values[key])
        return {"callback_url": settings.callback_url, "time_scale": settings.time_scale}

    @app.post("/_admin/callback")
    async def raw_callback(request: Request) -> dict[str, Any]:
        """Sends a CONFIRM the platform builds (fields given override it) — e.g. for an unknown reference."""
        values = await body(request) or {}
        message = platform.confirm_message(str(values.get("reference", "")), str(values.get("transaction", "FT0")),
                                           int(values.get("amount", 0)), str(values.get("code", "00")))
        return await run_in_threadpool(platform.callback, message.get("MaThamChieu", message.get("orderId", "")),
                                       str(values.get("transaction", "FT0")), 0, "00", message)

    @app.post("/_admin/paid")
    async def seed_paid(request: Request) -> dict[str, Any]:
        """Payments already paid (benches): [{reference, amount, transaction, info}], receipts issued now."""
        seeds = json.loads(await request.body() or b"[]")

        def issue() -> int:
            for seed in seeds:
                payment = {"reference": seed["reference"], "amount": int(seed["amount"]), "info": seed.get("info", {}),
                           "state": "paid", "transaction": seed["transaction"], "paid_at": stamp(), "due": 0.0}
                platform.bill(payment)
                payment["bill_calls"] = 0  # issued here, not asked for
                with platform.lock:
                    platform.payments[payment["reference"]] = payment
            return len(seeds)
        return {"seeded": await run_in_threadpool(issue)}

    @app.post("/_admin/resend/{reference}")
    async def resend(reference: str) -> dict[str, Any]:
        """The last CONFIRM of a paid payment, sent again (a late duplicate)."""
        payment = platform.payments.get(reference)
        if payment is None or payment["state"] != "paid":
            return {"error": "not paid"}
        return await run_in_threadpool(platform.callback, reference, payment["transaction"], payment["amount"], "00")

    @app.get("/_admin/record")
    async def record() -> dict[str, Any]:
        with platform.lock:
            return {"payments": {k: {key: v for key, v in p.items() if key not in ("due", "bills")}
                                 for k, p in platform.payments.items()},
                    "sent": list(platform.sent), "refused": list(platform.refused),
                    "dropped": list(platform.dropped)}

    return app
