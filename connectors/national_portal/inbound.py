"""The national portal's classic payloads → QCVN 120 packets (the reverse of ``transform``).

A one-stop system that speaks the classic adapter protocol sends each dossier or progress
step as a plain JSON object with the HoSo / TienDoXuLy field names. The gateway wraps each
one in an envelope it builds itself. Statuses and procedure codes stay as sent: a client
of the portal already sends national codes (the portal accepts nothing else).

The portal is laxer than QCVN 120 JSON in ways the serialisers of existing systems rely
on, so those are normalised first: ``null`` values and empty lists mean "absent"
(dropped), integer fields sent as digit strings (``"4"``) become numbers, and text is put
in NFC (decomposed Vietnamese from some input methods). Everything else — unknown fields
included — is left for the Validator to judge.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
import json
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin
import unicodedata
import uuid

from gateway.packets.bodies import HoSo, Record, TienDoXuLy

# service → the body type each ``data`` item becomes
SERVICES: dict[str, type[Record]] = {"DongBoHoSoMC": HoSo, "CapNhatTienDoHoSoMC": TienDoXuLy}

# Fixed namespace: the same client, agency, service and content give the same MaGoiTin in
# every gateway process, so a client's resend is recognised as one (idempotency key).
_NAMESPACE = uuid.UUID("5b7c1d0e-3f0a-5c59-9a43-6e1f0c2a9d11")
_DIGITS = re.compile(r"^\s*-?[0-9]+\s*$")
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


def _normalise(model: type[Record], item: Mapping[str, Any]) -> dict[str, Any]:
    fields = model.model_fields
    result: dict[str, Any] = {}
    for name, value in item.items():
        if value is None or value == []:
            continue
        kind = _unwrap(fields[name].annotation) if name in fields else None
        if kind is int and isinstance(value, str) and _DIGITS.match(value):
            value = int(value)
        elif isinstance(value, str):
            value = unicodedata.normalize("NFC", value)  # the gateway builds this packet: it stores NFC
        elif isinstance(kind, type) and issubclass(kind, Record):
            if isinstance(value, list):
                value = [_normalise(kind, v) if isinstance(v, Mapping) else v for v in value]
            elif isinstance(value, Mapping):
                value = _normalise(kind, value)
        result[name] = value
    return result


def normalise(service: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as a QCVN 120 body: nulls and empty lists dropped, digit strings of integer fields as numbers."""
    return _normalise(SERVICES[service], item)


def packet_id(client: str, madonvi: str, service: str, body: Mapping[str, Any]) -> str:
    """Deterministic MaGoiTin: a resend of the same item by the same client is the same packet."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    text = unicodedata.normalize("NFC", f"{client}\n{madonvi}\n{service}\n{canonical}")
    return str(uuid.uuid5(_NAMESPACE, text))


@dataclass(frozen=True)
class Envelope:
    """What the gateway puts around each item: who sent it (the client's madonvi), to whom, when."""

    client: str
    madonvi: str
    noi_nhan: str = "DVCQG"
    phien_ban: str = "1.0"


def to_packet(service: str, item: Mapping[str, Any], envelope: Envelope, sent_at: datetime) -> dict[str, Any]:
    """One ``data`` item of a classic call → a QCVN 120 GoiTin (JSON form), not yet validated.

    ``sent_at`` becomes ThoiGianGui (wall clock of the configured zone); it is not part of the
    MaGoiTin, so a caller that wants a resend byte-identical must reuse the stored packet."""
    body_type = SERVICES[service].__name__
    body = normalise(service, item)
    return {
        "MaGoiTin": packet_id(envelope.client, envelope.madonvi, service, body),
        "LoaiGoiTin": body_type,
        "PhienBan": envelope.phien_ban,
        "NoiGui": envelope.madonvi,
        "NoiNhan": envelope.noi_nhan,
        "ThoiGianGui": sent_at.strftime(_DATE),
        "NoiDung": {body_type: body},
    }
