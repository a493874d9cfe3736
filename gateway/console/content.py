"""A stored packet's content for a person: pretty-printed, personal values masked unless revealed."""

from functools import cache
import json
from typing import Any

from lxml import etree

from gateway.packets.catalogue import all_records, fields_of
from gateway.packets.envelope import GoiTin
from gateway.packets.stored import packet_bytes
from gateway.pii import mask

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True,
                          load_dtd=False)


@cache
def personal_fields() -> frozenset[str]:
    """Every field name the packet model marks as personal (ID numbers, names, phones, e-mail, addresses)."""
    return frozenset(spec.name for record in all_records(GoiTin) for spec in fields_of(record) if spec.is_pii)


def _mask_json(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(v, key) for v in value]
    if key in personal_fields() and value not in (None, ""):
        return mask(value)
    return value


def pretty(raw: bytes, encoding: str, *, reveal: bool) -> str:
    """The packet (a JWS's payload) indented; personal values masked unless ``reveal``."""
    data = packet_bytes(raw, encoding)
    if encoding == "json" or data.lstrip()[:1] in (b"{", b"["):
        parsed = json.loads(data)
        return json.dumps(parsed if reveal else _mask_json(parsed), ensure_ascii=False, indent=2)
    root = etree.fromstring(data, _PARSER)
    if not reveal:
        for element in root.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname in personal_fields() and element.text:
                element.text = mask(element.text.strip())
    return str(etree.tostring(root, pretty_print=True, encoding="unicode"))
