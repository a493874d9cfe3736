"""Classic client ↔ simulated portal over real HTTP: every service, sessions, and the simulator's strictness."""

import time

import httpx

from connectors.national_portal.answers import AnswerKind
from connectors.national_portal.client import ClassicClient
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer

from .conftest import CREDENTIALS, Simulator, dossier_code, make_dossier, make_step


def test_every_service(client: ClassicClient, simulator: Simulator) -> None:
    code = dossier_code()
    assert client.find_dossier(code).result == []
    answer, warnings = client.sync_dossier(make_dossier(code).body, updating=False)
    assert answer.ok, answer
    assert warnings == ()
    found = client.find_dossier(code)
    assert found.ok and found.result[0]["MaHoSo"] == code and found.result[0]["MaTTHC"] == "1.005129"
    answer, _ = client.sync_dossier(make_dossier(code, TrangThaiHoSo=4).body, updating=True)
    assert answer.ok
    answer, step_warnings = client.push_progress([make_step(code, n).body for n in range(3)])
    assert answer.ok and step_warnings == [(), (), ()]
    procedure = client.get_procedure("1.001193")
    assert procedure.ok and procedure.result[0]["TenTTHC"] == "Đăng ký khai sinh"
    assert client.get_procedure("9.999999").result == []
    page = client.list_procedures(page=2, page_size=3)
    assert page.ok and [p["MaTTHC"] for p in page.result] == ["1.005129", "1.004227", "1.003560"]
    record = simulator.record(code)
    assert record["updates"] == 1 and record["dossier"]["TrangThaiHoSo"] == 4
    assert [step["NoiDungXuLy"] for step in record["progress"]] == ["Bước 0", "Bước 1", "Bước 2"]
    assert client.logins == 1  # one session served every call


def test_duplicate_create_is_refused_as_already_exists(client: ClassicClient) -> None:
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    again, _ = client.sync_dossier(make_dossier(code).body, updating=False)
    assert again.kind is AnswerKind.ALREADY_EXISTS and again.code == "3" and code in again.message


def test_progress_for_an_unknown_dossier_is_refused(client: ClassicClient) -> None:
    answer, _ = client.push_progress([make_step(dossier_code(), 1).body])
    assert answer.kind is AnswerKind.PERMANENT and answer.code == "2"
    assert "Không tìm thấy hồ sơ" in answer.message


def test_session_expiry_mid_run_logs_in_again(client: ClassicClient, simulator: Simulator) -> None:
    simulator.session_ttl(1.0)
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    time.sleep(1.2)  # the session expires between two calls
    assert client.push_progress([make_step(code, 1).body])[0].ok
    simulator.revoke_sessions()
    assert client.push_progress([make_step(code, 2).body])[0].ok
    assert client.logins == 3
    assert simulator.stats()["calls"]["CapNhatTienDoHoSoMC → -1"] == 2  # each refusal was retried once, after login
    assert len(simulator.record(code)["progress"]) == 2


def test_wrong_credentials_are_transient_and_never_echo_the_password(settings: PortalSettings,
                                                                     transformer: Transformer) -> None:
    wrong = ClassicClient(PortalSettings(**{**settings.__dict__, "password": "not-the-password"}), transformer)
    answer = wrong.find_dossier("X")
    assert answer.kind is AnswerKind.TRANSIENT  # a configuration problem, not the packet's fault
    assert "login refused" in answer.message and "not-the-password" not in answer.message
    assert "not-the-password" not in repr(wrong.settings)
    wrong.close()


def test_the_envelope_is_checked(simulator: Simulator, client: ClassicClient) -> None:
    http = httpx.Client(base_url=simulator.url, trust_env=False)
    login = http.post("/adapter/auth", json={"username": CREDENTIALS["username"],
                                              "password": CREDENTIALS["password"]}, headers={"dstcode": "DVCQG-TEST"})
    session = login.json()["session"]
    base = {"session": session, "madonvi": "000.00.00.H22", "service": "TraCuuHoSo", "mahoso": "X"}
    found = http.post("/adapter/integration", json=base, headers={"dstcode": "DVCQG-TEST"}).json()
    assert found["error_code"] in (0, "0", "00") and found["result"] == []
    assert http.post("/adapter/integration", json=base, headers={"dstcode": "KHAC"}).json()["error_code"] == 5
    assert http.post("/adapter/integration", json={**base, "madonvi": "000.00.00.H01"},
                     headers={"dstcode": "DVCQG-TEST"}).json()["error_code"] == 5
    assert http.post("/adapter/integration", json={**base, "service": "XoaHoSo"},
                     headers={"dstcode": "DVCQG-TEST"}).json()["error_code"] == 4
    assert http.post("/adapter/integration", content=b"MaHoSo=X",
                     headers={"dstcode": "DVCQG-TEST", "Content-Type": "text/plain"}).json()["error_code"] == 1
    http.close()


def raw_sync(simulator: Simulator, dossier: dict, updating: str = "False") -> dict:
    http = httpx.Client(base_url=simulator.url, trust_env=False, headers={"dstcode": "DVCQG-TEST"})
    session = http.post("/adapter/auth", json={"username": CREDENTIALS["username"],
                                                "password": CREDENTIALS["password"]}).json()["session"]
    answer = http.post("/adapter/integration", json={"session": session, "madonvi": "000.00.00.H22",
                                                      "service": "DongBoHoSoMC", "isUpdating": updating,
                                                      "data": [dossier]}).json()
    http.close()
    return answer


def test_the_simulator_refuses_what_the_portal_would(simulator: Simulator) -> None:
    good = make_dossier(dossier_code()).body.model_dump(exclude_none=True)
    cases = {
        "data[0].MaTTHC: không phải mã TTHC quốc gia": {**good, "MaTTHC": "1.003560.000.00.00.H56"},
        "data[0].MaTTHC: thủ tục không có trong CSDL TTHC quốc gia": {**good, "MaTTHC": "1.999999"},
        "data[0].NgayTiepNhan: ngày giờ không hợp lệ": {**good, "NgayTiepNhan": "20240231090000"},
        "data[0].TrichYeuHoSo: vượt quá 1000 ký tự": {**good, "TrichYeuHoSo": "x" * 1001},
        "data[0].LoaiDoiTuong: không thuộc danh mục": {**good, "LoaiDoiTuong": 7},
        "data[0].DonViXuLy": {k: v for k, v in good.items() if k != "DonViXuLy"},
        "data[0].TrangThaiHoSo": {**good, "TrangThaiHoSo": 11},
    }
    for expected, dossier in cases.items():
        answer = raw_sync(simulator, dossier)
        assert answer["error_code"] == 1 and expected in answer["message"], (expected, answer)
        assert "Nguyễn" not in answer["message"]  # messages name fields, never personal values
    assert raw_sync(simulator, good, updating="false")["error_code"] == 1  # isUpdating is "True"/"False" exactly
    assert simulator.record()["dossier_count"] == 0
    assert raw_sync(simulator, good)["error_code"] in (0, "0", "00")


def test_simulator_answers_success_in_all_three_spellings(client: ClassicClient, simulator: Simulator) -> None:
    http = httpx.Client(base_url=simulator.url, trust_env=False, headers={"dstcode": "DVCQG-TEST"})
    session = http.post("/adapter/auth", json={"username": CREDENTIALS["username"],
                                                "password": CREDENTIALS["password"]}).json()["session"]
    codes = {repr(http.post("/adapter/share", json={"session": session, "madonvi": "000.00.00.H22",
                                                     "service": "LayThuTuc", "maTTHC": "1.001193"}).json()["error_code"])
             for _ in range(3)}
    assert codes == {"0", "'0'", "'00'"}
    http.close()


def test_no_secret_or_session_in_the_logs(settings: PortalSettings, transformer: Transformer, simulator: Simulator,
                                          caplog) -> None:
    import logging
    caplog.set_level(logging.DEBUG)
    client = ClassicClient(settings, transformer)
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    session = client._session
    simulator.revoke_sessions()
    assert client.find_dossier(code).ok
    wrong = ClassicClient(PortalSettings(**{**settings.__dict__, "password": "sai-mat-khau-123"}), transformer)
    assert not wrong.find_dossier(code).ok
    assert caplog.records, "the client and httpx did log"
    for secret in (settings.password, "sai-mat-khau-123", session, client._session, "001190012345"):
        assert secret and secret not in caplog.text
    client.close()
    wrong.close()


def test_threads_share_one_renewed_session(client: ClassicClient, simulator: Simulator) -> None:
    from concurrent.futures import ThreadPoolExecutor
    codes = [dossier_code() for _ in range(8)]
    for code in codes:
        assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    simulator.revoke_sessions()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda code: client.find_dossier(code), codes))
    assert all(a.ok and a.result for a in answers)
    assert client.logins == 2  # one renewal served every thread
