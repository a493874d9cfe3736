"""Generates the published schemas (XSD for XML, JSON Schema for JSON) from the typed model.

The files in ``schemas/`` are generated, committed and checked by a test, so a field
added to the model reaches both encodings at once: ``gateway schemas --write``.
"""

import dataclasses
import json
from pathlib import Path

from lxml import etree
from pydantic import BaseModel

from gateway.packets.catalogue import FieldSpec, all_records, fields_of
from gateway.packets.envelope import GoiTin, NoiDung
from gateway.packets.formats import SCHEMA_DESCRIPTION, Format

NAMESPACE = "urn:congketnoi:qcvn120:v1"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
SCHEMA_VERSION = "v1"
SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_VERSION
XSD_FILE = SCHEMAS_DIR / "goitin.xsd"
JSON_SCHEMA_FILE = SCHEMAS_DIR / "goitin.schema.json"

_XS = "http://www.w3.org/2001/XMLSchema"


def _formats() -> list[Format]:
    seen: dict[str, Format] = {}
    for record in all_records(GoiTin):
        for spec in fields_of(record):
            if spec.format is not None:
                known = seen.setdefault(spec.format.name, spec.format)
                if known != spec.format:
                    raise ValueError(f"two formats named {spec.format.name}")
    return sorted(seen.values(), key=lambda fmt: fmt.name)


# --- XSD -----------------------------------------------------------------------------

def _xs(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{_XS}}}{tag}", attrs)


def _xsd_simple_type(schema: etree._Element, fmt: Format) -> None:
    simple = _xs(schema, "simpleType", name=fmt.name)
    _xs(_xs(simple, "annotation"), "documentation").text = f"{fmt.vi} — {fmt.en}"
    restriction = _xs(simple, "restriction", base="xs:string" if fmt.base == "string" else "xs:integer")
    for value in fmt.enum or ():
        _xs(restriction, "enumeration", value=str(value))
    if fmt.pattern:  # with an integer enum too: xs:integer alone would take "+1" (the model does not)
        _xs(restriction, "pattern", value=fmt.pattern)
    for facet, bound in (("minLength", fmt.min_length), ("maxLength", fmt.max_length),
                         ("minInclusive", fmt.minimum), ("maxInclusive", fmt.maximum)):
        if bound is not None:
            _xs(restriction, facet, value=str(bound))


def _xsd_element(group: etree._Element, spec: FieldSpec) -> None:
    type_name = spec.record.__name__ if spec.record else spec.format.name  # type: ignore[union-attr]  # a spec has a record or a format
    attrs = {"name": spec.name, "type": type_name}
    if not spec.required:
        attrs["minOccurs"] = "0"
    if spec.repeated:
        attrs["maxOccurs"] = "unbounded"
    _xs(group, "element", **attrs)


def _xsd_complex_type(schema: etree._Element, record: type[BaseModel]) -> None:
    complex_type = _xs(schema, "complexType", name=record.__name__)
    if record.__doc__ and record is not BaseModel:
        _xs(_xs(complex_type, "annotation"), "documentation").text = record.__doc__.strip()
    group = _xs(complex_type, "choice" if record is NoiDung else "sequence")
    for spec in fields_of(record):
        # NoiDung's fields are optional in the model but a choice must pick one of them.
        _xsd_element(group, dataclasses.replace(spec, required=True) if record is NoiDung else spec)
    if record is GoiTin:  # the enveloped XML-DSig signature, checked by the signing layer
        _xs(group, "any", namespace=DSIG_NAMESPACE, processContents="skip", minOccurs="0")
    if record in (GoiTin, NoiDung):  # lets a signature reference the packet or its body by Id
        _xs(complex_type, "attribute", name="Id", type="xs:ID")


def build_xsd() -> bytes:
    schema = etree.Element(f"{{{_XS}}}schema", {"targetNamespace": NAMESPACE, "elementFormDefault": "qualified",
                                                 "version": SCHEMA_VERSION},
                           nsmap={"xs": _XS, None: NAMESPACE})
    _xs(_xs(schema, "annotation"), "documentation").text = SCHEMA_DESCRIPTION
    _xs(schema, "element", name="GoiTin", type="GoiTin")
    for record in all_records(GoiTin):
        _xsd_complex_type(schema, record)
    for fmt in _formats():
        _xsd_simple_type(schema, fmt)
    encoded: bytes = etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return encoded


# --- JSON Schema ---------------------------------------------------------------------

def _json_format(fmt: Format) -> dict[str, object]:
    definition: dict[str, object] = {"description": f"{fmt.vi} — {fmt.en}",
                                     "type": fmt.base}
    if fmt.enum:
        definition["enum"] = list(fmt.enum)
    elif fmt.pattern and fmt.base == "string":
        definition["pattern"] = fmt.anchored_pattern
    for key, value in (("minLength", fmt.min_length), ("maxLength", fmt.max_length),
                       ("minimum", fmt.minimum), ("maximum", fmt.maximum)):
        if value is not None:
            definition[key] = value
    return definition


def _json_record(record: type[BaseModel]) -> dict[str, object]:
    properties: dict[str, object] = {}
    for spec in fields_of(record):
        target = spec.record.__name__ if spec.record else spec.format.name  # type: ignore[union-attr]  # a spec has a record or a format
        ref = {"$ref": f"#/$defs/{target}"}
        # Arrays are never empty: XML has no empty list, and the two encodings must round-trip.
        properties[spec.name] = {"type": "array", "items": ref, "minItems": 1} if spec.repeated else ref
    definition: dict[str, object] = {"type": "object", "properties": properties, "additionalProperties": False}
    required = [spec.name for spec in fields_of(record) if spec.required]
    if required:
        definition["required"] = required
    if record is NoiDung:
        definition.update(minProperties=1, maxProperties=1)
    return definition


def build_json_schema() -> bytes:
    definitions: dict[str, object] = {record.__name__: _json_record(record) for record in all_records(GoiTin)}
    definitions.update({fmt.name: _json_format(fmt) for fmt in _formats()})
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{NAMESPACE}:goitin.schema.json",
        "title": "GoiTin",
        "description": SCHEMA_DESCRIPTION,
        "$ref": "#/$defs/GoiTin",
        "$defs": definitions,
    }
    return (json.dumps(schema, ensure_ascii=False, indent=2) + "\n").encode()


def generated() -> dict[Path, bytes]:
    return {XSD_FILE: build_xsd(), JSON_SCHEMA_FILE: build_json_schema()}


def write() -> list[Path]:
    """Writes the schemas that differ from the model; returns the files it changed."""
    changed = []
    for path, content in generated().items():
        if not path.exists() or path.read_bytes() != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            changed.append(path)
    return changed
