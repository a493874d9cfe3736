"""Between the gateway's JSON and the database's contract: a caller's look-up → the operation's fields, and a
``CongDan`` answer (as zeep reads it) → the citizen record the caller gets (same Vietnamese keys, NFC text,
blank fields left out; an empty ``CongDan`` is "not found")."""

from dataclasses import dataclass
import re
from typing import Any
import unicodedata
import uuid

from connectors.population_db.settings import PopulationSettings

_PURPOSE = ("MaCanBo", "MaDVC", "MaHoSo")
_KEYS = ("SoDinhDanh", "SoCMND", "HoVaTen", "NgayThangNamSinh", "SoDienThoai", "MaYeuCau", *_PURPOSE)
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


class BadRequest(Exception):
    def __init__(self, field: str, vi: str, en: str) -> None:
        super().__init__(en)
        self.field, self.vi, self.en = field, vi, en


@dataclass(frozen=True)
class Query:
    """A checked look-up: the purpose (officer, service, dossier) and who is looked up."""

    ma_can_bo: str
    ma_dvc: str
    ma_ho_so: str
    identifier: str  # 12 digits (SoDinhDanh) or 9 (SoCMND)
    name: str
    birth: str  # yyyyMMdd or yyyy
    phone: str = ""
    request_id: str = ""

    @property
    def identifier_field(self) -> str:
        return "SoDinhDanh" if len(self.identifier) == 12 else "SoCMND"


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def read_query(body: Any) -> Query:
    """The caller's JSON look-up, keys in any letter case (``mahoso``, ``MaHoSo``), values as strings
    (numbers are refused: an identifier sent as a number has lost its leading zero); blank is absent."""
    if not isinstance(body, dict):
        raise BadRequest("", "Nội dung phải là một đối tượng JSON.", "The body must be a JSON object.")
    values: dict[str, str] = {}
    for key, value in body.items():
        known = next((k for k in _KEYS if k.lower() == str(key).lower()), None)
        if known is None:
            raise BadRequest(str(key), f"Trường không được hỗ trợ: {key}.", f"Unsupported field: {key}.")
        if known in values:
            raise BadRequest(known, f"Trường {known} xuất hiện hai lần.", f"Field {known} appears twice.")
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(known, f"{known} phải là chuỗi ký tự.", f"{known} must be a string.")
        if _nfc(value):
            values[known] = _nfc(value)
    for name in _PURPOSE:
        if not values.get(name):
            raise BadRequest(name, f"Thiếu {name}: mỗi lần tra cứu phải nêu cán bộ, dịch vụ và hồ sơ phục vụ.",
                             f"Missing {name}: every look-up names the officer, the service and the dossier.")
    identifier = values.get("SoDinhDanh") or values.get("SoCMND") or ""
    if bool(values.get("SoDinhDanh")) == bool(values.get("SoCMND")):
        raise BadRequest("SoDinhDanh", "Cần đúng một trong SoDinhDanh (12 chữ số) hoặc SoCMND (9 chữ số).",
                         "Exactly one of SoDinhDanh (12 digits) or SoCMND (9 digits) is needed.")
    wanted = 12 if values.get("SoDinhDanh") else 9
    if not (identifier.isascii() and identifier.isdigit() and len(identifier) == wanted):
        field = "SoDinhDanh" if wanted == 12 else "SoCMND"
        raise BadRequest(field, f"{field} phải gồm {wanted} chữ số.", f"{field} must be {wanted} digits.")
    if not values.get("HoVaTen"):
        raise BadRequest("HoVaTen", "Thiếu HoVaTen.", "Missing HoVaTen.")
    birth = values.get("NgayThangNamSinh", "")
    date = _DATE.match(birth)
    if date:
        birth = "".join(date.groups())
    elif not (len(birth) == 4 and birth.isdigit()):
        raise BadRequest("NgayThangNamSinh", "NgayThangNamSinh phải là yyyyMMdd, yyyy-MM-dd hoặc yyyy.",
                         "NgayThangNamSinh must be yyyyMMdd, yyyy-MM-dd or yyyy.")
    return Query(values["MaCanBo"], values["MaDVC"], values["MaHoSo"], identifier, values["HoVaTen"], birth,
                 values.get("SoDienThoai", ""), values.get("MaYeuCau") or str(uuid.uuid4()))


def operation_fields(settings: PopulationSettings, query: Query) -> dict[str, Any]:
    """The request's elements (zeep keeps the contract's order)."""
    return {"MaYeuCau": query.request_id, "MaDVC": query.ma_dvc, "MaTichHop": settings.ma_tich_hop,
            "MaCanBo": query.ma_can_bo, "MaDonVi": settings.ma_don_vi, "TaiKhoan": settings.tai_khoan or None,
            "SoDienThoai": query.phone or None, query.identifier_field: query.identifier, "HoVaTen": query.name,
            "NgayThangNamSinh": {"NgayThangNam" if len(query.birth) == 8 else "Nam": query.birth}}


def _clean(value: Any) -> Any:
    """Blank fields and empty groups left out, text NFC."""
    if isinstance(value, dict):
        kept = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", {})}
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.strip())
    return value


def citizen(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A ``CongDan`` (serialised to dicts) as the caller gets it; None when empty (not found)."""
    cleaned: dict[str, Any] = _clean(record or {})
    if not cleaned:
        return None
    name = cleaned.get("HoVaTen")
    if isinstance(name, dict):
        cleaned["HoVaTen"] = {**name, "DayDu": " ".join(name[k] for k in ("Ho", "ChuDem", "Ten") if name.get(k))}
    birth = cleaned.get("NgayThangNamSinh")
    if isinstance(birth, dict):
        cleaned["NgayThangNamSinh"] = birth.get("NgayThangNam") or birth.get("Nam")
    return cleaned
