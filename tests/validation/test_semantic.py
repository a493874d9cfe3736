"""Semantic rules that depend on history, configuration or the clock: a dossier's status
transitions (MemoryHistory), code lists and policies overridden by a deployment's TOML
file, and a ThoiGianGui in the future."""

from collections.abc import Iterable
from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.config import Config, ConfigError
from gateway.packets.envelope import GoiTin
from gateway.validate import semantic
from gateway.validate.pipeline import Validator
from gateway.validate.report import Report
from gateway.validate.semantic import MemoryHistory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOSSIER = "000.00.01.H22-241201-0001"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(autouse=True)
def embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Config.load() here means the embedded defaults, whatever the shell exports."""
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)


def example(body_type: str, **body_fields: Any) -> dict[str, Any]:
    """An example packet as data, with some body fields replaced (None removes a field)."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{body_type}.json").read_bytes())
    body = data["NoiDung"][body_type]
    for name, value in body_fields.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return data


def dossier(status: int) -> bytes:
    return json.dumps(example("HoSo", TrangThaiHoSo=status)).encode()


def step(status: int) -> bytes:
    return json.dumps(example("TienDoXuLy", TrangThai=status)).encode()


def config_file(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return Config.load(path)


def run(validator: Validator, history: MemoryHistory, packets: Iterable[bytes]) -> list[Report]:
    """Validates packets in order and records each accepted one, as ``gateway validate`` does."""
    reports = []
    for data in packets:
        report = validator.validate(data, "json")
        if report.valid and report.packet is not None:
            history.record(report.packet)
        reports.append(report)
    return reports


def rules(issues: Iterable[Any]) -> list[tuple[str, str]]:
    return [(issue.path, issue.rule) for issue in issues]


# --- status transitions -----------------------------------------------------------------

def test_a_dossier_following_the_graph_passes_without_warnings() -> None:
    history = MemoryHistory()
    # registered → received → processing → fees requested → processing → finished → returned
    packets = [dossier(1), step(2), step(4), step(6), step(4), step(9), dossier(10)]
    reports = run(Validator(Config.load(), history), history, packets)
    assert [(r.valid, r.warnings) for r in reports] == [(True, [])] * len(packets)
    assert history.previous_status(DOSSIER) == 10


def test_repeating_the_same_status_is_no_transition() -> None:
    history = MemoryHistory()
    reports = run(Validator(Config.load(), history), history, [step(4), step(4), step(9), dossier(9), dossier(10), dossier(10)])
    assert all(r.valid and not r.warnings for r in reports)


def test_a_skipped_step_warns_by_default() -> None:
    history = MemoryHistory()
    first, skipped = run(Validator(Config.load(), history), history, [step(2), step(9)])
    assert first.valid and skipped.valid
    assert rules(skipped.warnings) == [("NoiDung/TienDoXuLy/TrangThai", "semantic.transition")]
    (warning,) = skipped.warnings
    assert "2 (Được tiếp nhận" in warning.message_vi and "9 (Đã xử lý xong" in warning.message_vi
    assert DOSSIER in warning.message_vi and warning.value == "9"
    # each language shows its own half of the configured "Vietnamese — English" status names
    assert "received" not in warning.message_vi and "Được tiếp nhận" not in warning.message_en
    assert "2 (received)" in warning.message_en and "9 (processing finished)" in warning.message_en
    assert history.previous_status(DOSSIER) == 9  # a warning does not stop the packet


def test_a_skipped_step_is_rejected_when_policy_says_so(tmp_path: Path) -> None:
    config = config_file(tmp_path, '[status]\ntransition_policy = "reject"\n')
    history = MemoryHistory()
    first, skipped = run(Validator(config, history), history, [step(2), step(9)])
    assert first.valid and not skipped.valid
    assert rules(skipped.errors) == [("NoiDung/TienDoXuLy/TrangThai", "semantic.transition")]
    assert skipped.warnings == []
    assert history.previous_status(DOSSIER) == 2  # the refused step is not history


def test_a_move_after_a_terminal_status_is_rejected_by_default() -> None:
    history = MemoryHistory()
    returned, reopened = run(Validator(Config.load(), history), history, [dossier(10), step(4)])
    assert returned.valid
    assert rules(reopened.errors) == [("NoiDung/TienDoXuLy/TrangThai", "semantic.after_terminal")]
    assert "trạng thái kết thúc 10" in reopened.errors[0].message_vi


@pytest.mark.parametrize("terminal", [3, 7, 8, 10])
def test_every_terminal_status_closes_the_dossier(terminal: int) -> None:
    history = MemoryHistory()
    history.statuses[DOSSIER] = terminal
    report = Validator(Config.load(), history).validate(dossier(2), "json")
    assert rules(report.errors) == [("NoiDung/HoSo/TrangThaiHoSo", "semantic.after_terminal")]


def test_after_terminal_policy_can_be_relaxed_to_a_warning(tmp_path: Path) -> None:
    config = config_file(tmp_path, '[status]\nafter_terminal_policy = "warn"\n')
    history = MemoryHistory()
    _, reopened = run(Validator(config, history), history, [dossier(10), step(4)])
    assert reopened.valid
    assert rules(reopened.warnings) == [("NoiDung/TienDoXuLy/TrangThai", "semantic.after_terminal")]


def test_the_transition_graph_is_configuration(tmp_path: Path) -> None:
    """A province whose system goes straight from received (2) to finished (9)."""
    config = config_file(tmp_path, '[status]\ntransition_policy = "reject"\n'
                                   'transitions = { 1 = [2, 3], 2 = [4, 9], 4 = [5, 6, 7, 8, 9], 9 = [10] }\n')
    history = MemoryHistory()
    reports = run(Validator(config, history), history, [step(2), step(9), step(10)])
    assert all(r.valid and not r.warnings for r in reports)


def test_packets_of_other_dossiers_do_not_interfere() -> None:
    history = MemoryHistory()
    other = example("TienDoXuLy", TrangThai=4, MaHoSo="000.00.01.H22-241202-0002")
    reports = run(Validator(Config.load(), history), history,
                  [dossier(10), json.dumps(other).encode()])
    assert all(r.valid and not r.warnings for r in reports)


def test_an_unusable_policy_is_refused_when_the_configuration_loads(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="transition_policy"):
        config_file(tmp_path, '[status]\ntransition_policy = "ignore"\n')


# --- configured code lists ------------------------------------------------------------------

def test_a_code_outside_the_default_list_is_refused() -> None:
    data = json.dumps(example("HoSo", LoaiDoiTuong=9)).encode()
    report = Validator(Config.load()).validate(data, "json")
    assert rules(report.errors) == [("NoiDung/HoSo/LoaiDoiTuong", "semantic.code_list")]
    assert report.errors[0].value == "9"
    assert "1: Công dân, 2: Doanh nghiệp" in report.errors[0].message_vi
    assert "citizen" not in report.errors[0].message_vi
    assert "1: citizen, 2: enterprise" in report.errors[0].message_en


def test_a_deployments_code_list_replaces_the_default_one(tmp_path: Path) -> None:
    """A province both adds codes (9) and narrows the list (no 3 or 4): its list is the whole list."""
    config = config_file(tmp_path, '[code_lists.LoaiDoiTuong]\n1 = "Công dân — citizen"\n'
                                   '9 = "Hộ kinh doanh — household business"\n')
    assert Validator(config).validate(json.dumps(example("HoSo", LoaiDoiTuong=9)).encode(), "json").valid
    narrowed = Validator(config).validate(json.dumps(example("HoSo", LoaiDoiTuong=3)).encode(), "json")
    assert rules(narrowed.errors) == [("NoiDung/HoSo/LoaiDoiTuong", "semantic.code_list")]
    assert Validator(Config.load()).validate(json.dumps(example("HoSo", LoaiDoiTuong=3)).encode(), "json").valid
    assert config.code_lists["LoaiPhiLePhi"] == Config.load().code_lists["LoaiPhiLePhi"]  # other lists untouched


def test_a_deployment_puts_another_field_under_a_code_list(tmp_path: Path) -> None:
    """TrangThaiBoSung has no list by default; a province that knows its codes adds one."""
    config = config_file(tmp_path, '[code_lists.TrangThaiBoSung]\n1 = "Chờ bổ sung — waiting"\n'
                                   '2 = "Đã bổ sung — supplemented"\n')
    example_round = example("HoSo")["NoiDung"]["HoSo"]["DanhSachHoSoBoSung"][0]
    assert Validator(config).validate((EXAMPLES / "HoSo.xml").read_bytes(), "xml").valid
    bad = dict(example_round, TrangThaiBoSung=5)
    data = json.dumps(example("HoSo", DanhSachHoSoBoSung=[bad])).encode()
    report = Validator(config).validate(data, "json")
    assert rules(report.errors) == [("NoiDung/HoSo/DanhSachHoSoBoSung[1]/TrangThaiBoSung", "semantic.code_list")]
    assert Validator(Config.load()).validate(data, "json").valid  # without the list, any code goes


def test_identifier_lengths_are_configuration(tmp_path: Path) -> None:
    ids = [{"LoaiDinhDanh": 2, "SoDinhDanh": "001190012345"}]
    data = json.dumps(example("HoSo", DinhDanhCHS=ids)).encode()
    report = Validator(Config.load()).validate(data, "json")
    assert rules(report.errors) == [("NoiDung/HoSo/DinhDanhCHS[1]/SoDinhDanh", "semantic.id_digits")]
    assert report.errors[0].value == "0011****2345"
    config = config_file(tmp_path, "[identifiers]\ndigits = { 1 = 12, 2 = 12 }\n")
    assert Validator(config).validate(data, "json").valid


def test_fields_required_by_status_are_configuration(tmp_path: Path) -> None:
    data = json.dumps(example("HoSo", TrangThaiHoSo=4, NgayHenTra=None)).encode()
    assert Validator(Config.load()).validate(data, "json").valid
    config = config_file(tmp_path, '[status.required_fields]\n4 = ["NgayHenTra"]\n')
    report = Validator(config).validate(data, "json")
    assert rules(report.errors) == [("NoiDung/HoSo/NgayHenTra", "semantic.required_for_status")]
    assert "Đang xử lý" in report.errors[0].message_vi


# --- the clock --------------------------------------------------------------------------------

def stamped(when: datetime) -> bytes:
    data = example("TrangThaiVanDon")
    data["ThoiGianGui"] = when.astimezone(HANOI).strftime("%Y%m%d%H%M%S")
    return json.dumps(data).encode()


def test_a_send_time_in_the_future_is_refused() -> None:
    report = Validator(Config.load()).validate(stamped(datetime.now(HANOI) + timedelta(days=1)), "json")
    assert rules(report.errors) == [("ThoiGianGui", "semantic.future_time")]
    assert "tương lai" in report.errors[0].message_vi


def test_a_little_clock_skew_is_tolerated() -> None:
    report = Validator(Config.load()).validate(stamped(datetime.now(HANOI) + timedelta(minutes=2)), "json")
    assert report.valid


def test_send_time_is_read_in_vietnam_time() -> None:
    """ThoiGianGui 20241216153005 is 15:30:05 in Vietnam, i.e. 08:30:05 UTC."""
    packet = GoiTin.model_validate_json((EXAMPLES / "HoSo.json").read_bytes(), strict=True)
    config = Config.load()
    utc = ZoneInfo("UTC")
    assert semantic.check(packet, config, now=datetime(2024, 12, 16, 8, 30, 5, tzinfo=utc)) == ([], [])
    assert semantic.check(packet, config, now=datetime(2024, 12, 16, 8, 21, tzinfo=utc)) == ([], [])  # 9 min early
    errors, _ = semantic.check(packet, config, now=datetime(2024, 12, 16, 15, 0, tzinfo=HANOI))
    assert rules(errors) == [("ThoiGianGui", "semantic.future_time")]
    # A sender whose clock runs on Tokyo time (2 hours ahead) is in the future now:
    report = Validator(config).validate(stamped(datetime.now(ZoneInfo("Asia/Tokyo")).replace(tzinfo=HANOI)), "json")
    assert rules(report.errors) == [("ThoiGianGui", "semantic.future_time")]


def test_tolerance_is_configuration(tmp_path: Path) -> None:
    config = config_file(tmp_path, "[time]\nfuture_tolerance_minutes = 180\n")
    assert Validator(config).validate(stamped(datetime.now(HANOI) + timedelta(hours=2)), "json").valid
    packet = GoiTin.model_validate_json(stamped(datetime.now(HANOI) + timedelta(hours=2)), strict=True)
    errors, _ = semantic.check(packet, Config.load())
    assert rules(errors) == [("ThoiGianGui", "semantic.future_time")]
