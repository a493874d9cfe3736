"""Between the gateway's JSON and the database's contract: a caller's look-up → the operation's fields, and a
``CongDan`` answer (as zeep reads it) → the citizen record the caller gets (same Vietnamese keys, NFC text,
blank fields left out; an empty ``CongDan`` is "not found")."""

from dataclasses import dataclass
import re
from typing import Any
import unicodedata
import uuid

from connectors.population_db import messages  # noqa: F401 - joins the connector's sentences
from connectors.population_db.settings import PopulationSettings
from gateway.kit import text

_PURPOSE = ("MaCanBo", "MaDVC", "MaHoSo")
_KEYS = ("SoDinhDanh", "SoCMND", "HoVaTen", "NgayThangNamSinh", "SoDienThoai", "MaYeuCau", *_PURPOSE)
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


class BadRequest(Exception):
    """What is wrong with the caller's look-up: the field and the catalogue's rule (``population_db.request.*``)."""

    def __init__(self, where: str, rule: str, **fields: object) -> None:
        self.vi, self.en = text(f"population_db.request.{rule}", **fields)
        super().__init__(self.en)
        self.field = where


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
        raise BadRequest("", "not_object")
    values: dict[str, str] = {}
    for key, value in body.items():
        known = next((k for k in _KEYS if k.lower() == str(key).lower()), None)
        if known is None:
            raise BadRequest(str(key), "unsupported", field=key)
        if known in values:
            raise BadRequest(known, "twice", field=known)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(known, "not_string", field=known)
        if _nfc(value):
            values[known] = _nfc(value)
    for name in _PURPOSE:
        if not values.get(name):
            raise BadRequest(name, "purpose", field=name)
    identifier = values.get("SoDinhDanh") or values.get("SoCMND") or ""
    if bool(values.get("SoDinhDanh")) == bool(values.get("SoCMND")):
        raise BadRequest("SoDinhDanh", "one_identifier")
    wanted = 12 if values.get("SoDinhDanh") else 9
    if not (identifier.isascii() and identifier.isdigit() and len(identifier) == wanted):
        field = "SoDinhDanh" if wanted == 12 else "SoCMND"
        raise BadRequest(field, "digits", field=field, digits=wanted)
    if not values.get("HoVaTen"):
        raise BadRequest("HoVaTen", "name")
    birth = values.get("NgayThangNamSinh", "")
    date = _DATE.match(birth)
    if date:
        birth = "".join(date.groups())
    elif not (len(birth) == 4 and birth.isdigit()):
        raise BadRequest("NgayThangNamSinh", "birth")
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
