"""The drop-in classic endpoint over real HTTP: the gateway (uvicorn, real store: SQLite and
PostgreSQL) in front of the simulated portal (uvicorn), called with the exact shapes one-stop
systems send — JSON body with session, madonvi, service, data; ``dstcode`` header;
``Content-Type: application/json; charset=utf-8``; isUpdating as a string."""

from collections.abc import Callable, Iterator
import copy
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.config import Config
from gateway.deliver.engine import Engine
from gateway.deliver.policy import policy_from
from gateway.packets.bodies import HoSo, TienDoXuLy
from gateway.api import create_app
from gateway.store.api import JobFilter, JobState, Store

from .conftest import CREDENTIALS, EXAMPLES, Simulator, dossier_code, free_port, wait_for

DSTCODE = "DVCQG-TEST"  # the portal's own dstcode: a client changes only its adapter_url
AGENCY = "000.00.01.H22"
USER, PASSWORD = "motcua-h22", "mật-khẩu-thử-" + CREDENTIALS["password"][:8]  # made up per run
OTHER_USER, OTHER_PASSWORD = "so-nganh", CREDENTIALS["password"][8:]
DEST = "national_portal"
_DOSSIER: dict[str, Any] = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))["NoiDung"]["HoSo"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dossier(code: str, **fields: Any) -> dict[str, Any]:
    """A dossier just received (status 2), as a one-stop system sends it to the portal."""
    item = copy.deepcopy(_DOSSIER)
    for later in ("NgayTra", "NgayKetThucXuLy", "DanhSachGiayToKetQua"):
        del item[later]
    item.update(MaHoSo=code, TrangThaiHoSo=2, **fields)
    return item


def step(code: str, number: int, status: int = 4, **fields: Any) -> dict[str, Any]:
    return {"MaHoSo": code, "NguoiXuLy": "Lê Thị Mai", "ChucDanh": "Chuyên viên", "PhongBanXuLy": "Phòng Quản lý",
            "ThoiDiemXuLy": f"202412100{8 + number // 60}{number % 60:02d}00", "NoiDungXuLy": f"Bước {number}",
            "TrangThai": status, **fields}


class OneStop:
    """A one-stop system speaking the classic protocol, byte for byte as public clients do."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=15, trust_env=False)
        self.session = ""

    def post(self, path: str, body: Any, *, dstcode: str = DSTCODE, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.http.post(path, content=json.dumps(body, ensure_ascii=False).encode("utf-8"), params=params,
                                  headers={"Content-Type": "application/json; charset=utf-8", "dstcode": dstcode,
                                           **(headers or {})})
        assert response.status_code == 200, response.text  # the portal answers everything with 200
        return response.json()

    def login(self, username: str = USER, password: str = PASSWORD, **options: Any) -> dict[str, Any]:
        answer = self.post("/adapter/auth", {"username": username, "password": password}, **options)
        self.session = answer.get("session", "")
        return answer

    def call(self, service: str, *, share: bool = False, madonvi: str = AGENCY, **fields: Any) -> dict[str, Any]:
        body = {"session": self.session, "madonvi": madonvi, "service": service, **fields}
        return self.post("/adapter/share" if share else "/adapter/integration", body)


@dataclass
class Gateway:
    url: str
    app: Any

    def client(self) -> OneStop:
        return OneStop(self.url)


CONFIG = f"""
[national_portal]
madonvi = "000.00.00.H22"
dstcode = "{DSTCODE}"
read_timeout = 3.0
connect_timeout = 1.0

[inbound_classic]
dstcodes = ["{DSTCODE}"]

[inbound_classic.clients.mot_cua]
username = "{USER}"
password_sha256 = "{sha(PASSWORD)}"
madonvi = ["{AGENCY}"]

[inbound_classic.clients.so_nganh]
username = "{OTHER_USER}"
password_sha256 = "{sha(OTHER_PASSWORD)}"
madonvi = ["000.00.99.H99"]
"""


@pytest.fixture
def start_gateway(store_url: str, simulator: Simulator, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Gateway]]:
    # The gateway's own portal account (look-ups) and the session secret come from the environment.
    monkeypatch.setenv("GATEWAY_PORTAL_USERNAME", CREDENTIALS["username"])
    monkeypatch.setenv("GATEWAY_PORTAL_PASSWORD", CREDENTIALS["password"])
    monkeypatch.setenv("GATEWAY_INBOUND_SESSION_SECRET", sha(str(tmp_path)))
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(adapter_url: str = simulator.url, store: str = store_url, extra: str = "") -> Gateway:
        config_file = tmp_path / f"gateway-{len(servers)}.toml"
        config_file.write_text(f'[store]\nurl = "{store}"\nbatch_wait_ms = 1\n'
                               f'{CONFIG}\n{extra}'.replace("[national_portal]\n",
                                                     f'[national_portal]\nadapter_url = "{adapter_url}"\n'),
                               encoding="utf-8")
        app = create_app(Config.load(config_file))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        wait_for(lambda: server.started, timeout=20, what="the gateway to start")
        return Gateway(f"http://127.0.0.1:{port}", app)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def gateway(start_gateway: Callable[..., Gateway]) -> Gateway:
    return start_gateway()


@pytest.fixture
def run_engine(store: Store, settings: PortalSettings, transformer: Transformer,
               tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """The delivery engine carrying the gateway's stored packets to the simulated portal."""
    started: list[Engine] = []

    def start() -> Engine:
        connector = NationalPortalConnector(ClassicClient(settings, transformer),
                                            SyncLedger(f"sqlite:///{tmp_path}/ledger.sqlite"))
        policy = policy_from(DEST, {"url": settings.adapter_url, "timeout_seconds": 3.0, "max_batch": 10,
                                    "backoff_base_seconds": 0.02, "backoff_cap_seconds": 0.2})
        engine = Engine(store, {DEST: policy}, connectors={DEST: connector}, poll_seconds=0.01,
                        hold_check_seconds=0.05).start()
        started.append(engine)
        return engine

    yield start
    for engine in started:
        engine.stop()


def jobs(store: Store, **selection: Any) -> list[Any]:
    return store.find_jobs(JobFilter(destination=DEST, **selection))


# --- login -------------------------------------------------------------------------

def test_login_gives_a_session_and_wrong_credentials_or_dstcode_are_refused(gateway: Gateway) -> None:
    one_stop = gateway.client()
    answer = one_stop.login()
    assert answer["error_code"] == 0 and isinstance(answer["session"], str) and len(answer["session"]) > 20
    wrong = one_stop.login(password=PASSWORD + "x")
    assert wrong["error_code"] == 6 and "session" not in wrong
    assert "mật khẩu" in wrong["message"] and wrong["message_en"] == "Wrong username or password"
    assert one_stop.login(username="nobody")["error_code"] == 6
    assert one_stop.login(dstcode="KHAC")["error_code"] == 5
    # No session, no service.
    assert one_stop.call("TraCuuHoSo", mahoso="x")["error_code"] == -1


def test_an_expired_session_is_refused_and_a_new_login_works(gateway: Gateway) -> None:
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])["error_code"] == 0
    sessions = gateway.app.state.inbound_classic
    sessions.clock = lambda: time.time() + 1801  # half an hour later: past session_seconds
    refused = one_stop.call("CapNhatTienDoHoSoMC", data=[step(code, 1)])
    assert refused["error_code"] == -1 and "Session" in refused["message"]
    one_stop.login()
    assert one_stop.call("CapNhatTienDoHoSoMC", data=[step(code, 1)])["error_code"] == 0


def test_the_gateways_own_portal_client_logs_in_again_on_its_own(gateway: Gateway, transformer: Transformer) -> None:
    """Any client written for the portal (here: the gateway's own connector client) just works."""
    settings = PortalSettings(adapter_url=gateway.url, madonvi=AGENCY, dstcode=DSTCODE, username=USER,
                              password=PASSWORD)
    client = ClassicClient(settings, transformer)
    code = dossier_code()
    answer, _ = client.sync_dossier(HoSo.model_validate(dossier(code)), updating=False)
    assert answer.ok, answer
    gateway.app.state.inbound_classic.clock = lambda: time.time() + 7200
    answer, _ = client.push_progress([TienDoXuLy.model_validate(step(code, 1))])
    assert answer.ok and client.logins == 2
    client.close()


# --- dossiers and progress -------------------------------------------------------------

def test_dossier_and_progress_are_stored_then_delivered_to_the_portal_in_order(
        gateway: Gateway, store: Store, simulator: Simulator, run_engine: Callable[[], Engine]) -> None:
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    synced = one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])
    assert synced["error_code"] == 0 and synced["packets"][0]["MaHoSo"] == code
    steps = [step(code, n, status) for n, status in ((1, 4), (2, 5), (3, 4), (4, 4))]
    progressed = one_stop.call("CapNhatTienDoHoSoMC", data=steps[:2])
    assert progressed["error_code"] == 0
    assert one_stop.call("CapNhatTienDoHoSoMC", data=steps[2:])["error_code"] == 0

    stored = jobs(store, dossier=code)
    assert [j.packet_type for j in stored] == ["HoSo"] + ["TienDoXuLy"] * 4  # acceptance order = array order
    packet = store.get_packet(synced["packets"][0]["MaGoiTin"])
    assert packet is not None and packet.sender == "classic:mot_cua" and packet.agency == AGENCY

    run_engine()
    wait_for(lambda: len(jobs(store, dossier=code, state=JobState.DELIVERED)) == 5, what="every packet delivered")
    record = simulator.record(code)
    assert record["dossier"]["MaHoSo"] == code and record["dossier"]["TrangThaiHoSo"] == 2
    assert [(s["NoiDungXuLy"], s["TrangThai"]) for s in record["progress"]] == [
        ("Bước 1", 4), ("Bước 2", 5), ("Bước 3", 4), ("Bước 4", 4)]


def test_an_invalid_item_refuses_the_whole_call_naming_index_path_and_rule(gateway: Gateway, store: Store) -> None:
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    answer = one_stop.call("DongBoHoSoMC", isUpdating="False",
                           data=[dossier(code), dossier(dossier_code(), MaTTHC="1.5129", NgayTiepNhan="20241301")])
    assert answer["error_code"] == 1
    paths = {(e["index"], e["path"], e["rule"]) for e in answer["errors"]}
    assert (1, "data[1].MaTTHC", "schema.format") in paths and (1, "data[1].NgayTiepNhan", "schema.format") in paths
    assert all(e["index"] == 1 for e in answer["errors"])
    assert "data[1].MaTTHC" in answer["message"] and "[schema.format]" in answer["message"]
    assert answer["message"].startswith("Dữ liệu không hợp lệ") and "data[1].MaTTHC" in answer["message_en"]
    assert jobs(store) == []  # all or nothing: the valid first item was not stored either


def test_steps_of_one_call_are_checked_against_each_other(gateway: Gateway, store: Store) -> None:
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])["error_code"] == 0
    # Stopped (8, terminal), then "being processed" again: refused by policy (after_terminal_policy).
    answer = one_stop.call("CapNhatTienDoHoSoMC", data=[step(code, 1, 4), step(code, 2, 8), step(code, 3, 4)])
    assert answer["error_code"] == 1
    assert [(e["index"], e["path"], e["rule"]) for e in answer["errors"]] == [
        (2, "data[2].TrangThai", "semantic.after_terminal")]
    assert len(jobs(store, dossier=code)) == 1


def test_a_step_stored_by_another_process_during_the_call_is_checked_too(
        gateway: Gateway, store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The call's items are checked first, then stored in one transaction that checks the transitions
    again after locking the dossiers. Another API process stores the terminal step 8 exactly between
    the two: the call's "being processed" step is refused there, by its index, and nothing is stored."""
    from datetime import UTC, datetime
    import uuid

    from gateway.store import NewPacket, open_store

    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])["error_code"] == 0
    intake_store = gateway.app.state.intake.store
    accept_many = intake_store.accept_many

    def another_process_first(*args: Any, **kwargs: Any) -> Any:
        other = open_store(store_url)
        try:
            raw = f"stopped elsewhere {uuid.uuid4()}".encode()
            other.accept(NewPacket(str(uuid.uuid4()), hashlib.sha256(raw).hexdigest(), raw, "json", "sector",
                                   datetime.now(UTC), "TienDoXuLy", code, {"validation": {"valid": True}},
                                   AGENCY, status=8), [DEST])
        finally:
            other.close()
        return accept_many(*args, **kwargs)

    monkeypatch.setattr(intake_store, "accept_many", another_process_first)
    answer = one_stop.call("CapNhatTienDoHoSoMC", data=[step(code, 1, 4)])
    assert answer["error_code"] == 1, answer
    assert [(e["index"], e["path"], e["rule"]) for e in answer["errors"]] == [
        (0, "data[0].TrangThai", "semantic.after_terminal")]
    assert len(jobs(store, dossier=code)) == 2  # the dossier and the other process's step: none of the call


def test_a_transition_warning_is_recorded_once(gateway: Gateway, store: Store) -> None:
    """2 → 9 skips the steps between: the default policy warns. The call is checked first and again
    where it is stored; the stored verdicts hold the warning once."""
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])["error_code"] == 0
    answer = one_stop.call("CapNhatTienDoHoSoMC", data=[step(code, 1, 9)])
    assert answer["error_code"] == 0, answer
    assert [w["rule"] for w in answer["warnings"]] == ["semantic.transition"]
    stored = store.get_packet(answer["packets"][0]["MaGoiTin"])
    assert stored is not None
    assert [w["rule"] for w in stored.verdicts["validation"]["warnings"]] == ["semantic.transition"]


def test_a_resend_is_idempotent(gateway: Gateway, store: Store) -> None:
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    first = one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])
    # The client's answer was lost; it resends — and, told nothing, as an update the second time.
    again = one_stop.call("DongBoHoSoMC", isUpdating="True", data=[dossier(code)])
    assert first["error_code"] == again["error_code"] == 0
    assert again["packets"] == [dict(first["packets"][0], duplicate=True)]
    steps = [step(code, 1), step(code, 2)]
    assert one_stop.call("CapNhatTienDoHoSoMC", data=steps)["error_code"] == 0
    resent = one_stop.call("CapNhatTienDoHoSoMC", data=steps)
    assert [p["duplicate"] for p in resent["packets"]] == [True, True]
    assert len(jobs(store, dossier=code)) == 3


def test_a_madonvi_the_account_may_not_send_for_is_refused(gateway: Gateway, store: Store) -> None:
    one_stop = gateway.client()
    one_stop.login(OTHER_USER, OTHER_PASSWORD)
    answer = one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(dossier_code())])
    assert answer["error_code"] == 5 and "madonvi" in answer["message"]
    own = dossier_code().replace("000.00.01.H22", "000.00.99.H99")  # a code of its own agency
    assert one_stop.call("DongBoHoSoMC", madonvi="000.00.99.H99", isUpdating="False",
                         data=[dossier(own)])["error_code"] == 0  # its own agency
    assert len(jobs(store)) == 1


def test_bare_array_variant_and_malformed_calls(gateway: Gateway, store: Store) -> None:
    one_stop = gateway.client()
    one_stop.login()
    code = dossier_code()
    bare = one_stop.post("/adapter/integration", [dossier(code)], headers={"session": one_stop.session},
                         params={"service": "DongBoHoSoMC", "madonvi": AGENCY})
    assert bare["error_code"] == 0 and len(jobs(store, dossier=code)) == 1, bare
    assert one_stop.call("DongBoHoSoMC", isUpdating="maybe", data=[dossier(code)])["error_code"] == 1
    assert one_stop.call("CapNhatTienDoHoSoMC", data=[])["error_code"] == 1
    assert one_stop.call("CapNhatTienDoHoSoMC", data=["not an object"])["errors"][0]["path"] == "data[0]"
    assert one_stop.call("XoaHoSo", data=[])["error_code"] == 4  # unknown service
    for session, code in ((None, -1), (one_stop.session, 1)):  # the session is checked before the body is parsed
        headers = {"Content-Type": "application/json; charset=utf-8", "dstcode": DSTCODE} | (
            {"session": session} if session else {})
        response = one_stop.http.post("/adapter/integration", content=b"{not json", headers=headers)
        assert response.status_code == 200 and response.json()["error_code"] == code


# --- look-ups ------------------------------------------------------------------------

def test_look_ups_are_relayed_to_the_portal(gateway: Gateway, simulator: Simulator, client: ClassicClient) -> None:
    code = dossier_code()
    assert client.sync_dossier(HoSo.model_validate(dossier(code)), updating=False)[0].ok  # on the portal already
    one_stop = gateway.client()
    one_stop.login()
    found = one_stop.call("TraCuuHoSo", mahoso=code)
    assert int(found["error_code"]) == 0 and found["result"][0]["MaHoSo"] == code
    assert int(one_stop.call("TraCuuHoSo", mahoso=dossier_code())["error_code"]) == 0
    procedure = one_stop.call("LayThuTuc", maTTHC="1.005129")  # on the integration endpoint, as clients call it
    assert procedure["result"][0]["TENTTHC"] == "Cấp giấy phép xây dựng nhà ở riêng lẻ"
    assert procedure["result"][0]["LINHVUCTHUCHIEN"][0]["MALINHVUC"] == "G09-XD01"
    listed = one_stop.call("LayDanhSachTTHC", share=True, page=1, pageSize=3)
    assert len(listed["result"]) == 3 and listed["total"] >= 8  # the portal's own fields pass through
    assert one_stop.call("LayDanhSachTTHC", page=1, pageSize=3)["error_code"] == 4  # as the portal: share only
    assert one_stop.call("TraCuuHoSo", share=True, mahoso=code)["result"][0]["MaHoSo"] == code


def test_a_portal_that_does_not_answer_gives_a_portal_style_error(
        gateway: Gateway, simulator: Simulator, start_gateway: Callable[..., Gateway]) -> None:
    one_stop = gateway.client()
    one_stop.login()
    simulator.faults(maintenance=True, maintenance_retry_after=1)
    down = one_stop.call("LayThuTuc", maTTHC="1.005129")
    assert down["error_code"] == 7 and "thử lại" in down["message"]
    nowhere = start_gateway(adapter_url=f"http://127.0.0.1:{free_port()}").client()  # nothing listens there
    nowhere.login()
    assert nowhere.call("TraCuuHoSo", mahoso=dossier_code())["error_code"] == 7


def test_a_store_that_cannot_be_reached_gives_a_portal_style_error(start_gateway: Callable[..., Gateway]) -> None:
    gateway = start_gateway(store=f"postgresql://postgres@127.0.0.1:{free_port()}/test")  # nothing listens there
    one_stop = gateway.client()
    one_stop.login()
    answer = one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(dossier_code())])
    assert answer["error_code"] == 7 and "gửi lại sau" in answer["message"]


def test_a_session_from_one_gateway_process_works_on_another(start_gateway: Callable[..., Gateway],
                                                             store: Store) -> None:
    first, second = start_gateway(), start_gateway()  # same GATEWAY_INBOUND_SESSION_SECRET, same store
    one_stop = first.client()
    one_stop.login()
    other = second.client()
    other.session = one_stop.session
    code = dossier_code()
    assert other.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])["error_code"] == 0
    assert one_stop.call("DongBoHoSoMC", isUpdating="False", data=[dossier(code)])["error_code"] == 3  # as the portal
    assert one_stop.call("DongBoHoSoMC", isUpdating="True", data=[dossier(code)])["packets"][0]["duplicate"]
    assert len(jobs(store, dossier=code)) == 1
