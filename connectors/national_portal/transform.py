"""QCVN 120 packet model → the national portal's payloads.

Classic protocol: the dossier and progress fields under their own names, dates kept as
``yyyyMMddHHmmss``. Token protocol: its own shapes, dates ISO-8601 with milliseconds.
Both: statuses and procedure codes through the province's mapping; texts longer than the
portal accepts are cut with a warning — never silently.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.national_portal.mapping import Mapping
from gateway.kit import HoSo, TienDoXuLy, line

CLASSIC_DATE = "%Y%m%d%H%M%S"
# Classic protocol, ``scalars = "text"``: the portal's own typing is not published, and the shape its
# clients send (and it accepts) is text everywhere, yes/no of a document as .NET spells a bool.
TEXT_BOOLEANS = {"IsDeleted": ("False", "True")}


def as_text(value: Any, name: str = "") -> Any:
    """Numbers as the portal's clients send them: ``4`` → ``"4"``; ``IsDeleted`` 1 → ``"True"``."""
    if isinstance(value, dict):
        return {key: as_text(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [as_text(item, name) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return TEXT_BOOLEANS[name][value] if name in TEXT_BOOLEANS and value in (0, 1) else str(value)
    return value


@dataclass(frozen=True)
class Payload:
    data: dict[str, Any]
    warnings: tuple[str, ...] = ()


def iso_date(value: str | None) -> str | None:
    """``20241201083000`` → ``2024-12-01T08:30:00.000`` (same wall clock, Asia/Ho_Chi_Minh)."""
    if value is None:
        return None
    return datetime.strptime(value, CLASSIC_DATE).strftime("%Y-%m-%dT%H:%M:%S.000")


class Transformer:
    def __init__(self, mapping: Mapping, field_limits: dict[str, int], scalars: str = "text") -> None:
        self.mapping = mapping
        self.field_limits = field_limits
        self.scalars = scalars  # classic payloads: "text" as the portal's clients send them, or "typed" (JSON numbers)

    def _classic(self, data: dict[str, Any], warnings: list[str]) -> Payload:
        self._cut(data, warnings)
        return Payload(as_text(data) if self.scalars == "text" else data, tuple(warnings))

    def _cut(self, data: dict[str, Any], warnings: list[str]) -> None:
        for name, limit in self.field_limits.items():
            value = data.get(name)
            if isinstance(value, str) and len(value) > limit:
                data[name] = value[:limit]
                warnings.append(f"{name}: {line('national_portal.cut', length=len(value), limit=limit)}")

    # --- classic adapter protocol --------------------------------------------------

    def dossier(self, hoso: HoSo) -> Payload:
        data = hoso.model_dump(exclude_none=True)
        data["MaTTHC"] = self.mapping.national_procedure(hoso.MaTTHC)
        data["TrangThaiHoSo"] = self.mapping.national_status(hoso.TrangThaiHoSo)
        return self._classic(data, [])

    def progress(self, step: TienDoXuLy) -> Payload:
        data = step.model_dump(exclude_none=True)
        data["TrangThai"] = self.mapping.national_status(step.TrangThai)
        return self._classic(data, [])

    # --- token protocol ------------------------------------------------------------

    def token_dossier(self, hoso: HoSo, madonvi: str) -> Payload:
        procedure = self.mapping.national_procedure(hoso.MaTTHC)
        parts: dict[str, list[dict[str, Any]]] = {}
        for doc in hoso.TaiLieuNop or ():
            if doc.IsDeleted == 1:
                continue
            parts.setdefault(doc.MaThanhPhanHoSo or "", []).append(_drop_none(
                {"IdGiayTo": doc.TepDinhKemId, "TenGiayTo": doc.TenTepDinhKem, "MaKetQua": doc.MaKetQuaThayThe}))
        data = _drop_none({
            "MaHoSo": hoso.MaHoSo, "MaTTHC": procedure, "MaDichVuCong": procedure, "ChuHoSo": hoso.ChuHoSo,
            "LoaiDoiTuong": hoso.LoaiDoiTuong, "MaDonViTiepNhan": madonvi,
            "NgayNop": iso_date(hoso.NgayNopHoSo or hoso.NgayTiepNhan), "NgayTiepNhan": iso_date(hoso.NgayTiepNhan),
            "TrangThai": self.mapping.national_status(hoso.TrangThaiHoSo),
            "TrichYeuHoSo": hoso.TrichYeuHoSo,
            "ThanhPhanHoSo": [{"MaThanhPhanHoSo": code, "GiayToDinhKem": docs} for code, docs in parts.items()] or None,
            "ThongTinNguoiNop": _drop_none({"HoTen": hoso.ChuHoSo, "SoGiayTo": hoso.SoGiayToChuHoSo,
                                            "SoDienThoai": hoso.SoDienThoai, "Email": hoso.Email}) or None,
        })
        warnings: list[str] = []
        self._cut(data, warnings)
        return Payload(data, tuple(warnings))

    def token_status(self, hoso: HoSo, portal_id: str | None) -> Payload:
        """A status update; for 5, 6 and 9 the portal also takes the fees and the result papers."""
        status = self.mapping.national_status(hoso.TrangThaiHoSo)
        data = _drop_none({"IdHoSo": portal_id, "MaHoSo": hoso.MaHoSo, "TrangThai": status})
        if status in (5, 6, 9):
            if hoso.DanhSachLePhi:
                data["DanhSachLePhi"] = [fee.model_dump(exclude_none=True) for fee in hoso.DanhSachLePhi]
            if hoso.DanhSachGiayToKetQua:
                data["DanhSachGiayToKetQua"] = [paper.model_dump(exclude_none=True)
                                                for paper in hoso.DanhSachGiayToKetQua]
        return Payload(data)

    def token_progress(self, step: TienDoXuLy, portal_id: str | None) -> Payload:
        data = _drop_none({
            "IDHoSo": portal_id, "MaHoSo": step.MaHoSo, "NguoiXuLy": step.NguoiXuLy,
            "ThoiDiemXuLy": iso_date(step.ThoiDiemXuLy), "PhongBanXuLy": step.PhongBanXuLy,
            "NoiDungXuLy": step.NoiDungXuLy, "TrangThai": self.mapping.national_status(step.TrangThai),
            "NgayBatDau": iso_date(step.NgayBatDau), "NgayKetThucTheoQuyDinh": iso_date(step.NgayKetThucTheoQuyDinh),
        })
        warnings: list[str] = []
        self._cut(data, warnings)
        return Payload(data, tuple(warnings))


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
