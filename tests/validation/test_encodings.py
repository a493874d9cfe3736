"""The two encodings describe one model: every example converts XML → JSON (accepted by
the published JSON Schema) → identical XML, and JSON → XML (accepted by the published
XSD) → identical JSON; both read into equal packets through the full validator."""

import json
from pathlib import Path

import jsonschema_rs
from lxml import etree
import pytest

from gateway.packets import json_codec, xml_codec
from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.packets.schema_gen import JSON_SCHEMA_FILE, XSD_FILE
from gateway.validate.pipeline import Validator
from gateway.validate.wellformed import parse_xml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TYPES = sorted(BODY_TYPES)


@pytest.fixture(scope="module")
def json_schema() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(JSON_SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_FILE)))



def xml_of(body_type: str) -> bytes:
    return (EXAMPLES / f"{body_type}.xml").read_bytes()


def json_of(body_type: str) -> bytes:
    return (EXAMPLES / f"{body_type}.json").read_bytes()


@pytest.mark.parametrize("body_type", TYPES)
def test_xml_to_json_is_schema_valid_and_back_to_identical_xml(body_type: str, json_schema: jsonschema_rs.Validator,
                                                                xsd: etree.XMLSchema) -> None:
    root = parse_xml(xml_of(body_type))  # the gateway's hardened parser
    xsd.assertValid(root)
    data = xml_codec.to_data(root)
    errors = [error.message for error in json_schema.iter_errors(data)]
    assert errors == []
    # through JSON text, as a receiver would get it
    packet = GoiTin.model_validate(json.loads(json_codec.encode(GoiTin.model_validate(data, strict=True))),
                                   strict=True)
    assert xml_codec.encode(packet, pretty=True) == xml_of(body_type)


@pytest.mark.parametrize("body_type", TYPES)
def test_json_to_xml_is_schema_valid_and_back_to_identical_json(body_type: str, json_schema: jsonschema_rs.Validator,
                                                                  xsd: etree.XMLSchema) -> None:
    data = json.loads(json_of(body_type))
    assert json_schema.is_valid(data)
    xml = xml_codec.encode(GoiTin.model_validate(data, strict=True))
    root = parse_xml(xml)
    xsd.assertValid(root)
    packet = GoiTin.model_validate(xml_codec.to_data(root), strict=True)
    assert json_codec.encode(packet, pretty=True) == json_of(body_type)
    assert json.loads(json_codec.encode(packet)) == data  # the compact form carries the same data


@pytest.mark.parametrize("body_type", TYPES)
def test_both_encodings_are_valid_and_read_into_equal_packets(body_type: str, validator: Validator) -> None:
    from_xml = validator.validate(xml_of(body_type), "xml")
    from_json = validator.validate(json_of(body_type), "json")
    for report in (from_xml, from_json):
        assert report.valid, [issue.to_dict() for issue in report.errors]
        assert report.warnings == []
    assert from_xml.packet is not None and from_xml.packet == from_json.packet
    assert from_xml.packet.LoaiGoiTin == body_type == from_xml.packet.NoiDung.body_type


def test_integers_and_text_keep_their_types_across_encodings() -> None:
    """What XML cannot say by itself (number or text) comes back right from the model."""
    data = xml_codec.to_data(parse_xml(xml_of("HoSo")))
    ho_so = data["NoiDung"]["HoSo"]
    assert ho_so["TrangThaiHoSo"] == 10 and ho_so["DanhSachLePhi"][0]["Gia"] == 3_000_000
    assert ho_so["SoGiayToChuHoSo"] == "001190012345"  # digits, but text: leading zeros kept
    assert ho_so["MaTTHC"] == "1.005129"
    assert isinstance(ho_so["DinhDanhCHS"], list) and len(ho_so["DinhDanhCHS"]) == 1  # one item is still a list
