"""XML encoding of the packet model: element order and names follow the model, lists
are repeated elements, integers are decimal text. ``to_data`` gives the same
JSON-shaped data the JSON encoding parses to, so both reach the model the same way.
"""

from functools import cache
import sys
from typing import Any, NamedTuple

from lxml import etree
from pydantic import BaseModel

from gateway.packets.catalogue import fields_of
from gateway.packets.envelope import GoiTin
from gateway.packets.schema_gen import DSIG_NAMESPACE, NAMESPACE

_PREFIX = f"{{{NAMESPACE}}}"
_DSIG_PREFIX = f"{{{DSIG_NAMESPACE}}}"


class _Step(NamedTuple):
    """What ``to_data`` needs of one field, unpacked once per record type (the hot path)."""

    name: str
    repeated: bool
    record: type[BaseModel] | None
    integer: bool


@cache
def _plan(record: type[BaseModel]) -> dict[str, _Step]:
    return {_PREFIX + spec.name: _Step(spec.name, spec.repeated, spec.record,
                                       spec.format is not None and spec.format.base == "integer")
            for spec in fields_of(record)}


def _number(text: str) -> int | str:
    stripped = text.strip()
    digits = stripped.removeprefix("-")
    # Only plain ASCII digits (with an optional minus, for the range check to name) become
    # numbers; anything else stays text for the type check to name, and so do more digits
    # than Python converts (4,300 by default: what the JSON reader accepts too).
    limit = sys.get_int_max_str_digits()
    if stripped.isascii() and digits.isdigit() and not (limit and len(digits) > limit):
        return int(stripped)
    return text


def to_data(element: etree._Element, record: type[BaseModel] = GoiTin,
            lines: dict[str, int] | None = None, path: str = "") -> dict[str, Any]:
    """Element → JSON-shaped dict. Unknown elements are kept (as text) for the model to refuse.

    ``lines``, when given, is filled with path → source line, for error reports.
    """
    plan = _plan(record)
    data: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        step = plan.get(tag)
        if step is None:
            if record is GoiTin and tag.startswith(_DSIG_PREFIX):
                continue  # the signature: the signing layer's business
            # Kept under its full name for the model to refuse: in our namespace an unknown element
            # is named as written, any other ({uri}name, {}name) can never overwrite a field.
            data[tag[len(_PREFIX):] if tag.startswith(_PREFIX) else
                 tag if tag.startswith("{") else f"{{}}{tag}"] = child.text or ""
            continue
        name, repeated, nested, integer = step
        items: list[Any] = []
        if repeated:
            items = data.setdefault(name, items)
        child_path = ""
        if lines is not None:  # paths are only built for error reports
            child_path = f"{path}{name}[{len(items) + 1}]" if repeated else path + name
            lines[child_path] = child.sourceline or 0
        if nested is not None:
            value: Any = to_data(child, nested, lines, child_path + "/" if lines is not None else "")
        else:
            value = child.text or ""
            if integer:  # plain digits first: the common case, without a call
                value = int(value) if len(value) < 19 and value.isdigit() and value.isascii() else _number(value)
        if repeated:
            items.append(value)
        else:
            data[name] = value
    return data


def _build(parent: etree._Element, record: type[BaseModel], data: dict[str, Any]) -> None:
    for spec in fields_of(record):
        if spec.name not in data:
            continue
        values = data[spec.name] if spec.repeated else [data[spec.name]]
        for value in values:
            child = etree.SubElement(parent, _PREFIX + spec.name)
            if spec.record is not None:
                _build(child, spec.record, value)
            else:
                child.text = str(value)


def encode(packet: GoiTin, *, pretty: bool = False) -> bytes:
    root = etree.Element(_PREFIX + "GoiTin", nsmap={None: NAMESPACE})
    _build(root, GoiTin, packet.model_dump(exclude_none=True))
    encoded: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=pretty)
    return encoded
