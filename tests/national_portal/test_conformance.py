"""Conformance of the drop-in: the same client scenarios, with the shapes real one-stop systems send
(``realshapes``), against the simulated portal directly and against the gateway in front of it. Each
assertion holds for both: a client cannot tell them apart, except where the README's drop-in section
says (the gateway accepts first and delivers after, so a look-up sees a dossier once it is delivered:
``settle`` waits for that; identical resends are not sent to the portal again)."""

from typing import Any

from . import realshapes as real
from .conftest import Simulator, dossier_code
from .dropin import Client, Target, gateway_env, target  # noqa: F401 - fixtures

SUCCESS = (0, "0", "00")


def ok(answer: dict[str, Any]) -> bool:
    return answer["error_code"] in SUCCESS


def logged_in(target: Target) -> Client:
    client = target.client()
    answer = client.login()
    assert answer["error_code"] == 0 and type(answer["error_code"]) is int  # read as an integer by clients
    assert isinstance(answer["session"], str) and answer["session"]
    return client


def test_login_look_ups_and_envelope(target: Target) -> None:
    client = logged_in(target)
    unknown = client.call("TraCuuHoSo", mahoso=dossier_code())  # integration endpoint, lower-case key
    assert ok(unknown) and unknown["result"] == []
    procedure = client.call("LayThuTuc", maTTHC="1.005129")  # integration endpoint too
    assert ok(procedure) and procedure["result"][0]["TENTTHC"] == "Cấp giấy phép xây dựng nhà ở riêng lẻ"
    assert procedure["result"][0]["LINHVUCTHUCHIEN"][0]["MALINHVUC"] == "G09-XD01"
    listed = client.call("LayDanhSachTTHC", share=True, page=1, pageSize=3)
    assert ok(listed) and len(listed["result"]) == 3 and "MATTHC" in listed["result"][0]
    assert client.call("XoaHoSo", data=[])["error_code"] == 4
    assert client.call("DongBoHoSoMC", madonvi="000.00.99.H99", isUpdating="False",
                       data=[real.dossier(dossier_code())])["error_code"] == 5
    client.session = "hết-hạn"
    assert client.call("TraCuuHoSo", mahoso=dossier_code())["error_code"] == -1
    assert client.post("/adapter/auth", {"username": "x", "password": "y"})["error_code"] != 0


def test_a_dossier_and_its_progress_in_the_shapes_clients_send(target: Target, simulator: Simulator) -> None:
    client = logged_in(target)
    code = dossier_code()
    assert client.call("TraCuuHoSo", mahoso=code)["result"] == []  # so isUpdating "False"
    assert ok(client.call("DongBoHoSoMC", isUpdating="False", data=[real.dossier(code)]))
    exists = client.call("DongBoHoSoMC", isUpdating="False", data=[real.dossier(code)])
    assert exists["error_code"] == 3 and "tồn tại" in exists["message"]  # the client resends as an update
    assert ok(client.call("DongBoHoSoMC", isUpdating="True", data=[real.dossier(code)]))
    target.settle()
    found = client.call("TraCuuHoSo", mahoso=code)
    assert ok(found) and found["result"][0]["MaHoSo"] == code
    steps = [real.step(code, "4", "20241203090000", "Thụ lý"), real.step(code, "5", "20241205100000", "Bổ sung")]
    assert ok(client.call("CapNhatTienDoHoSoMC", data=steps))
    target.settle()
    record = simulator.record(code)
    # What the portal holds is the same either way: the values as the portal reads them, blanks absent.
    assert record["dossier"]["TrangThaiHoSo"] == 2 and record["dossier"]["LoaiDoiTuong"] == 1
    assert "NgayTra" not in record["dossier"] and "Email" not in record["dossier"]
    assert record["dossier"]["TaiLieuNop"] == [{"TenTepDinhKem": "Đơn đề nghị cấp giấy phép xây dựng.pdf",
                                                "IsDeleted": 0,
                                                "DuongDanTaiTepTin": "https://motcua.example.gov.vn/tep/123"}]
    assert [(s["TrangThai"], s["NoiDungXuLy"], "ChucDanh" in s) for s in record["progress"]] == [
        (4, "Thụ lý", False), (5, "Bổ sung", False)]


def test_what_the_portal_refuses_is_refused(target: Target) -> None:
    client = logged_in(target)
    code = dossier_code()
    assert client.call("DongBoHoSoMC", isUpdating="False",
                       data=[real.dossier(code, MaTTHC="1.5129")])["error_code"] == 1
    assert client.call("DongBoHoSoMC", isUpdating="False",
                       data=[real.dossier(code, NgayTiepNhan="20241302083000")])["error_code"] == 1
    assert client.call("DongBoHoSoMC", isUpdating="False",
                       data=[real.dossier(code, LoaiDoiTuong="một")])["error_code"] == 1
    assert client.call("DongBoHoSoMC", isUpdating="có", data=[real.dossier(code)])["error_code"] == 1
    assert client.call("CapNhatTienDoHoSoMC", data=[])["error_code"] == 1
    orphan = client.call("CapNhatTienDoHoSoMC", data=[real.step(dossier_code(), "4", "20241203090000")])
    assert orphan["error_code"] == 2 and "Không tìm thấy" in orphan["message"]  # nobody knows that dossier


def test_a_finished_dossier_reported_first_then_its_history(target: Target, simulator: Simulator) -> None:
    client = logged_in(target)
    code = dossier_code()
    assert ok(client.call("DongBoHoSoMC", isUpdating="False", data=[real.finished(code)]))
    target.settle()
    assert ok(client.call("CapNhatTienDoHoSoMC", data=real.history(code)))  # earlier in time: its history
    target.settle()
    after_the_end = client.call("CapNhatTienDoHoSoMC", data=[real.step(code, "4", "20241223090000")])
    assert after_the_end["error_code"] == 1  # a step genuinely after the end is refused
    target.settle()
    record = simulator.record(code)
    assert [s["TrangThai"] for s in record["progress"]] == [2, 4, 9]  # in the order received
    assert record["status"] == 10 and record["dossier"]["TrangThaiHoSo"] == 10


def test_a_to_b_to_a_ends_in_a(target: Target, simulator: Simulator) -> None:
    client = logged_in(target)
    code = dossier_code()
    a, b = real.dossier(code), real.dossier(code, NgayHenTra="20241227170000")
    assert ok(client.call("DongBoHoSoMC", isUpdating="False", data=[a]))
    assert ok(client.call("DongBoHoSoMC", isUpdating="True", data=[b]))
    again = client.call("DongBoHoSoMC", isUpdating="True", data=[a])
    assert ok(again)
    target.settle()
    assert simulator.record(code)["dossier"]["NgayHenTra"] == "20241220170000"  # A, not B
