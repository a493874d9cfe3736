"""Reading a stored packet back: the one place that turns received bytes into the packet acted on.

The store keeps exactly the bytes received (audit, hashes, receipts). For a JSON packet sent as a
JWS those bytes are the signature container and the packet is its payload; every reader (delivery
engine, connectors) goes through here, so what is delivered is the payload the intake verified.
"""

import json

from gateway.packets import xml_codec
from gateway.packets.envelope import GoiTin
from signing.jws import payload_of
from signing.safe_xml import parse_any_xml


def packet_bytes(raw: bytes, encoding: str) -> bytes:
    """The packet itself: the JWS payload (canonical JSON, the exact bytes signed), else ``raw``."""
    if encoding == "json":
        payload = payload_of(raw)
        if payload is not None:
            return payload
    return raw


def load_packet(raw: bytes, encoding: str) -> GoiTin:
    """The typed packet from stored bytes (they passed validation when they were accepted, their root
    ``GoiTin`` included; still read through the hardened parser: the packet model depends on no validator)."""
    content = packet_bytes(raw, encoding)
    data = xml_codec.to_data(parse_any_xml(content)) if encoding == "xml" else json.loads(content)
    return GoiTin.model_validate(data)
