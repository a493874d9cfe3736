"""The reverse transform (classic payload → QCVN 120 packet) and the stateless sessions, on their own:
real Validator, real configuration, no HTTP."""

import copy
from datetime import datetime
import json
from pathlib import Path
from typing import Any
import unicodedata

import pytest

from connectors.national_portal import inbound
from gateway.config import Config
from connectors.national_portal.classic.answers import item_path
from connectors.national_portal.classic.sessions import Sessions, secret_from
from connectors.national_portal.classic.settings import InboundSettings
from gateway.validate.pipeline import Validator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOSSIER: dict[str, Any] = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))["NoiDung"]["HoSo"]
ENVELOPE = inbound.Envelope("classic:mot_cua", "000.00.01.H22")
WHEN = datetime(2024, 12, 16, 15, 30)


def test_a_portal_payload_becomes_a_valid_packet_after_lax_json_is_normalised() -> None:
    item = copy.deepcopy(DOSSIER)
    # What serialisers of existing one-stop systems send and the portal takes.
    item.update(TrangThaiHoSo="10", LoaiDoiTuong="1", NgayTuChoi=None, DanhSachTepDinhKemKhac=[],
                TenLinhVuc=unicodedata.normalize("NFD", "Lữ hành"))
    item["DanhSachLePhi"][0]["Gia"] = "3000000"
    packet = inbound.to_packet("DongBoHoSoMC", item, ENVELOPE, WHEN)
    body = packet["NoiDung"]["HoSo"]
    assert body["TrangThaiHoSo"] == 10 and body["LoaiDoiTuong"] == 1 and body["DanhSachLePhi"][0]["Gia"] == 3000000
    assert "NgayTuChoi" not in body and "DanhSachTepDinhKemKhac" not in body
    assert body["TenLinhVuc"] == "Lữ hành" and unicodedata.is_normalized("NFC", body["TenLinhVuc"])
    assert body["SoGiayToChuHoSo"] == "001190012345"  # a digit string of a text field stays text
    assert (packet["LoaiGoiTin"], packet["NoiGui"], packet["ThoiGianGui"]) == ("HoSo", "000.00.01.H22", "20241216153000")
    report = Validator(Config.load()).validate(json.dumps(packet).encode(), "json")
    assert report.valid and not report.warnings, report.to_dict()


def test_unknown_fields_and_bad_values_are_left_for_the_validator() -> None:
    item = dict(DOSSIER, MaTTHC="1.5129", TruongLa="x", TrangThaiHoSo="mười")
    packet = inbound.to_packet("DongBoHoSoMC", item, ENVELOPE, WHEN)
    report = Validator(Config.load()).validate(json.dumps(packet).encode(), "json")
    found = {(e.path, e.rule) for e in report.errors}
    assert ("NoiDung/HoSo/TruongLa", "schema.unknown_field") in found
    assert ("NoiDung/HoSo/TrangThaiHoSo", "schema.type") in found
    assert any(path == "NoiDung/HoSo/MaTTHC" for path, _ in found)


def test_packet_id_is_the_same_for_a_resend_and_differs_by_client_agency_service_and_content() -> None:
    step = {"MaHoSo": "000.00.01.H22-241201-0001", "NguoiXuLy": "Lê Thị Mai", "ThoiDiemXuLy": "20241216150000",
            "TrangThai": 4}
    first = inbound.to_packet("CapNhatTienDoHoSoMC", step, ENVELOPE, WHEN)
    again = inbound.to_packet("CapNhatTienDoHoSoMC", dict(reversed(list(step.items()))), ENVELOPE, datetime.now())
    assert first["MaGoiTin"] == again["MaGoiTin"]  # key order and the sending instant do not matter
    ids = {inbound.to_packet("CapNhatTienDoHoSoMC", step, inbound.Envelope("classic:other", "000.00.01.H22"),
                             WHEN)["MaGoiTin"],
           inbound.to_packet("CapNhatTienDoHoSoMC", step, inbound.Envelope("classic:mot_cua", "000.00.02.H22"),
                             WHEN)["MaGoiTin"],
           inbound.to_packet("CapNhatTienDoHoSoMC", dict(step, TrangThai=5), ENVELOPE, WHEN)["MaGoiTin"],
           inbound.to_packet("CapNhatTienDoHoSoMC", dict(step, TrangThai="4"), ENVELOPE, WHEN)["MaGoiTin"]}
    # "4" and 4 are the same content once normalised: the same packet.
    assert first["MaGoiTin"] in ids and len(ids) == 4


@pytest.mark.parametrize(("index", "path", "shown"), [
    (0, "NoiDung/HoSo/MaTTHC", "data[0].MaTTHC"),
    (3, "NoiDung/HoSo/DanhSachLePhi[2]/Gia", "data[3].DanhSachLePhi[1].Gia"),
    (1, "NoiGui", "madonvi"),
    (2, "", "data[2]"),
])
def test_issue_paths_are_shown_in_the_clients_own_json(index: int, path: str, shown: str) -> None:
    assert item_path(index, path) == shown


def _settings(**extra: Any) -> InboundSettings:
    table = {"clients": {"mot_cua": {"username": "motcua", "password_sha256": "ab" * 32,
                                      "madonvi": ["000.00.01.H22"]}}, **extra}
    return InboundSettings.from_config(Config({"inbound_classic": table}))


def test_sessions_are_shared_by_processes_with_one_secret_and_expire() -> None:
    settings = _settings(session_seconds=60)
    client = settings.clients[0]
    secret = secret_from(settings, {"GATEWAY_INBOUND_SESSION_SECRET": "một bí mật dài dùng chung"})
    now = [1_000_000.0]
    first, second = Sessions(settings, secret, clock=lambda: now[0]), Sessions(settings, secret, clock=lambda: now[0])
    token = first.open(client)
    assert second.check(token) == client  # another process with the same secret
    assert Sessions(settings, secret_from(settings, {})).check(token) is None  # a process with its own secret
    now[0] += 61
    assert first.check(token) is None  # expired


def test_a_forged_or_foreign_session_is_refused() -> None:
    settings = _settings()
    sessions = Sessions(settings, b"s" * 32)
    token = sessions.open(settings.clients[0])
    payload, mac = token.split(".")
    assert sessions.check(f"{payload}.{mac[:-2]}AA") is None
    assert sessions.check("not-a-session") is None and sessions.check(None) is None
    # A new password ends the sessions opened with the old one.
    changed = _settings(clients={"mot_cua": {"username": "motcua", "password_sha256": "cd" * 32,
                                             "madonvi": ["000.00.01.H22"]}})
    assert Sessions(changed, b"s" * 32).check(token) is None


def test_configuration_mistakes_are_named() -> None:
    from gateway.config import ConfigError

    with pytest.raises(ConfigError, match="password_sha256"):
        InboundSettings.from_config(Config({"inbound_classic": {"clients": {"x": {"username": "u", "password": "p",
                                                                                  "madonvi": ["a"]}}}}))
    with pytest.raises(ConfigError, match="madonvi"):
        InboundSettings.from_config(Config({"inbound_classic": {"clients": {"x": {
            "username": "u", "password_sha256": "ab" * 32}}}}))
    with pytest.raises(ConfigError, match="inbound_classic"):
        InboundSettings.from_config(Config({"inbound_classic": {"sesion_seconds": 5}}))


def test_the_real_clients_shapes_are_normalised_and_each_change_is_noted() -> None:
    from . import realshapes as real  # the shapes of issue 13: strings everywhere, "" for absent
    body, changes = inbound.normalised("DongBoHoSoMC", real.dossier("000.00.01.H22-241202-0007"))
    assert body["LoaiDoiTuong"] == 1 and body["KenhThucHien"] == 1 and body["HinhThuc"] == 0
    assert body["TaiLieuNop"] == [{"TenTepDinhKem": "Đơn đề nghị cấp giấy phép xây dựng.pdf", "IsDeleted": 0,
                                   "DuongDanTaiTepTin": "https://motcua.example.gov.vn/tep/123"}]
    for absent in ("Email", "Fax", "NgayTra", "NgayKetThucXuLy", "DinhDanhCHS", "DSKetNoiCSDL", "DanhSachLePhi"):
        assert absent not in body
    assert body["SoGiayToChuHoSo"] == "001085001234"  # a text field stays text, digits or not
    noted = {(c.path, c.rule, c.sent) for c in changes}
    assert ("TaiLieuNop[0].IsDeleted", "text_boolean", "False") in noted
    assert ("NgayTra", "empty_text", None) in noted and ("DinhDanhCHS", "null", None) in noted
    assert ("DanhSachLePhi", "empty_list", None) in noted and ("LoaiDoiTuong", "text_number", "1") in noted
    assert all(c.sent is None for c in changes if c.rule in ("empty_text", "null", "empty_list", "nfc"))
    step, step_changes = inbound.normalised("CapNhatTienDoHoSoMC", real.step("X", "4", "20241203090000"))
    assert step == {"MaHoSo": "X", "NguoiXuLy": "Phạm Thị Lan", "ThoiDiemXuLy": "20241203090000",
                    "NoiDungXuLy": "Xử lý hồ sơ", "TrangThai": 4}
    assert {c.path for c in step_changes if c.rule == "empty_text"} == {
        "ChucDanh", "PhongBanXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"}


def test_what_is_not_a_number_or_a_yes_no_is_left_for_the_validator() -> None:
    body, changes = inbound.normalised("DongBoHoSoMC", {"LoaiDoiTuong": "một", "TrangThaiHoSo": "4.0",
                                                        "TaiLieuNop": [{"IsDeleted": "yes"}]})
    assert body == {"LoaiDoiTuong": "một", "TrangThaiHoSo": "4.0", "TaiLieuNop": [{"IsDeleted": "yes"}]}
    assert changes == []


def test_the_packets_intake_stays_strict_about_the_same_shapes() -> None:
    """POST /v1/packets does not loosen: text for a number is an error there."""
    packet = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))
    packet["NoiDung"]["HoSo"].update(LoaiDoiTuong="1", Email="")
    report = Validator(Config.load()).validate(json.dumps(packet, ensure_ascii=False).encode("utf-8"), "json")
    assert not report.valid
    assert {e["path"] for e in report.to_dict()["errors"]} >= {"NoiDung/HoSo/LoaiDoiTuong", "NoiDung/HoSo/Email"}
