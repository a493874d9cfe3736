"""Layer 2: the packet against the published schemas, then into the typed model.

The compiled validators (lxml ``XMLSchema``, ``jsonschema_rs``) are the fast gate
and the contract senders test against. The typed model reports every structural
error with a path and a message built from the field's format; where only the
compiled schema objects (element order in XML), its own messages are reported.
"""

from functools import cache
import json
import re
from typing import Any

import jsonschema_rs
from lxml import etree
from pydantic import ValidationError

from gateway.packets.catalogue import FieldSpec, spec_at
from gateway.packets.envelope import GoiTin
from gateway.packets.schema_gen import JSON_SCHEMA_FILE, XSD_FILE
from gateway.pii import mask
from gateway.validate.messages import KINDS, message
from gateway.validate.report import Issue


@cache
def xml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_FILE)))


@cache
def json_validator() -> Any:
    return jsonschema_rs.validator_for(json.loads(JSON_SCHEMA_FILE.read_text(encoding="utf-8")))


def path_of(loc: tuple[int | str, ...]) -> str:
    """``('NoiDung', 'HoSo', 'DanhSachLePhi', 1, 'Gia')`` → ``NoiDung/HoSo/DanhSachLePhi[2]/Gia``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path += f"/{part}" if path else str(part)
    return path


def field_label(path: str) -> str:
    """The path below the body, which is what a person recognises: ``DanhSachLePhi[2]/Gia``."""
    parts = path.split("/")
    return "/".join(parts[2:]) if len(parts) > 2 and parts[0] == "NoiDung" else path


def _shown(spec: FieldSpec | None, value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    if spec is None or spec.is_pii:  # an unknown field may carry anything, an ID number too
        return mask(text)
    return text if len(text) <= 100 else text[:100] + "…"


_MODEL_RULES = {
    "missing": "schema.required", "extra_forbidden": "schema.unknown_field",
    "string_pattern_mismatch": "schema.format", "string_too_long": "schema.max_length",
    "string_too_short": "schema.min_length", "too_short": "schema.empty_list",
    "greater_than_equal": "schema.range", "less_than_equal": "schema.range",
}


def model_issues(exc: ValidationError, lines: dict[str, int] | None = None) -> list[Issue]:
    issues = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        path = path_of(loc)
        spec = spec_at(GoiTin, [part for part in loc if isinstance(part, str)])
        fmt = spec.format if spec else None
        rule = _MODEL_RULES.get(error["type"], "schema.type")
        if error["type"] == "value_error" and "body.exactly_one" in error["msg"]:
            rule = "schema.body"
        elif rule in ("schema.format", "schema.range") and fmt is not None and fmt.enum:
            rule = "schema.code"
        values: dict[str, Any] = {"field": field_label(path), "limit": (error.get("ctx") or {}).get("max_length", "")}
        if fmt is not None:
            values.update(expected_vi=fmt.vi, expected_en=fmt.en)
            if rule == "schema.type":  # name the kind of value too: the part senders get wrong
                kind = KINDS[fmt.base]
                values.update(expected_vi=f"{kind.vi}: {fmt.vi}", expected_en=f"{kind.en}: {fmt.en}")
        elif spec is not None and spec.repeated and not isinstance(loc[-1], int):
            values.update(expected_vi=KINDS["list"].vi, expected_en=KINDS["list"].en)
        else:
            values.update(expected_vi=KINDS["object"].vi, expected_en=KINDS["object"].en)
        vi, en = message(rule, **values)
        shown = None if rule in ("schema.required", "schema.body") else _shown(spec, error.get("input"))
        line = lines.get(path) or lines.get(path.rpartition("/")[0]) if lines else None
        issues.append(Issue("schema", path, rule, vi, en, value=shown, line=line))
    return issues


def build(data: dict[str, Any], lines: dict[str, int] | None = None) -> GoiTin | list[Issue]:
    """The typed packet, or every structural error found."""
    try:
        return GoiTin.model_validate(data, strict=True)
    except ValidationError as exc:
        return model_issues(exc, lines)


# --- the compiled schemas' own messages, for what only they catch -----------------------

def _element_path(element: etree._Element) -> str:
    steps = []
    while element.getparent() is not None:
        name = etree.QName(element).localname
        same = [e for e in element.getparent() if e.tag == element.tag]
        steps.append(f"{name}[{same.index(element) + 1}]" if len(same) > 1 else name)
        element = element.getparent()
    return "/".join(reversed(steps))


# libxml2's words for an element in the wrong place, e.g. "Element 'MaTTHC': This element
# is not expected. Expected is ( MaHoSo )." — told to a person as schema.order.
_OUT_OF_PLACE = re.compile(r"Element '(?P<name>\w+)': This element is not expected\. "
                           r"Expected is (?:one of )?\( (?P<expected>[^)]+) \)")


# A document wrong everywhere (200,000 stray attributes in 2.6 MB) made as many issues: seconds of CPU
# and hundreds of MB for one report. The first ones tell the sender what to fix; the rest are counted.
MAX_XML_SCHEMA_ISSUES = 200


def xml_schema_issues(schema: etree.XMLSchema, root: etree._Element) -> list[Issue]:
    issues = []
    # libxml2 names the element with the document's own prefixes, which may be declared anywhere.
    prefixes = {prefix: uri for element in root.iter() for prefix, uri in element.nsmap.items() if prefix}
    for number, entry in enumerate(schema.error_log):
        if number == MAX_XML_SCHEMA_ISSUES:
            more = len(schema.error_log) - number
            vi, en = message("schema.structure", detail=f"… (+{more})")
            issues.append(Issue("schema", "", "schema.structure", vi, en))
            break
        try:
            found = root.xpath(entry.path, namespaces=prefixes) if entry.path else []
        except etree.XPathError:  # a prefix bound to two namespaces: report without a path
            found = []
        path = _element_path(found[0]) if found and isinstance(found[0], etree._Element) else ""
        detail = re.sub(r"\{[^}]*\}", "", entry.message)
        out_of_place = _OUT_OF_PLACE.match(detail)
        if out_of_place:
            vi, en = message("schema.order", field=field_label(path), expected=out_of_place["expected"])
            issues.append(Issue("schema", path, "schema.order", vi, en, line=entry.line))
            continue
        vi, en = message("schema.structure", detail=detail)
        issues.append(Issue("schema", path, "schema.structure", vi, en, line=entry.line))
    return issues


def json_schema_issues(data: dict[str, Any]) -> list[Issue]:
    issues = []
    for error in json_validator().iter_errors(data):
        path = path_of(tuple(error.instance_path))
        if type(error.kind).__name__ == "MinItems":  # the model takes [], the contract does not
            vi, en = message("schema.empty_list", field=field_label(path))
            issues.append(Issue("schema", path, "schema.empty_list", vi, en))
            continue
        vi, en = message("schema.structure", detail=error.message)
        issues.append(Issue("schema", path, "schema.structure", vi, en))
    return issues
