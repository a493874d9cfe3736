"""XML the compiled XSD accepts skips the model: its semantic rules read the tree.

These tests hold that path to the model's: the same report for every example, fixture and
generated packet (valid or semantically wrong), and a model that accepts whatever the XSD
accepted, built when a caller asks for ``Report.packet``.
"""

from datetime import datetime
from pathlib import Path
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
import pytest

from gateway.config import Config
from gateway.packets import formats, xml_codec
from gateway.packets.catalogue import FieldSpec, field_map
from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.validate import facts, schema, semantic, text, wellformed
from gateway.validate.pipeline import Validator
from gateway.validate.report import Report
from gateway.validate.semantic import MemoryHistory
from tests.validation import strategies

ROOT = Path(__file__).resolve().parents[2]
XML_FILES = sorted([*(ROOT / "examples").glob("*.xml"), *(ROOT / "tests" / "fixtures" / "invalid").glob("*.xml")])
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def by_model(data: bytes, validator: Validator) -> Report:
    """The report of the path through the tree → data walk and the model (what the pipeline did
    for every XML packet before the XSD-accepted ones skipped it)."""
    report = Report("xml")
    decoded = wellformed.decode_utf8(data)
    root = wellformed.parse_xml(data)
    schema_ok = schema.xml_schema().validate(root)
    content = xml_codec.to_data(root)
    if text.needs_check(data, decoded, b"&#" in data):
        content, errors, warnings = text.normalise(content)
        report.errors += errors
        report.warnings += warnings
    lines: dict[str, int] | None = None
    if not schema_ok:
        lines = {}
        xml_codec.to_data(root, lines=lines)
    built = schema.build(content, lines)
    if isinstance(built, list):
        report.errors += built
        return report
    if not schema_ok:
        report.errors += schema.xml_schema_issues(schema.xml_schema(), root)
    report.found(built)
    errors, warnings = semantic.check(built, validator.config, validator.history)
    report.errors += errors
    report.warnings += warnings
    return report


def readable(path: Path) -> bool:
    try:
        wellformed.parse_xml(path.read_bytes())
    except wellformed.Unreadable:
        return False
    return True


@pytest.mark.parametrize("path", [p for p in XML_FILES if readable(p)], ids=lambda p: p.name)
def test_every_example_and_fixture_gets_the_report_of_the_model_path(validator: Validator, path: Path) -> None:
    data = path.read_bytes()
    report = validator.validate(data, "xml")
    expected = by_model(data, validator)
    assert report.to_dict() == expected.to_dict()
    assert report.packet == expected.packet


def _spoilt(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """The packet with some values the schema takes and the rules may not: days past the end of
    the month, year 0000, codes outside the lists, a sum that does not add up; dates drawn at
    random already come out of order."""
    rng = random.Random(seed)

    def visit(record: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
        specs = field_map(record)
        return {name: [spoil(specs[name], item) for item in value] if specs[name].repeated
                else spoil(specs[name], value) for name, value in values.items()}

    def spoil(spec: FieldSpec, value: Any) -> Any:
        if spec.record is not None:
            return visit(spec.record, value)
        if rng.random() < 0.7:
            return value
        if spec.format is formats.DATETIME:
            return rng.choice(["00000101000000", value[:6] + "31" + value[8:], "20230229120000"])
        if spec.format is formats.CONFIG_CODE:
            return rng.choice([0, 5, 9, 99])
        if spec.format is formats.VND and value < formats.VND.maximum:
            return value + 1
        return value

    return visit(GoiTin, data)


@SETTINGS
@given(data=strategies.packet_data(), seed=st.integers(0, 2**16), previous=st.none() | st.integers(1, 10))
def test_generated_packets_get_the_report_of_the_model_path(validator: Validator, data: dict[str, Any], seed: int,
                                                            previous: int | None) -> None:
    raw = _spoilt(data, seed)
    packet = GoiTin.model_validate(raw, strict=True)
    history = MemoryHistory()
    if previous is not None and packet.dossier_code:
        history.statuses[packet.dossier_code] = previous
    checking = Validator(validator.config, history)
    xml = xml_codec.encode(packet, pretty=bool(seed % 2))
    report = checking.validate(xml, "xml")
    expected = by_model(xml, checking)
    assert report.to_dict() == expected.to_dict()
    assert report.packet == packet


@pytest.mark.parametrize("body_type", sorted(BODY_TYPES))
def test_the_tree_view_reads_only_what_the_rules_declare(validator: Validator, body_type: str) -> None:
    # A rule reading a field not in semantic.reads would see None on the tree and a value in
    # the model: the view refuses instead of answering.
    root = wellformed.parse_xml((ROOT / "examples" / f"{body_type}.xml").read_bytes())
    packet = schema.build(xml_codec.to_data(root))
    assert isinstance(packet, GoiTin)
    view = facts.of_xml(root, validator.reading)
    undeclared = {"HoSo": "ChuHoSo", "TienDoXuLy": "NguoiXuLy", "ThuTucHanhChinh": "TenTTHC",
                  "YeuCauThanhToan": "MaYeuCau", "BienLaiThanhToan": "MaGiaoDich", "VanDonBuuChinh": "LoaiVanDon",
                  "TrangThaiVanDon": "MaTrangThai", "PhanAnhKienNghi": "TieuDe", "DanhGiaHaiLong": "GopY",
                  "BienNhan": "BamSHA256"}[body_type]
    with pytest.raises(KeyError):
        view.body.get(undeclared)
    assert view.heading() == (packet.MaGoiTin, packet.LoaiGoiTin, packet.dossier_code)


def test_semantic_rules_read_the_tree_as_they_read_the_model() -> None:
    config = Config.load()
    now = datetime(2024, 12, 16, 12, 0, tzinfo=config.zone)
    for path in XML_FILES:
        data = path.read_bytes()
        try:
            root = wellformed.parse_xml(data)
        except wellformed.Unreadable:
            continue
        if not schema.xml_schema().validate(root):
            continue  # the tree view reads only what the XSD accepted
        model = schema.build(xml_codec.to_data(root))
        assert isinstance(model, GoiTin), path
        tree = semantic.check(facts.of_xml(root, facts.reading(semantic.reads(config))), config, now=now)
        assert tree == semantic.check(model, config, now=now), path.name
