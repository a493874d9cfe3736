"""The webhook body: the packets of one dossier, in order, as RFC 8785 canonical JSON (the bytes signed)."""

from collections.abc import Sequence
import json
from typing import Any

from gateway.kit import Delivery, packet_bytes, sniff
from gateway.kit import canonical_json  # type: ignore[attr-defined]  # the kit's alias of signing.jws.canonical


def item(delivery: Delivery) -> dict[str, Any]:
    encoding = sniff(delivery.raw) or "json"
    packet = packet_bytes(delivery.raw, encoding)  # a JWS's payload: the packet as signed
    value: Any = json.loads(packet) if encoding == "json" else packet.decode("utf-8")
    return {"MaGoiTin": delivery.idempotency_key, "LoaiGoiTin": delivery.packet.LoaiGoiTin,
            "MaHoSo": delivery.packet.dossier_code, "encoding": encoding, "packet": value}


def body(batch: Sequence[Delivery]) -> bytes:
    return canonical_json({"packets": [item(d) for d in batch]})
