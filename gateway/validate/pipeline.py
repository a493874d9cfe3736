"""Validation of one packet through the three layers, collecting every error.

well-formed (hardened parse) → schema (compiled XSD / JSON Schema, then the typed
model) → semantic rules. A document that cannot be read stops at layer 1; past it,
each layer reports all it finds, and semantic rules run whenever the model could
be built.
"""

from typing import Literal

from gateway.config import Config
from gateway.packets import xml_codec
from gateway.validate import schema, semantic, text, wellformed
from gateway.validate.report import Report
from gateway.validate.semantic import StatusHistory

Encoding = Literal["xml", "json"]


def sniff(data: bytes) -> Encoding | None:
    """The encoding a document's first meaningful byte shows, if any."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "xml" if head == b"<" else "json" if head in (b"{", b"[") else None


def encoding_of(content_type: str | None) -> Encoding | None:
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return "xml"
    if media == "application/json" or media.endswith("+json"):
        return "json"
    return None


class Validator:
    def __init__(self, config: Config, history: StatusHistory | None = None) -> None:
        self.config = config
        self.history = history
        schema.xml_schema(), schema.json_validator()  # compile once, up front

    def validate(self, data: bytes, encoding: Encoding) -> Report:
        report = Report(encoding)
        try:
            wellformed.check_size(data, self.config.max_bytes)
            decoded = wellformed.decode_utf8(data)
            if encoding == "xml":
                root = wellformed.parse_xml(data)
                schema_ok = schema.xml_schema().validate(root)
                content = xml_codec.to_data(root)
                has_escapes = b"&#" in data
            else:
                content = wellformed.parse_json(decoded)
                schema_ok = schema.json_validator().is_valid(content)
                has_escapes = b"\\u" in data
        except wellformed.Unreadable as exc:
            report.errors.append(exc.issue)
            return report

        if text.needs_check(decoded, has_escapes):
            content, errors, warnings = text.normalise(content)
            report.errors += errors
            report.warnings += warnings

        lines = None
        if not schema_ok and encoding == "xml":
            lines = {}
            xml_codec.to_data(root, lines=lines)
        built = schema.build(content, lines)
        if isinstance(built, list):
            report.errors += built
        elif not schema_ok:
            # The model accepts what the compiled schema refused (element order in XML):
            # the schema's own words are all there is to report.
            report.errors += (schema.xml_schema_issues(schema.xml_schema(), root) if encoding == "xml"
                              else schema.json_schema_issues(content))
        if isinstance(built, list):
            return report

        report.packet = built
        errors, warnings = semantic.check(built, self.config, self.history)
        report.errors += errors
        report.warnings += warnings
        return report
