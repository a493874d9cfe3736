"""From a dossier to the platform's INIT, and from a verified receipt to the BienLaiThanhToan packet the
gateway originates for the provincial portal."""

from dataclasses import dataclass
from datetime import datetime
import hashlib
import json
from typing import Any
import unicodedata
import uuid
from zoneinfo import ZoneInfo

import connectors.payment.messages  # noqa: F401 - its sentences joined to the catalogue
from connectors.payment.settings import PaymentSettings
from gateway.kit import text

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# MaGoiTin of an originated receipt packet: derived from (reference, transaction), so a retry is the same packet.
PACKET_NAMESPACE = uuid.UUID("6f1d0c2e-7a53-4d0e-9a51-2b8f4c3d9e10")


def nfc(text: Any) -> str:
    return unicodedata.normalize("NFC", "" if text is None else str(text))


def stamp(moment: datetime | None = None) -> str:
    """``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh."""
    return (moment or datetime.now(ZONE)).astimezone(ZONE).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class PaymentRequest:
    """One payment the gateway asks the platform for (from a status-6 HoSo with fees)."""

    reference: str  # MaThamChieu
    dossier: str
    agency: str
    packet_id: str
    amount: int
    receipt_info: dict[str, Any]  # ThongTinBienLai
    description: str  # ThongTinGiaoDich
    request_code: str = ""  # MaYeuCau of a YeuCauThanhToan ("" for one built from a dossier)


def reference_for(dossier: str, fees: list[dict[str, Any]]) -> str:
    """One reference per dossier and fee list: the same request resent (or replayed) never pays twice;
    a new fee list (a supplementation's fees) is a new payment."""
    digest = hashlib.sha256(json.dumps([dossier, fees], ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return f"GW{digest[:30].upper()}"


def request_from_dossier(packet: Any, settings: PaymentSettings) -> PaymentRequest | None:
    """None: the dossier asks for no fee (no DanhSachLePhi, or every Gia 0)."""
    body = packet.body
    fees = [fee.model_dump(exclude_none=True) for fee in (getattr(body, "DanhSachLePhi", None) or [])]
    amount = sum(int(fee.get("Gia", 0)) for fee in fees)
    if amount <= 0:
        return None
    dossier = nfc(body.MaHoSo)
    content = nfc(text("payment.fee_content", dossier=dossier)[0])
    info: dict[str, Any] = {
        "MaDichVu": settings.receipt.get("MaDichVu", ""), "MaDVC": nfc(body.MaTTHC), "TenDVC": nfc(body.TenTTHC),
        "MaTTHC": nfc(body.MaTTHC), "TenTTHC": nfc(body.TenTTHC), "MaDonVi": nfc(packet.NoiGui),
        "TenDonVi": nfc(body.DonViXuLy), "MaHoSo": dossier,
        "TKThuHuong": settings.receipt.get("TKThuHuong", ""), "MaNHThuHuong": settings.receipt.get("MaNHThuHuong", ""),
        "TenTKThuHuong": nfc(settings.receipt.get("TenTKThuHuong", "")), "KhoBac": settings.receipt.get("KhoBac", ""),
        "TaiKhoanThuNSNN": settings.receipt.get("TaiKhoanThuNSNN", ""), "NoiDungThanhToan": content,
        "HoTenNguoiNop": nfc(body.ChuHoSo), "SoCMNDNguoiNop": nfc(body.SoGiayToChuHoSo),
        "DiaChiNguoiNop": nfc(body.ThongTinKhac), "HuyenNguoiNop": "", "TinhNguoiNop": "",
        "PhiLePhi": [{"LoaiPhiLePhi": str(fee.get("LoaiPhiLePhi", "")), "MaPhiLePhi": nfc(fee.get("MaPhiLePhi")),
                      "TenPhiLePhi": nfc(fee.get("TenPhiLePhi")), "SoTien": str(int(fee["Gia"]))} for fee in fees],
        "DSKhoanNop": [{"NoiDung": nfc(fee.get("TenPhiLePhi")), "SoTien": str(int(fee["Gia"]))} for fee in fees],
    }
    return PaymentRequest(reference_for(dossier, fees), dossier, nfc(packet.NoiGui), str(packet.MaGoiTin), amount,
                          info, content)


BENEFICIARY = ("TKThuHuong", "MaNHThuHuong", "TenTKThuHuong", "KhoBac", "TaiKhoanThuNSNN")


def request_from_payment_request(packet: Any, settings: PaymentSettings) -> PaymentRequest | None:
    """A YeuCauThanhToan (the one-stop system's own request that the citizen pay): INIT as it says — its
    amount, fees, payer and beneficiary (the configured beneficiary where it names none). The reference is
    derived from the sender, the dossier and its MaYeuCau, so a resend is the same payment and two agencies'
    MaYeuCau never collide; MaYeuCau itself comes back in the receipt packet. None: nothing to pay."""
    body = packet.body
    amount = int(body.SoTien)
    if amount <= 0:
        return None
    dossier, request_code, agency = nfc(body.MaHoSo), nfc(body.MaYeuCau), nfc(packet.NoiGui)
    fees = [fee.model_dump(exclude_none=True) for fee in body.PhiLePhi or []]
    content = nfc(body.NoiDungThanhToan or text("payment.fee_content", dossier=dossier)[0])
    given = {key: getattr(body, key, None) for key in BENEFICIARY}
    info: dict[str, Any] = {
        "MaDichVu": settings.receipt.get("MaDichVu", ""), "MaDVC": nfc(body.MaTTHC), "TenDVC": nfc(body.TenTTHC),
        "MaTTHC": nfc(body.MaTTHC), "TenTTHC": nfc(body.TenTTHC), "MaDonVi": nfc(body.MaDonVi),
        "TenDonVi": nfc(body.TenDonVi), "MaHoSo": dossier,
        **{key: nfc(value if value else settings.receipt.get(key, "")) for key, value in given.items()},
        "NoiDungThanhToan": content, "HoTenNguoiNop": nfc(body.HoTenNguoiNop),
        "SoCMNDNguoiNop": nfc(body.SoCMNDNguoiNop), "DiaChiNguoiNop": nfc(body.DiaChiNguoiNop),
        "HuyenNguoiNop": "", "TinhNguoiNop": "",
        "PhiLePhi": [{"LoaiPhiLePhi": str(fee.get("LoaiPhiLePhi", "")), "MaPhiLePhi": nfc(fee.get("MaPhiLePhi")),
                      "TenPhiLePhi": nfc(fee.get("TenPhiLePhi")), "SoTien": str(int(fee["SoTien"]))} for fee in fees],
        "DSKhoanNop": [{"NoiDung": nfc(fee.get("TenPhiLePhi")), "SoTien": str(int(fee["SoTien"]))} for fee in fees],
    }
    reference = reference_for(dossier, [{"NoiGui": agency, "MaYeuCau": request_code}])
    return PaymentRequest(reference, dossier, agency, str(packet.MaGoiTin), amount, info, content,
                          request_code=request_code)


def request_for(packet: Any, settings: PaymentSettings) -> PaymentRequest | None:
    """The INIT a carried packet asks for: from a status-6 HoSo's fees, or from a YeuCauThanhToan."""
    if packet.LoaiGoiTin == "YeuCauThanhToan":
        return request_from_payment_request(packet, settings)
    return request_from_dossier(packet, settings)


def receipt_packet(payment: dict[str, Any], transaction: str, bank: str, paid_at: str,
                   receipt_number: str | None) -> tuple[str, bytes]:
    """The BienLaiThanhToan packet (JSON) for a verified receipt: its MaGoiTin and bytes. Everything in it
    is fixed by the payment and its transaction, so originating it again gives the same bytes."""
    info = payment["detail"].get("receipt_info") or {}
    packet_id = str(uuid.uuid5(PACKET_NAMESPACE, f"{payment['reference']}|{transaction}"))
    request_code = payment["detail"].get("request_code") or payment["reference"]  # the sender's MaYeuCau, if any
    body: dict[str, Any] = {"MaHoSo": payment["dossier"], "MaYeuCau": request_code,
                            "MaGiaoDich": transaction, "SoTien": int(payment["amount"]), "ThoiGianGD": paid_at}
    if bank:
        body["MaNganHang"] = bank
    if receipt_number:
        body["SoBienLai"] = receipt_number
    if info.get("NoiDungThanhToan"):
        body["NoiDungThanhToan"] = info["NoiDungThanhToan"]
    if info.get("HoTenNguoiNop"):
        body["HoTenNguoiNop"] = info["HoTenNguoiNop"]
    fees = [{**({"LoaiPhiLePhi": int(f["LoaiPhiLePhi"])} if str(f.get("LoaiPhiLePhi", "")).isdigit() else {}),
             **({"MaPhiLePhi": f["MaPhiLePhi"]} if f.get("MaPhiLePhi") else {}),
             "TenPhiLePhi": f["TenPhiLePhi"], "SoTien": int(f["SoTien"])} for f in info.get("PhiLePhi") or []]
    if fees:
        body["PhiLePhi"] = fees
    agency = payment["agency"] or ""
    packet = {"MaGoiTin": packet_id, "LoaiGoiTin": "BienLaiThanhToan", "PhienBan": "1.0", "NoiGui": agency,
              "NoiNhan": agency, "ThoiGianGui": paid_at, "NoiDung": {"BienLaiThanhToan": body}}
    return packet_id, json.dumps(packet, ensure_ascii=False, sort_keys=True).encode("utf-8")
