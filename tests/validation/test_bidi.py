"""Bidirectional control characters (display spoofing: "U+202E" turns a name around on screen): refused by
default in every text field, in JSON and XML, literal or escaped; with ``[text] bidi = "strip"`` removed from
the gateway's reading, with a warning."""

import json
from typing import Any

import pytest

from gateway.config import Config
from gateway.packets import xml_codec
from gateway.packets.envelope import GoiTin
from gateway.validate.pipeline import Validator

SPOOFED = "Nguyễn \u202eVăn A"


def encoded(data: dict[str, Any], encoding: str, escaped: bool = False) -> bytes:
    if encoding == "xml":
        return xml_codec.encode(GoiTin.model_validate(data, strict=True))
    return json.dumps(data, ensure_ascii=escaped).encode("utf-8")


@pytest.mark.parametrize("encoding, escaped", [("json", False), ("json", True), ("xml", False)])
def test_a_bidi_control_is_refused_by_default(validator: Validator, packet_data: dict[str, Any], encoding: str,
                                              escaped: bool) -> None:
    clean = validator.validate(encoded(packet_data, encoding, escaped), encoding)
    assert clean.valid
    packet_data["NoiDung"]["HoSo"]["ChuHoSo"] = SPOOFED
    report = validator.validate(encoded(packet_data, encoding, escaped), encoding)
    assert [(e.path, e.rule) for e in report.errors] == [("NoiDung/HoSo/ChuHoSo", "text.bidi")]
    assert "U+202E" in report.errors[0].message_en


def test_strip_removes_them_from_the_reading_with_a_warning(packet_data: dict[str, Any]) -> None:
    config = Config({**Config.load().raw, "text": {"bidi": "strip"}})
    packet_data["NoiDung"]["HoSo"]["ChuHoSo"] = SPOOFED + "\u2066\u200f"
    report = Validator(config).validate(encoded(packet_data, "json"), "json")
    assert report.valid and [(w.path, w.rule) for w in report.warnings] == [("NoiDung/HoSo/ChuHoSo",
                                                                             "text.bidi_removed")]
    assert report.packet is not None and report.packet.NoiDung.HoSo.ChuHoSo == "Nguyễn Văn A"
