"""The payment platform's calls (INIT, QUERY, GET_BILL) and its callbacks (CONFIRM), for the national
platform and the PayGov-style provincial variant behind one interface (``Platform``), chosen by
``[payment] variant``.

Every answer is classified: ``ok``; ``exists`` (the reference was created already); ``transient`` (no
answer, 5xx, 429, a code worth retrying); ``refused`` (anything else, with the platform's code and words).
"""

import base64
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from connectors.payment.checksum import CONFIRM_FIELDS, QUERY_FIELDS, ma_xac_thuc, paygov_checksum, same
from connectors.payment.messages import slash
from connectors.payment.settings import PaymentSettings
from connectors.payment.transform import PaymentRequest, stamp
from gateway.kit import HttpClient, HttpError, HttpTimeout, Reply, scrub

Kind = Literal["ok", "exists", "transient", "refused"]


@dataclass(frozen=True)
class Answer:
    kind: Kind
    code: str = ""
    message: str = ""  # the platform's words, scrubbed of personal data
    data: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None


@dataclass(frozen=True)
class Confirm:
    """A CONFIRM callback read in the platform's terms: authenticated or not."""

    authentic: bool
    reference: str
    transaction: str
    code: str  # "00": paid
    amount: str
    bank: str
    paid_at: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class Bill:
    document: bytes  # the signed receipt (PDF or XML)
    number: str | None  # SoBienLai


class Platform(Protocol):
    variant: str

    def init(self, request: PaymentRequest) -> Answer: ...

    def query(self, reference: str) -> Answer: ...

    def get_bill(self, reference: str) -> tuple[Answer, Bill | None]: ...

    def read_confirm(self, body: dict[str, Any]) -> Confirm: ...

    def reply(self, confirm: Confirm | None, code: str, message: str) -> dict[str, Any]: ...

    def close(self) -> None: ...


def _classify(reply: Reply, code_key: str, settings: PaymentSettings) -> Answer:
    if reply.status_code == 429 or reply.status_code >= 500:
        return Answer("transient", str(reply.status_code), f"HTTP {reply.status_code}", retry_after=reply.retry_after)
    try:
        data = reply.json()
    except ValueError:
        return Answer("transient", str(reply.status_code), slash("payment.answer.unreadable"))
    if not isinstance(data, dict):
        return Answer("transient", str(reply.status_code), slash("payment.answer.unreadable"))
    code = str(data.get(code_key, "")).strip()
    message = scrub(str(data.get("MoTaLoi") or data.get("message") or ""))[:300]
    if reply.status_code >= 400:
        return Answer("refused", code or str(reply.status_code), message or f"HTTP {reply.status_code}", data)
    if code == "00":
        return Answer("ok", code, message, data)
    if code in settings.already_exists:
        return Answer("exists", code, message, data)
    if code in settings.transient_codes:
        return Answer("transient", code, message, data)
    return Answer("refused", code, message, data)


def _post(http: HttpClient, url: str, message: dict[str, Any], code_key: str, settings: PaymentSettings) -> Answer:
    try:
        return _classify(http.post(url, json=message), code_key, settings)
    except HttpTimeout as exc:
        return Answer("transient", "timeout", slash("payment.answer.timeout", kind=exc.kind))
    except HttpError as exc:
        return Answer("transient", "connection", slash("payment.answer.connection", kind=exc.kind))


def _document(data: dict[str, Any], key: str, limit: int) -> bytes | None:
    text = data.get(key)
    if not isinstance(text, str) or len(text) > limit * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def _bill(answer: Answer, content_field: str, number_field: str, limit: int) -> tuple[Answer, Bill | None]:
    """A bill answer's receipt (base64 under ``content_field``) and its number; a refusal when it is unreadable."""
    if answer.kind != "ok":
        return answer, None
    document = _document(answer.data, content_field, limit)
    if document is None:
        return Answer("refused", answer.code, slash("payment.answer.bad_receipt")), None
    number = answer.data.get(number_field)
    return answer, Bill(document, str(number) if number else None)


class NationalPlatform:
    """The national portal's payment platform (PhienBan 1.0.6; MaXacThuc; MaLoi "00")."""

    variant = "national"

    def __init__(self, settings: PaymentSettings) -> None:
        self.settings = settings
        self.http = HttpClient(settings.url, timeout=settings.timeout_seconds, max_connections=16)

    def _signed(self, message: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        return {**message, "MaXacThuc": ma_xac_thuc(message, fields, self.settings.secret)}

    def _send(self, kind: str, reference: str, fields: tuple[str, ...], **rest: Any) -> Answer:
        """One message to the platform: the header every message starts with, then ``rest``, signed over ``fields``."""
        s = self.settings
        message = {"LoaiBanTin": kind, "PhienBan": s.phien_ban, "MaDoiTac": s.partner_code, "MaThamChieu": reference,
                   **rest}
        return _post(self.http, s.endpoint, self._signed(message, fields), "MaLoi", s)

    def init(self, request: PaymentRequest) -> Answer:
        s = self.settings
        return self._send("INIT", request.reference, s.init_fields, SoTien=str(request.amount),
                          LoaiHinhThanhToan="PAY", MaKenhThanhToan=s.channel, MaThietBi=s.device, NgonNgu="vi-VN",
                          MaTienTe="VND", MaNganHang=s.bank_code, ThongTinGiaoDich=request.description,
                          ThoiGianGD=stamp(), Ip=s.client_ip, ThongTinBienLai=request.receipt_info)

    def query(self, reference: str) -> Answer:
        return self._send("QUERY", reference, QUERY_FIELDS, ThoiGianGD=stamp())

    def get_bill(self, reference: str) -> tuple[Answer, Bill | None]:
        return _bill(self._send("GET_BILL", reference, QUERY_FIELDS, ThoiGianGD=stamp()), "NoiDungBienLai", "SoBienLai",
                     self.settings.max_receipt_bytes)

    def read_confirm(self, body: dict[str, Any]) -> Confirm:
        expected = ma_xac_thuc(body, CONFIRM_FIELDS, self.settings.secret)
        authentic = same(body.get("MaXacThuc"), expected) and body.get("LoaiBanTin") == "CONFIRM" \
            and str(body.get("MaDoiTac", "")) == self.settings.partner_code
        def text(key: str) -> str:  # strings as the platform sends
            return str(body.get(key, "") or "").strip()
        return Confirm(authentic, text("MaThamChieu"), text("MaGiaoDich"), text("MaLoi"), text("SoTien"),
                       text("MaNganHang"), text("ThoiGianGD"), body)

    def reply(self, confirm: Confirm | None, code: str, message: str) -> dict[str, Any]:
        answer = {"MaLoi": code, "MoTaLoi": message, "MaDoiTac": self.settings.partner_code,
                  "MaThamChieu": confirm.reference if confirm else "", "ThoiGianGD": stamp()}
        return self._signed(answer, self.settings.reply_fields)

    def close(self) -> None:
        self.http.close()


class PayGovPlatform:
    """A PayGov-style provincial gateway: its checksum over (secretKey, accessKey, partnerCode, orderId,
    requestCode, amount), ``errorCode`` "00" on success; the same messages under its own names."""

    variant = "paygov"

    def __init__(self, settings: PaymentSettings) -> None:
        self.settings = settings
        self.http = HttpClient(settings.url, timeout=settings.timeout_seconds, max_connections=16)

    def _sum(self, order_id: str, request_code: str, amount: Any) -> str:
        s = self.settings
        return paygov_checksum(s.secret, s.access_key, s.partner_code, order_id, request_code, amount)

    def _message(self, request_code: str, order_id: str, amount: Any, **extra: Any) -> dict[str, Any]:
        return {"partnerCode": self.settings.partner_code, "accessKey": self.settings.access_key,
                "requestCode": request_code, "orderId": order_id, "amount": str(amount), **extra,
                "checksum": self._sum(order_id, request_code, amount)}

    def init(self, request: PaymentRequest) -> Answer:
        message = self._message("CREATE", request.reference, request.amount, orderInfo=request.description,
                                requestTime=stamp(), billInfo=request.receipt_info, ipAddress=self.settings.client_ip)
        return _post(self.http, self.settings.paygov_endpoints["init"], message, "errorCode", self.settings)

    def query(self, reference: str) -> Answer:
        return _post(self.http, self.settings.paygov_endpoints["query"], self._message("QUERY", reference, ""),
                     "errorCode", self.settings)

    def get_bill(self, reference: str) -> tuple[Answer, Bill | None]:
        return _bill(_post(self.http, self.settings.paygov_endpoints["bill"], self._message("BILL", reference, ""),
                           "errorCode", self.settings), "billContent", "billNo", self.settings.max_receipt_bytes)

    def read_confirm(self, body: dict[str, Any]) -> Confirm:
        def text(key: str) -> str:
            return str(body.get(key, "") or "").strip()
        expected = self._sum(text("orderId"), text("requestCode"), text("amount"))
        authentic = same(body.get("checksum"), expected) and text("partnerCode") == self.settings.partner_code \
            and text("requestCode") == "CONFIRM"
        return Confirm(authentic, text("orderId"), text("transactionId"), text("errorCode"), text("amount"),
                       text("bankCode"), text("payDate"), body)

    def reply(self, confirm: Confirm | None, code: str, message: str) -> dict[str, Any]:
        order = confirm.reference if confirm else ""
        return {"errorCode": code, "message": message, "partnerCode": self.settings.partner_code, "orderId": order,
                "checksum": self._sum(order, "CONFIRM_REPLY", code)}

    def close(self) -> None:
        self.http.close()


def platform_for(settings: PaymentSettings) -> Platform:
    return NationalPlatform(settings) if settings.variant == "national" else PayGovPlatform(settings)
