"""The bundled examples: generated from their authored data, valid, realistic, and the
broken ones in examples/invalid/ each show the one kind of error they are named for —
through the library and through the ``gateway`` command a newcomer runs."""

from collections.abc import Callable
import hashlib
import importlib.util
import json
import os
from pathlib import Path
import re
import subprocess
import sys
from types import ModuleType
from typing import Any
import unicodedata

import pytest

from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.validate.pipeline import Validator

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TYPES = sorted(BODY_TYPES)
Completed = subprocess.CompletedProcess[str]


def load_make_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "scripts" / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_examples() -> ModuleType:
    return load_make_examples()



def test_committed_files_are_what_the_generator_writes(make_examples: ModuleType) -> None:
    generated = make_examples.generated()
    assert len(generated) == 2 * len(TYPES) + 2 * len(make_examples.DEMO) + sum(
        len(variant.encodings) for variant in make_examples.FIXTURES)
    stale = [str(path.relative_to(ROOT)) for path, content in generated.items()
             if not path.exists() or path.read_bytes() != content]
    assert stale == [], "run: .venv/bin/python scripts/make_examples.py"


def test_fixture_xml_builder_writes_what_the_codec_writes(make_examples: ModuleType) -> None:
    """Broken fixtures are written by ``raw_xml``; on valid data it must agree with ``xml_codec``."""
    for body_type in TYPES:
        data = json.loads((EXAMPLES / f"{body_type}.json").read_bytes())
        assert make_examples.raw_xml(data) == (EXAMPLES / f"{body_type}.xml").read_bytes()


@pytest.mark.parametrize("body_type", TYPES)
@pytest.mark.parametrize("encoding", ["xml", "json"])
def test_example_is_valid_without_warnings(validator: Validator, body_type: str, encoding: str) -> None:
    report = validator.validate((EXAMPLES / f"{body_type}.{encoding}").read_bytes(), encoding)
    assert report.valid, [issue.to_dict() for issue in report.errors]
    assert report.warnings == []
    assert report.packet is not None and report.packet.LoaiGoiTin == body_type


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("body_type", TYPES)
def test_example_content_looks_real(body_type: str) -> None:
    data = json.loads((EXAMPLES / f"{body_type}.json").read_bytes())
    texts = _strings(data)
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)
    assert any(re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", t) for t in texts), \
        "Vietnamese content"
    dates = [t for t in texts if re.fullmatch(r"\d{14}", t)]
    assert dates and all(t.startswith("2024") for t in dates)
    for code in re.findall(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}\b", " ".join(texts)):
        assert code == "000.00.01.H22-241201-0001"  # one dossier's life across the examples
    packet = GoiTin.model_validate(data, strict=True)
    if packet.dossier_code is not None:
        assert packet.dossier_code == "000.00.01.H22-241201-0001"


def test_hoso_example_is_a_full_five_kilobyte_dossier() -> None:
    xml = (EXAMPLES / "HoSo.xml").read_bytes()
    assert 4_500 <= len(xml) <= 7_500  # the benchmark's "5 KB dossier"
    ho_so = GoiTin.model_validate_json((EXAMPLES / "HoSo.json").read_bytes(), strict=True).body
    assert ho_so.TaiLieuNop and ho_so.DanhSachLePhi and ho_so.DinhDanhCHS
    assert ho_so.DanhSachHoSoBoSung and ho_so.DanhSachGiayToKetQua
    assert len(ho_so.SoGiayToChuHoSo) == 12


def test_receipt_example_acknowledges_the_dossier_example_bytes() -> None:
    receipt = GoiTin.model_validate_json((EXAMPLES / "BienNhan.json").read_bytes(), strict=True)
    ho_so_xml = (EXAMPLES / "HoSo.xml").read_bytes()
    assert receipt.body.BamSHA256 == hashlib.sha256(ho_so_xml).hexdigest()
    ho_so = GoiTin.model_validate_json((EXAMPLES / "HoSo.json").read_bytes(), strict=True)
    assert receipt.body.MaGoiTinNhan == ho_so.MaGoiTin == receipt.MaThamChieu


# --- examples/invalid: what ``python -m demo`` (./run) shows ------------------------------------------

DEMO_ERRORS = {
    "missing-field": [("NoiDung/HoSo/MaTTHC", "schema.required")],
    "bad-date": [("NoiDung/TienDoXuLy/NgayKetThucTheoQuyDinh", "semantic.date_invalid")],
    "status-6-without-fees": [("NoiDung/HoSo/DanhSachLePhi", "semantic.required_for_status")],
    "unknown-field": [("NoiDung/TrangThaiVanDon/ViTriHienTai", "schema.unknown_field")],
    "broken-syntax": [("", "{encoding}.malformed")],
}


@pytest.mark.parametrize("name", sorted(DEMO_ERRORS))
@pytest.mark.parametrize("encoding", ["xml", "json"])
def test_demo_broken_example_shows_its_one_error(validator: Validator, name: str, encoding: str) -> None:
    report = validator.validate((EXAMPLES / "invalid" / f"{name}.{encoding}").read_bytes(), encoding)
    assert [(i.path, i.rule) for i in report.errors] == [
        (path, rule.format(encoding=encoding)) for path, rule in DEMO_ERRORS[name]]


def test_demo_broken_examples_are_all_known() -> None:
    names = {path.stem for path in (EXAMPLES / "invalid").iterdir()}
    assert names == set(DEMO_ERRORS)
    assert len({rule for errors in DEMO_ERRORS.values() for _, rule in errors}) == len(DEMO_ERRORS)


def test_the_demo_lists_every_example_and_explains_the_broken_ones(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "demo", "--validate-only"], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "GATEWAY_CONFIG"} | {"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for body_type in TYPES:
        for suffix in ("xml", "json"):
            assert re.search(rf"examples/{body_type}\.{suffix}\s+✓", out), (body_type, suffix)
    for name, errors in DEMO_ERRORS.items():
        for suffix in ("xml", "json"):
            assert re.search(rf"examples/invalid/{name}\.{suffix}\s+✗ 1 lỗi", out), (name, suffix)
        for path, rule in errors:
            assert rule.format(encoding="xml") in out and path in out
    assert "Thiếu trường bắt buộc MaTTHC" in out
    assert "Traceback" not in out + result.stderr


def test_gateway_validate_accepts_the_examples_and_refuses_the_broken_ones(run_cli: Callable[..., Completed]) -> None:
    valid = run_cli("validate", *sorted(EXAMPLES.glob("*.*")))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    broken = sorted((EXAMPLES / "invalid").iterdir())
    result = run_cli("validate", "--json", *broken)
    assert result.returncode == 1
    reports = json.loads(result.stdout)
    assert len(reports) == len(broken) and not any(report["valid"] for report in reports)


def test_the_http_api_gives_the_same_reports_as_the_library(api: Any, validator: Validator) -> None:
    """POST /v1/validate on a live server (the ``api`` fixture of this folder's conftest)."""
    files = sorted(EXAMPLES.glob("*.*")) + sorted((EXAMPLES / "invalid").iterdir())
    for path in files:
        encoding = path.suffix[1:]
        response = api.post(path.read_bytes(), f"application/{encoding}; charset=utf-8")
        assert response.status_code == 200, path
        expected = validator.validate(path.read_bytes(), encoding).to_dict()
        assert response.json() == expected, path
        assert response.json()["valid"] is (path.parent == EXAMPLES)
