"""Validation of one packet through the three layers, collecting every error.

well-formed (hardened parse) → schema (compiled XSD / JSON Schema, then the typed
model) → semantic rules. A document that cannot be read stops at layer 1; past it,
each layer reports all it finds, and semantic rules run whenever the model could
be built.

An XML packet the compiled XSD accepts, in NFC text without character references,
skips the model: the XSD says all the model would (tests/validation/test_fast_path.py
holds the two to that), and the semantic rules read the tree itself. The model is
built when a caller asks for ``Report.packet``.
"""

from typing import Literal

from lxml import etree

from gateway.config import Config, ConfigError
from gateway.packets import xml_codec
from gateway.packets.envelope import GoiTin
from gateway.validate import facts, schema, semantic, text, wellformed
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
        self.reading = facts.reading(semantic.reads(config))
        self.bidi: text.Bidi = config.section("text").get("bidi", "refuse")
        if self.bidi not in ("refuse", "strip"):
            raise ConfigError('text.bidi must be "refuse" or "strip"')

    def validate(self, data: bytes, encoding: Encoding, history: StatusHistory | None = None) -> Report:
        """``history`` replaces the validator's own status history for this packet."""
        history = self.history if history is None else history
        report = Report(encoding)
        try:
            wellformed.check_size(data, self.config.max_bytes)
            decoded: str | None = None
            if encoding == "xml":
                try:
                    root = wellformed.parse_xml(data)
                except wellformed.Unreadable:
                    wellformed.decode_utf8(data)  # "not UTF-8" comes first, as for JSON
                    raise
                # libxml2 refuses every byte sequence that is not UTF-8 (tests/validation/
                # test_hostile.py), so the text is decoded only if the NFC check needs it.
                schema_ok = schema.xml_schema().validate(root)
                has_escapes = b"&" in data and b"&#" in data  # one-byte searches are the fast ones
            else:
                decoded = wellformed.decode_utf8(data)
                content = wellformed.parse_json(decoded)
                schema_ok = schema.json_validator().is_valid(content)
                has_escapes = b"\\u" in data
        except wellformed.Unreadable as exc:
            report.errors.append(exc.issue)
            return report

        clean = not text.needs_check(data, decoded, has_escapes)
        if encoding == "xml":
            if schema_ok and clean:
                view = facts.of_xml(root, self.reading)
                report.found_later(lambda: _model(root), view.heading())
                return self._semantic(report, view, history)
            content = xml_codec.to_data(root)

        if not clean:
            content, errors, warnings = text.normalise(content, bidi=self.bidi)
            report.errors += errors
            report.warnings += warnings

        lines: dict[str, int] | None = None
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

        report.found(built)
        return self._semantic(report, facts.of_model(built), history)

    def _semantic(self, report: Report, view: facts.PacketFacts, history: StatusHistory | None) -> Report:
        errors, warnings = semantic.check(view, self.config, history)
        report.errors += errors
        report.warnings += warnings
        return report


def _model(root: etree._Element) -> GoiTin:
    """The typed packet of a tree the compiled XSD accepted."""
    built = schema.build(xml_codec.to_data(root))
    if isinstance(built, list):  # a divergence between the XSD and the model: a bug, never a verdict
        raise AssertionError(f"the XSD accepted what the model refuses: {[issue.path for issue in built]}")
    return built
