"""JSON encoding of the packet model: the GoiTin object itself, absent fields left out."""

import json

from gateway.packets.envelope import GoiTin


def encode(packet: GoiTin, *, pretty: bool = False) -> bytes:
    data = packet.model_dump(exclude_none=True)
    return json.dumps(data, ensure_ascii=False, indent=2 if pretty else None,
                      separators=None if pretty else (",", ":")).encode() + (b"\n" if pretty else b"")
