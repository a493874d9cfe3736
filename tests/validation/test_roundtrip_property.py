"""Property-based round trips over generated valid packets of every body type."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
import pytest

from gateway.packets import json_codec, xml_codec
from gateway.packets.catalogue import spec_at
from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.validate import schema, wellformed
from gateway.validate.pipeline import Validator
from tests.validation import strategies

# Moderate counts keep the suite fast; the derandomised database-free run is reproducible.
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BODY_NAMES = sorted(BODY_TYPES)


def parse_xml(data: bytes) -> GoiTin:
    built = schema.build(xml_codec.to_data(wellformed.parse_xml(data)))
    assert isinstance(built, GoiTin), built
    return built


def parse_json(data: bytes) -> GoiTin:
    built = schema.build(wellformed.parse_json(data.decode("utf-8")))
    assert isinstance(built, GoiTin), built
    return built


@pytest.mark.parametrize("body_type", BODY_NAMES)
@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_generated_packets_pass_every_schema_and_the_model(body_type: str, data: st.DataObject) -> None:
    raw = data.draw(strategies.packet_data(body_type))
    packet = GoiTin.model_validate(raw, strict=True)
    assert packet.LoaiGoiTin == body_type == packet.NoiDung.body_type
    xml_root = etree.fromstring(xml_codec.encode(packet))
    xsd = schema.xml_schema()
    assert xsd.validate(xml_root), xsd.error_log
    as_json = json.loads(json_codec.encode(packet))
    assert as_json == raw  # the JSON encoding is the data itself
    errors = [e.message for e in schema.json_validator().iter_errors(as_json)]
    assert not errors


@SETTINGS
@given(strategies.packets())
def test_xml_round_trip_is_lossless(packet: GoiTin) -> None:
    assert parse_xml(xml_codec.encode(packet)) == packet
    assert parse_xml(xml_codec.encode(packet, pretty=True)) == packet


@SETTINGS
@given(strategies.packets())
def test_json_round_trip_is_lossless(packet: GoiTin) -> None:
    assert parse_json(json_codec.encode(packet)) == packet
    assert parse_json(json_codec.encode(packet, pretty=True)) == packet


@SETTINGS
@given(strategies.packets())
def test_xml_to_json_to_xml_is_byte_identical(packet: GoiTin) -> None:
    xml = xml_codec.encode(packet, pretty=True)
    via_json = parse_json(json_codec.encode(parse_xml(xml)))
    assert xml_codec.encode(via_json, pretty=True) == xml


@SETTINGS
@given(packet=strategies.packets())
def test_both_encodings_get_the_same_report(validator: Validator, packet: GoiTin) -> None:
    by_xml = validator.validate(xml_codec.encode(packet), "xml")
    by_json = validator.validate(json_codec.encode(packet), "json")
    assert by_xml.packet == by_json.packet == packet
    assert [(e.path, e.rule) for e in by_xml.errors] == [(e.path, e.rule) for e in by_json.errors]
    # generated values are well-formed but not necessarily plausible: only semantic rules may object
    assert {e.layer for e in by_xml.errors} <= {"semantic"}


def _integer_elements(root: etree._Element) -> list[etree._Element]:
    """The elements of ``root`` whose field holds an integer format."""
    found = []
    for element in root.iter():
        names = [etree.QName(e).localname for e in reversed(list(element.iterancestors()))][1:]
        spec = spec_at(GoiTin, [*names, etree.QName(element).localname]) if element is not root else None
        if spec is not None and spec.format is not None and spec.format.base == "integer":
            found.append(element)
    return found


@SETTINGS
@given(packet=strategies.packets(), zeros=st.integers(0, 3), space=st.sampled_from(["", " ", "\n    ", "\t"]))
def test_integer_text_with_leading_zeros_and_spaces_reads_the_same(packet: GoiTin, zeros: int, space: str) -> None:
    """XSD integers allow surrounding whitespace and leading zeros; the XML reader must too."""
    root = etree.fromstring(xml_codec.encode(packet))
    for element in _integer_elements(root):
        element.text = f"{space}{'0' * zeros}{element.text}{space}"
    assert parse_xml(etree.tostring(root)) == packet
