"""Reading a stored packet back: the one place that turns received bytes into the packet acted on.

The store keeps exactly the bytes received (audit, hashes, receipts). For a JSON packet sent as a
JWS those bytes are the signature container and the packet is its payload; every reader (delivery
engine, connectors) goes through here, so what is delivered is the payload the intake verified.
"""

import json

from lxml import etree

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


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True,
                          load_dtd=False)


def hoso_fields(raw: bytes, encoding: str, names: tuple[str, ...]) -> dict[str, str | None]:
    """Simple fields of a stored packet's HoSo body, read as stored (the packet passed validation when it
    was accepted); None for a field it does not carry or content that cannot be read."""
    found: dict[str, str | None] = dict.fromkeys(names)
    try:
        data = packet_bytes(raw, encoding)
        if encoding == "json" or data.lstrip()[:1] == b"{":
            body = json.loads(data).get("NoiDung", {}).get("HoSo") or {}
            found.update({n: str(body[n]) for n in names if body.get(n) not in (None, "")})
        else:
            root = etree.fromstring(data, _PARSER)
            for element in root.iter():
                if isinstance(element.tag, str) and (name := etree.QName(element).localname) in found:
                    if etree.QName(element.getparent()).localname == "HoSo" and element.text:
                        found[name] = element.text.strip()
    except (ValueError, etree.XMLSyntaxError, AttributeError):
        pass
    return found
