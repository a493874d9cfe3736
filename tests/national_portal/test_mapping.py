"""The province's mapping table: loading, lookups (status + sub-status, procedures), validation and its command."""

from pathlib import Path
import subprocess
import sys

import pytest

from connectors.national_portal import mapping
from connectors.national_portal.mapping import Mapping, MappingError

GOOD = """
[[status]]
local = "TIEP_NHAN"
national = 2

[[status]]
local = "DANG_XU_LY"
national = 4

[[status]]
local = "DANG_XU_LY"
sub = "CHO_BO_SUNG"
national = 5

[procedures]
"1.003560.000.00.00.H56" = "1.003560"
"""

BAD = """
[[status]]
local = "TIEP_NHAN"
national = 2

[[status]]
local = "TIEP_NHAN"
national = 3

[[status]]
local = "HUY"
national = 11

[[status]]
national = 4
colour = "blue"

[procedures]
"2.002622.H56" = "2.2622"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_lookups_prefer_the_sub_status_and_fall_back_to_the_status(tmp_path: Path) -> None:
    table = mapping.load(write(tmp_path, GOOD))
    assert table.national_status("TIEP_NHAN") == 2
    assert table.national_status("DANG_XU_LY") == 4
    assert table.national_status("DANG_XU_LY", "CHO_BO_SUNG") == 5
    assert table.national_status("DANG_XU_LY", "KHAC") == 4
    assert table.national_status(9) == 9  # a national code without a row passes unchanged
    with pytest.raises(MappingError, match="neither in the mapping table nor a national code"):
        table.national_status("KHONG_CO")
    with pytest.raises(MappingError):
        table.national_status(11)


def test_procedure_codes(tmp_path: Path) -> None:
    table = mapping.load(write(tmp_path, GOOD))
    assert table.national_procedure("1.003560.000.00.00.H56") == "1.003560"
    assert table.national_procedure("1.005129") == "1.005129"  # already national
    with pytest.raises(MappingError, match="not mapped"):
        table.national_procedure("2.002622.H56")


def test_a_row_wins_over_a_national_code() -> None:
    assert Mapping().national_status(7) == 7
    assert Mapping(statuses={("7", None): 8}).national_status(7) == 8  # a province whose numbering differs
    with pytest.raises(MappingError):
        Mapping().national_status("DANG_XU_LY")


def test_check_finds_every_problem(tmp_path: Path) -> None:
    problems = mapping.check(mapping.read(write(tmp_path, BAD)))
    errors = {(p.where, p.message_en) for p in problems if p.severity == "error"}
    assert ("status[2]", "duplicates row status[1] (TIEP_NHAN)") in errors
    assert ("status[3]", "national status must be an integer 1–10, not 11") in errors
    assert ("status[4]", "unsupported keys: colour") in errors
    assert ("status[4]", "local status (local) is missing") in errors
    assert ("procedures.2.002622.H56", "national MaTTHC must look like d.dddddd, not '2.2622'") in errors
    warnings = [p for p in problems if p.severity == "warning"]
    assert any("no local status maps to national code(s) 1, 3," in p.message_en for p in warnings)
    with pytest.raises(MappingError):
        mapping.load(write(tmp_path, BAD))


def test_check_mapping_command(tmp_path: Path) -> None:
    gateway = Path(sys.executable).with_name("gateway")
    good = subprocess.run([gateway, "portal", "check-mapping", write(tmp_path, GOOD)], capture_output=True,
                          text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "3 status rows, 1 procedure codes — usable" in good.stdout
    assert "cảnh báo / warning" in good.stdout  # national codes without a local status
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text(BAD, encoding="utf-8")
    bad = subprocess.run([gateway, "portal", "check-mapping", bad_file], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "5 lỗi / errors" in bad.stdout and "Trùng với dòng status[1]" in bad.stdout


def test_the_shipped_example_is_complete_and_clean() -> None:
    example = Path(mapping.__file__).with_name("mapping-example.toml")
    assert mapping.check(mapping.read(example)) == []  # not even a warning: all ten national codes covered
    table = mapping.load(example)
    assert table.national_status("DANG_XU_LY", "CHO_THANH_TOAN") == 6
    assert table.national_procedure("2.002622.H56") == "2.002622"


def test_check_mapping_command_on_an_unreadable_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[status]\nlocal = ", encoding="utf-8")
    result = subprocess.run([Path(sys.executable).with_name("gateway"), "portal", "check-mapping", broken],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "cannot read mapping" in result.stdout
