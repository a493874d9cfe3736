"""The simulated portal's strict checks of what it receives.

Field formats come from the QCVN 120 model (the portal's fields are the same), then the
portal's own stricter rules: national procedure codes only, known procedures, real calendar
dates, code lists, and its text-length limits. Messages name the field, never its value.
"""

from datetime import datetime
import re
from typing import Any

from pydantic import ValidationError

from gateway.kit import HoSo, TienDoXuLy

CLASSIC_DATES = {"HoSo": ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy", "NgayTuChoi"),
                 "TienDoXuLy": ("ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")}
NATIONAL_PROCEDURE = re.compile(r"^[0-9]\.[0-9]{6}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$")
APPLICANT_TYPES = {1, 2, 3, 4}


def _model_errors(model: type[HoSo] | type[TienDoXuLy], item: Any, where: str) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: phải là đối tượng JSON"]
    try:
        model.model_validate(item)
    except ValidationError as exc:
        return [f"{where}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()]
    return []


def _dates(item: dict[str, Any], names: tuple[str, ...], where: str) -> list[str]:
    errors = []
    for name in names:
        value = item.get(name)
        if isinstance(value, str):
            try:
                datetime.strptime(value, "%Y%m%d%H%M%S")
            except ValueError:
                errors.append(f"{where}.{name}: ngày giờ không hợp lệ (yyyyMMddHHmmss)")
    return errors


def _limits(item: dict[str, Any], limits: dict[str, int], where: str) -> list[str]:
    return [f"{where}.{name}: vượt quá {limit} ký tự" for name, limit in limits.items()
            if isinstance(item.get(name), str) and len(item[name]) > limit]


def dossier_errors(item: Any, where: str, limits: dict[str, int], procedures: set[str] | None) -> list[str]:
    errors = _model_errors(HoSo, item, where)
    if not isinstance(item, dict):
        return errors
    code = item.get("MaTTHC")
    if isinstance(code, str) and not NATIONAL_PROCEDURE.match(code):
        errors.append(f"{where}.MaTTHC: không phải mã TTHC quốc gia (d.dddddd)")
    elif procedures is not None and isinstance(code, str) and code not in procedures:
        errors.append(f"{where}.MaTTHC: thủ tục không có trong CSDL TTHC quốc gia")
    if item.get("LoaiDoiTuong") not in APPLICANT_TYPES and "LoaiDoiTuong" in item:
        errors.append(f"{where}.LoaiDoiTuong: không thuộc danh mục đối tượng")
    return errors + _dates(item, CLASSIC_DATES["HoSo"], where) + _limits(item, limits, where)


def progress_errors(item: Any, where: str, limits: dict[str, int]) -> list[str]:
    errors = _model_errors(TienDoXuLy, item, where)
    if not isinstance(item, dict):
        return errors
    return errors + _dates(item, CLASSIC_DATES["TienDoXuLy"], where) + _limits(item, limits, where)


def token_errors(item: Any, where: str, required: tuple[str, ...], dates: tuple[str, ...],
                 limits: dict[str, int]) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: phải là đối tượng JSON"]
    errors = [f"{where}.{name}: bắt buộc" for name in required if item.get(name) in (None, "")]
    for name in dates:
        value = item.get(name)
        if value is None:
            continue
        try:
            if not isinstance(value, str) or not ISO_MS.match(value):
                raise ValueError
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f")
        except ValueError:
            errors.append(f"{where}.{name}: ngày giờ không hợp lệ (yyyy-MM-ddTHH:mm:ss.fff)")
    status = item.get("TrangThai")
    if status is not None and status not in range(1, 11):
        errors.append(f"{where}.TrangThai: phải từ 1 đến 10")
    code = item.get("MaTTHC")
    if code is not None and not (isinstance(code, str) and NATIONAL_PROCEDURE.match(code)):
        errors.append(f"{where}.MaTTHC: không phải mã TTHC quốc gia (d.dddddd)")
    return errors + _limits(item, limits, where)
