"""``gateway validate``: exit codes, the --json report shape, human output and --config."""

from collections.abc import Callable
import json
from pathlib import Path
import subprocess
from typing import Any

import pytest

from gateway.packets import xml_codec
from gateway.packets.envelope import GoiTin
from tests.validation.conftest import GATEWAY, HANG, clean_env

Run = Callable[..., subprocess.CompletedProcess[str]]


def write(path: Path, data: dict[str, Any], encoding: str) -> Path:
    """Writes ``data`` as a packet file; invalid data is written as it is, without the model."""
    if encoding == "json":
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path.write_bytes(xml_codec.encode(GoiTin.model_validate(data, strict=True), pretty=True))
    return path


@pytest.fixture
def invalid_data(packet_data: dict[str, Any]) -> dict[str, Any]:
    """Two errors: a missing required field and a fee amount in the wrong type."""
    del packet_data["NoiDung"]["HoSo"]["TenTTHC"]
    packet_data["NoiDung"]["HoSo"]["DanhSachLePhi"][0]["Gia"] = "ba triệu"
    return packet_data


def test_valid_files_exit_0(tmp_path: Path, run_cli: Run, valid_xml: bytes, valid_json: bytes) -> None:
    (tmp_path / "a.xml").write_bytes(valid_xml)
    (tmp_path / "a.json").write_bytes(valid_json)
    result = run_cli("validate", tmp_path / "a.xml", tmp_path / "a.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hợp lệ / valid" in result.stdout
    assert "2/2 hợp lệ / valid" in result.stdout


def test_json_report_for_one_file_is_an_object(tmp_path: Path, run_cli: Run, invalid_data: dict[str, Any]) -> None:
    path = write(tmp_path / "bad.json", invalid_data, "json")
    result = run_cli("validate", "--json", path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    assert report["valid"] is False and report["file"] == str(path)
    assert [(e["path"], e["rule"]) for e in report["errors"]] == [
        ("NoiDung/HoSo/TenTTHC", "schema.required"),
        ("NoiDung/HoSo/DanhSachLePhi[1]/Gia", "schema.type"),
    ]
    for error in report["errors"]:
        assert {"path", "rule", "message_vi", "message_en"} <= error.keys()
        assert error["message_vi"] != error["message_en"]
    assert "TenTTHC" in report["errors"][0]["message_vi"]


def test_json_report_for_several_files_is_an_array_in_order(tmp_path: Path, run_cli: Run, valid_xml: bytes,
                                                             invalid_data: dict[str, Any]) -> None:
    good = tmp_path / "good.xml"
    good.write_bytes(valid_xml)
    bad = write(tmp_path / "bad.json", invalid_data, "json")
    result = run_cli("validate", "--json", good, bad)
    assert result.returncode == 1  # any invalid file
    reports = json.loads(result.stdout)
    assert isinstance(reports, list)
    assert [(r["file"], r["valid"], len(r["errors"])) for r in reports] == [(str(good), True, 0), (str(bad), False, 2)]
    assert reports[0]["packet"]["MaHoSo"] == "000.00.01.H22-241202-0007"


def test_json_output_is_the_same_for_both_encodings(tmp_path: Path, run_cli: Run, packet_data: dict[str, Any]) -> None:
    packet_data["NoiDung"]["HoSo"]["NgayHenTra"] = "20241130170000"  # before NgayTiepNhan: a semantic error
    xml, js = write(tmp_path / "p.xml", packet_data, "xml"), write(tmp_path / "p.json", packet_data, "json")
    reports = json.loads(run_cli("validate", "--json", xml, js).stdout)
    shapes = [[{k: v for k, v in e.items() if k != "line"} for e in r["errors"]] for r in reports]
    assert shapes[0] == shapes[1]
    assert [e["rule"] for e in shapes[0]] == ["semantic.date_order"]


def test_human_output_is_readable(tmp_path: Path, run_cli: Run, invalid_data: dict[str, Any]) -> None:
    path = write(tmp_path / "bad.json", invalid_data, "json")
    result = run_cli("validate", path)
    assert result.returncode == 1
    out = result.stdout
    assert f"{path}  2 lỗi / errors" in out
    assert "NoiDung/HoSo/TenTTHC" in out and "schema.required" in out
    assert "Thiếu trường bắt buộc" in out  # the Vietnamese message
    assert "Required field" in out  # the English one alongside
    assert "0/1 hợp lệ / valid" in out
    assert "{" not in out.splitlines()[0]  # not JSON
    assert "\x1b[" not in out  # no terminal escapes when piped


def test_pii_is_masked_in_the_report(tmp_path: Path, run_cli: Run, packet_data: dict[str, Any]) -> None:
    packet_data["NoiDung"]["HoSo"]["SoGiayToChuHoSo"] = "0010900123"  # a 10-digit tax code for a citizen
    result = run_cli("validate", "--json", write(tmp_path / "p.json", packet_data, "json"))
    assert result.returncode == 1
    assert "0010900123" not in result.stdout
    assert any(e["rule"] == "semantic.citizen_id" for e in json.loads(result.stdout)["errors"])


def test_missing_file_is_a_usage_error(tmp_path: Path, run_cli: Run) -> None:
    result = run_cli("validate", tmp_path / "missing.xml")
    assert result.returncode == 2
    assert "missing.xml" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["validate"], ["validate", "--no-such-option", "x.xml"]])
def test_bad_arguments_are_usage_errors(run_cli: Run, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_directory_is_a_usage_error(tmp_path: Path, run_cli: Run) -> None:
    assert run_cli("validate", tmp_path).returncode == 2


def test_config_extending_a_code_list_changes_the_verdict(tmp_path: Path, run_cli: Run,
                                                          packet_data: dict[str, Any]) -> None:
    packet_data["NoiDung"]["HoSo"]["LoaiDoiTuong"] = 5  # not in the embedded LoaiDoiTuong list
    packet_data["NoiDung"]["HoSo"].pop("SoGiayToChuHoSo")
    path = write(tmp_path / "p.xml", packet_data, "xml")
    by_default = run_cli("validate", "--json", path)
    assert by_default.returncode == 1
    assert [(e["path"], e["rule"]) for e in json.loads(by_default.stdout)["errors"]] == [
        ("NoiDung/HoSo/LoaiDoiTuong", "semantic.code_list")]
    settings = tmp_path / "tinh.toml"
    settings.write_text('[code_lists.LoaiDoiTuong]\n5 = "Hộ kinh doanh — household business"\n', encoding="utf-8")
    configured = run_cli("validate", "--json", "--config", settings, path)
    assert configured.returncode == 0, configured.stdout
    assert json.loads(configured.stdout)["valid"] is True


def test_config_from_the_environment_is_used_too(tmp_path: Path, packet_data: dict[str, Any]) -> None:
    packet_data["NoiDung"]["HoSo"]["TrangThaiHoSo"] = 9  # needs NgayKetThucXuLy by default
    path = write(tmp_path / "p.json", packet_data, "json")
    settings = tmp_path / "lenient.toml"
    settings.write_text("[status.required_fields]\n9 = []\n", encoding="utf-8")
    plain = subprocess.run([str(GATEWAY), "validate", path], capture_output=True, text=True, env=clean_env(),
                           timeout=HANG)
    assert plain.returncode == 1 and "semantic.required_for_status" in plain.stdout
    lenient = subprocess.run([str(GATEWAY), "validate", path], capture_output=True, text=True, timeout=HANG,
                             env=clean_env() | {"GATEWAY_CONFIG": str(settings)})
    assert lenient.returncode == 0, lenient.stdout


def test_unusable_config_is_a_usage_error(tmp_path: Path, run_cli: Run, valid_xml: bytes) -> None:
    (tmp_path / "p.xml").write_bytes(valid_xml)
    settings = tmp_path / "bad.toml"
    settings.write_text('[status]\ntransition_policy = "sometimes"\n', encoding="utf-8")
    result = run_cli("validate", "--config", settings, tmp_path / "p.xml")
    assert result.returncode == 2
    assert "transition_policy" in result.stderr and "Traceback" not in result.stderr


def test_statuses_chain_across_files_in_one_run(tmp_path: Path, run_cli: Run, packet_data: dict[str, Any]) -> None:
    """Files are read in order, so a status after a terminal one in a later file is caught."""
    hoso = packet_data["NoiDung"]["HoSo"]
    hoso |= {"TrangThaiHoSo": 3, "NgayTuChoi": "20241202093000"}
    refused = write(tmp_path / "1.json", packet_data, "json")
    hoso |= {"TrangThaiHoSo": 4}
    packet_data["MaGoiTin"] = "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5c"
    processing = write(tmp_path / "2.json", packet_data, "json")
    assert run_cli("validate", processing).returncode == 0
    reports = json.loads(run_cli("validate", "--json", refused, processing).stdout)
    assert reports[0]["valid"] is True
    assert [e["rule"] for e in reports[1]["errors"]] == ["semantic.after_terminal"]


def test_unknown_extension_is_sniffed_from_the_content(tmp_path: Path, run_cli: Run, valid_xml: bytes,
                                                       valid_json: bytes) -> None:
    (tmp_path / "a.txt").write_bytes(valid_xml)
    (tmp_path / "b").write_bytes(b"\xef\xbb\xbf\n  " + valid_json)
    (tmp_path / "c.dat").write_bytes(b"MaGoiTin=1")
    reports = json.loads(run_cli("validate", "--json", tmp_path / "a.txt", tmp_path / "b", tmp_path / "c.dat").stdout)
    assert [(r["valid"], r["encoding"]) for r in reports[:2]] == [(True, "xml"), (True, "json")]
    assert [e["rule"] for e in reports[2]["errors"]] == ["input.content_type"]
