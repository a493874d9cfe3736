"""Layer 1: reading untrusted bytes safely, as validation reports it.

The hardened readers are ``signing``'s own (``signing.safe_xml``, ``signing.safe_json``: no DTD,
no entities, no network; UTF-8 only; no duplicate keys, no NaN, bounded depth): signatures are
verified on what they return, so packets are read by the same code. Here their refusals become
the validator's ``Issue`` (line and column where the parser gives them), and an XML packet's root
must be ``GoiTin`` in the packet namespace.
"""

from typing import Any

from lxml import etree

from gateway.packets.schema_gen import NAMESPACE
from gateway.validate.messages import message
from gateway.validate.report import Issue
from gateway.validate.schema import field_label
from signing import safe_input, safe_json, safe_xml
from signing.safe_json import MAX_JSON_DEPTH

__all__ = ["MAX_JSON_DEPTH", "Unreadable", "check_size", "decode_utf8", "parse_any_xml", "parse_json",
           "parse_json_document", "parse_xml"]


class Unreadable(Exception):
    """The document cannot be read; ``issue`` says why."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message_en)
        self.issue = issue


def _issue(exc: safe_input.Unreadable) -> Unreadable:
    return Unreadable(Issue("wellformed", exc.path, exc.rule, exc.message_vi, exc.message_en,
                            line=exc.line, column=exc.column))


def check_size(data: bytes, max_bytes: int) -> None:
    try:
        safe_input.check_size(data, max_bytes)
    except safe_input.Unreadable as exc:
        raise _issue(exc) from None


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")  # the common case without a call more
    except UnicodeDecodeError:
        pass
    try:
        return safe_input.decode_utf8(data)
    except safe_input.Unreadable as exc:
        raise _issue(exc) from None


def parse_xml(data: bytes) -> etree._Element:
    """The root element of a packet, or ``Unreadable``. Size is checked by the caller."""
    root = parse_any_xml(data)
    if root.tag != f"{{{NAMESPACE}}}GoiTin":
        vi, en = message("xml.namespace", namespace=NAMESPACE, found=root.tag)
        raise Unreadable(Issue("wellformed", "", "xml.namespace", vi, en, line=root.sourceline))
    return root


def parse_any_xml(data: bytes) -> etree._Element:
    """Any document's root through the same hardened reader (signature test vectors, receipts)."""
    try:
        return safe_xml.parse_any_xml(data)
    except safe_input.Unreadable as exc:
        raise _issue(exc) from None


def parse_json(text: str) -> dict[str, Any]:
    """The packet object, or ``Unreadable``. Takes decoded text: see ``decode_utf8``."""
    try:
        return safe_json.parse_json(text, field_label)
    except safe_input.Unreadable as exc:
        raise _issue(exc) from None


def parse_json_document(text: str) -> dict[str, Any] | list[Any]:
    """An object or an array (the classic protocol's bare-array body), read as hardened as a packet."""
    try:
        return safe_json.parse_json_document(text, field_label)
    except safe_input.Unreadable as exc:
        raise _issue(exc) from None
