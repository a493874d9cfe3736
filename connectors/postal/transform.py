"""Packets into the postal service's order, and the service's tracking items into packets.

An order comes from a finished dossier returned by post (HoSo status 9, HinhThuc 1: the receiver is its
owner, the sender the agency's configured address) or from a VanDonBuuChinh (both parties in the packet).
A tracking item becomes a TrangThaiVanDon for the provincial portal; a delivery also a status-10 step
(TienDoXuLy) for the national portal. Their MaGoiTin are derived from the item, so reading an item
twice (a crash before the cursor moved) originates the same bytes: the intake takes them as a resend.
"""

from dataclasses import dataclass
from datetime import datetime
import json
from typing import Any
import unicodedata
import uuid
from zoneinfo import ZoneInfo

from connectors.postal.client import FeedItem
from connectors.postal.messages import slash
from connectors.postal.settings import PostalSettings, Sender, StatusMapping
from gateway.kit import text


def words(lang: int, rule: str, **fields: object) -> str:
    """One language of a sentence (0 Vietnamese, 1 English)."""
    return text(rule, **fields)[lang]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NAMESPACE = uuid.UUID("6f1c2b4e-9a57-4d0c-8b1e-2a9c0f5d7e31")  # MaGoiTin of originated packets


class NotOrderable(ValueError):
    """The packet cannot become an order (missing receiver data, no sender configured)."""


@dataclass(frozen=True)
class Order:
    body: dict[str, Any]
    order_number: str
    agency: str
    personal: tuple[str, ...]  # the values to mask wherever the service's answer repeats them


def _nfc(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip() if value is not None else ""


def _sender_fields(sender: Sender) -> dict[str, Any]:
    return {"SenderName": sender.name, "SenderAddress": sender.address, "SenderTel": sender.tel,
            "SenderEmail": sender.email, "SenderProvince": sender.province, "SenderDistrict": sender.district}


def order_from_dossier(hoso: Any, agency: str, settings: PostalSettings) -> Order:
    """The result of a finished dossier, to its owner."""
    sender = settings.sender(agency)
    name = _nfc(hoso.ChuHoSo)
    tel = _nfc(hoso.SoDienThoai)
    address = next((_nfc(getattr(hoso, f, None)) for f in settings.receiver_address_fields
                    if _nfc(getattr(hoso, f, None))), "")
    missing = [label for label, value in (("ChuHoSo", name), ("SoDienThoai", tel),
                                          ("/".join(settings.receiver_address_fields), address)) if not value]
    if missing:
        raise NotOrderable(slash("postal.no_receiver", missing=", ".join(missing)))
    body = {"CustomerCode": settings.customer_code, "OrderNumber": hoso.MaHoSo, "CODAmount": 0,
            **_sender_fields(sender), "SenderDesc": settings.sender_desc,
            "Description": _nfc(hoso.TenTTHC)[:500],
            "ReceiverName": name, "ReceiverAddress": address, "ReceiverTel": tel,
            "ReceiverEmail": _nfc(hoso.Email), "ReceiverProvince": sender.province,
            "ReceiverDistrict": sender.district, "Weight": settings.weight}
    return Order(body, hoso.MaHoSo, agency, tuple(v for v in (name, tel, address, _nfc(hoso.Email)) if v))


def order_from_waybill(van_don: Any, agency: str, settings: PostalSettings) -> Order:
    """A VanDonBuuChinh names both parties; a sender without postal codes takes the agency's."""
    configured = settings.senders.get(agency)
    gui, nhan = van_don.NguoiGui, van_don.NguoiNhan

    def code(value: int | None, fallback: str) -> int:
        if value is not None:
            return int(value)
        if configured is None:
            raise NotOrderable(slash("postal.no_codes", agency=agency))
        return int(getattr(configured, fallback))

    body = {"CustomerCode": settings.customer_code, "OrderNumber": van_don.MaHoSo, "CODAmount": int(van_don.SoTienThuHo or 0),
            "SenderName": _nfc(gui.HoTen), "SenderAddress": _nfc(gui.DiaChi), "SenderTel": _nfc(gui.SoDienThoai),
            "SenderEmail": _nfc(gui.ThuDienTu), "SenderProvince": code(gui.MaTinh, "province"),
            "SenderDistrict": code(gui.MaHuyen, "district"),
            "SenderDesc": _nfc(van_don.MoTaHang) or settings.sender_desc, "Description": _nfc(van_don.GhiChu),
            "ReceiverName": _nfc(nhan.HoTen), "ReceiverAddress": _nfc(nhan.DiaChi), "ReceiverTel": _nfc(nhan.SoDienThoai),
            "ReceiverEmail": _nfc(nhan.ThuDienTu), "ReceiverProvince": code(nhan.MaTinh, "province"),
            "ReceiverDistrict": code(nhan.MaHuyen, "district"), "Weight": int(van_don.KhoiLuong or settings.weight)}
    if van_don.MaVanDon:
        body["ItemCode"] = van_don.MaVanDon
    personal = (_nfc(nhan.HoTen), _nfc(nhan.DiaChi), _nfc(nhan.SoDienThoai), _nfc(nhan.ThuDienTu),
                _nfc(gui.SoDienThoai))
    return Order(body, van_don.MaHoSo, agency, tuple(v for v in personal if v))


# --- tracking items → packets ------------------------------------------------------

_TIME_FORMATS = ("%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


def item_time(item: FeedItem, now: datetime) -> str:
    """The item's time as yyyyMMddHHmmss in Asia/Ho_Chi_Minh (the service writes local time in one of
    several shapes; ISO with an offset is converted); ``now`` when it gives none readable."""
    text = (item.time or "").strip()
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is not None:
            return parsed.astimezone(ZONE).strftime("%Y%m%d%H%M%S")
    except ValueError:
        pass
    for shape in _TIME_FORMATS:
        try:
            return datetime.strptime(text, shape).strftime("%Y%m%d%H%M%S")
        except ValueError:
            continue
    return now.astimezone(ZONE).strftime("%Y%m%d%H%M%S")


def _packet(kind: str, packet_id: str, agency: str, noi_nhan: str, at: str, body: dict[str, Any]) -> bytes:
    data = {"MaGoiTin": packet_id, "LoaiGoiTin": kind, "PhienBan": "1.0", "NoiGui": agency, "NoiNhan": noi_nhan,
            "ThoiGianGui": at, "NoiDung": {kind: {k: v for k, v in body.items() if v not in (None, "")}}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def tracking_packet(item: FeedItem, mapping: StatusMapping, agency: str, item_code: str | None, at: str,
                    settings: PostalSettings) -> tuple[str, bytes]:
    packet_id = str(uuid.uuid5(NAMESPACE, f"{settings.tracking.feed}|{item.id}|{item.order_number}|TrangThaiVanDon"))
    description = " — ".join(p for p in (mapping.name, _nfc(item.message)) if p)[:4000]
    body = {"MaHoSo": item.order_number, "MaVanDon": item.item_code or item_code, "MaTrangThai": mapping.code,
            "MoTaTrangThai": description, "ThoiGian": at}
    return packet_id, _packet("TrangThaiVanDon", packet_id, agency, settings.tracking.noi_nhan, at, body)


def returned_step(item: FeedItem, agency: str, item_code: str | None, at: str,
                  settings: PostalSettings) -> tuple[str, bytes]:
    """The status-10 step: the result reached its owner by post."""
    packet_id = str(uuid.uuid5(NAMESPACE, f"{settings.tracking.feed}|{item.id}|{item.order_number}|TienDoXuLy10"))
    waybill = item.item_code or item_code
    body = {"MaHoSo": item.order_number, "NguoiXuLy": settings.tracking.officer, "ThoiDiemXuLy": at,
            "NoiDungXuLy": " / ".join(words(lang, "postal.returned", waybill=words(lang, "postal.waybill", code=waybill)
                                            if waybill else "") for lang in (0, 1)),
            "TrangThai": 10}
    return packet_id, _packet("TienDoXuLy", packet_id, agency, settings.tracking.national_noi_nhan, at, body)
