"""The national portal's classic payloads → QCVN 120 packets (the reverse of ``transform``).

A one-stop system that speaks the classic adapter protocol sends each dossier or progress
step as a plain JSON object with the HoSo / TienDoXuLy field names. The gateway wraps each
one in an envelope it builds itself. Statuses and procedure codes stay as sent: a client
of the portal already sends national codes (the portal accepts nothing else).

The portal is laxer than QCVN 120 JSON in ways the serialisers of existing systems rely
on, so those are normalised first — and each change is noted (``Change``), so an operator
sees per item what the gateway read differently from the bytes sent: ``null``, ``""`` and
empty lists mean "absent" (dropped); integer fields sent as digit strings (``"4"``) become
numbers, and yes/no fields sent as ``"True"``/``"False"`` become 1/0; text is put in NFC
(decomposed Vietnamese from some input methods). Everything else — unknown fields, a code
that is not digits — is left for the Validator to judge.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
import json
import re
import sys
import types
from typing import Annotated, Any, Union, get_args, get_origin
import unicodedata
import uuid

from gateway.kit import HoSo, Record, TienDoXuLy

# service → the body type each ``data`` item becomes
SERVICES: dict[str, type[Record]] = {"DongBoHoSoMC": HoSo, "CapNhatTienDoHoSoMC": TienDoXuLy}

# Fixed namespace: the same client, agency, service and content give the same MaGoiTin in
# every gateway process, so a client's resend is recognised as one (idempotency key).
_NAMESPACE = uuid.UUID("5b7c1d0e-3f0a-5c59-9a43-6e1f0c2a9d11")
# No more digits than int() converts (sys.get_int_max_str_digits): a longer run stays text for the Validator.
_DIGITS = re.compile(rf"^\s*-?[0-9]{{1,{sys.get_int_max_str_digits() or ''}}}\s*$")
_DATE = "%Y%m%d%H%M%S"


def _unwrap(annotation: Any) -> Any:
    """``Optional[Annotated[int, …]]`` → ``int``; ``list[X] | None`` → ``X``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _unwrap(inner[0]) if len(inner) == 1 else None
    if origin is list:
        return _unwrap(get_args(annotation)[0])
    return annotation


_BOOLEANS = {"true": 1, "false": 0}  # how .NET serialises a bool; the yes/no fields are 0/1 in QCVN 120


@dataclass(frozen=True)
class Change:
    """One value read differently from how it was sent: where (``TaiLieuNop[0].IsDeleted``), which rule
    (``null``, ``empty_text``, ``empty_list``, ``text_number``, ``text_boolean``, ``nfc``) and, for the
    number and boolean rules only (codes, flags, amounts — never personal), the value as sent."""

    path: str
    rule: str
    sent: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule} | ({"sent": self.sent} if self.sent is not None else {})


def _normalise(model: type[Record], item: Mapping[str, Any], changes: list[Change], where: str = "") -> dict[str, Any]:
    fields = model.model_fields
    result: dict[str, Any] = {}
    for name, value in item.items():
        path = f"{where}{name}"
        absent = "null" if value is None else "empty_list" if value == [] else \
            "empty_text" if isinstance(value, str) and not value.strip() else ""
        if absent:
            changes.append(Change(path, absent))
            continue
        kind = _unwrap(fields[name].annotation) if name in fields else None
        if kind is int and isinstance(value, str) and _DIGITS.match(value):
            changes.append(Change(path, "text_number", value))
            value = int(value)
        elif kind is int and isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            changes.append(Change(path, "text_boolean", value))
            value = _BOOLEANS[value.strip().lower()]
        elif isinstance(value, str):
            nfc = unicodedata.normalize("NFC", value)  # the gateway builds this packet: it stores NFC
            if nfc != value:
                changes.append(Change(path, "nfc"))
            value = nfc
        elif isinstance(kind, type) and issubclass(kind, Record):
            if isinstance(value, list):
                value = [_normalise(kind, v, changes, f"{path}[{n}].") if isinstance(v, Mapping) else v
                         for n, v in enumerate(value)]
            elif isinstance(value, Mapping):
                value = _normalise(kind, value, changes, f"{path}.")
        result[name] = value
    return result


def normalised(service: str, item: Mapping[str, Any]) -> tuple[dict[str, Any], list[Change]]:
    """The item as a QCVN 120 body, and every change made to read it so."""
    changes: list[Change] = []
    return _normalise(SERVICES[service], item, changes), changes


def normalise(service: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as a QCVN 120 body: absent values dropped, numbers and yes/no sent as text read as numbers."""
    return normalised(service, item)[0]


def packet_id(client: str, madonvi: str, service: str, body: Mapping[str, Any], after: str | None = None) -> str:
    """Deterministic MaGoiTin: a resend of the same item by the same client is the same packet. ``after``, the
    MaGoiTin of the dossier's change stored last, makes the same content sent again after another change
    (A → B → A) a new packet — a new change — instead of a resend of the first A."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    text = unicodedata.normalize("NFC", f"{client}\n{madonvi}\n{service}\n{canonical}")
    return str(uuid.uuid5(_NAMESPACE, text + (f"\n{after}" if after else "")))


@dataclass(frozen=True)
class Envelope:
    """What the gateway puts around each item: who sent it (the client's madonvi), to whom, when."""

    client: str
    madonvi: str
    noi_nhan: str = "DVCQG"
    phien_ban: str = "1.0"


def to_packet(service: str, item: Mapping[str, Any], envelope: Envelope, sent_at: datetime,
              after: str | None = None) -> dict[str, Any]:
    """One ``data`` item of a classic call → a QCVN 120 GoiTin (JSON form), not yet validated.

    ``sent_at`` becomes ThoiGianGui (wall clock of the configured zone); it is not part of the
    MaGoiTin, so a caller that wants a resend byte-identical must reuse the stored packet."""
    return wrap(service, normalise(service, item), envelope, sent_at, after)


def wrap(service: str, body: dict[str, Any], envelope: Envelope, sent_at: datetime,
         after: str | None = None) -> dict[str, Any]:
    """A normalised body in the gateway's envelope."""
    body_type = SERVICES[service].__name__
    return {
        "MaGoiTin": packet_id(envelope.client, envelope.madonvi, service, body, after),
        "LoaiGoiTin": body_type,
        "PhienBan": envelope.phien_ban,
        "NoiGui": envelope.madonvi,
        "NoiNhan": envelope.noi_nhan,
        "ThoiGianGui": sent_at.strftime(_DATE),
        "NoiDung": {body_type: body},
    }
