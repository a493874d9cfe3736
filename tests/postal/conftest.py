"""The simulated postal service on a free localhost port (real HTTP, uvicorn in a thread), a gateway
configuration pointing at it, a real intake over a real store to originate through, and packet builders."""

from collections.abc import Callable, Iterator
import copy
import json
from pathlib import Path
import socket
import threading
import time
from typing import Any
import uuid

import httpx
import pytest
import uvicorn

from connectors.postal.simulator import SimulatorSettings, create_app
from gateway.config import Config
from gateway.receive.auth import Client
from gateway.receive.intake import PacketIntake
from gateway.receive.outcomes import Accepted, IntakeOutcome
from gateway.store.api import Store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AGENCY = "000.00.01.H22"
CUSTOMER = "KH-H22-TEST"
TOKEN = uuid.uuid4().hex  # made up per run: nothing secret is committed
TOKEN_ENV = "GATEWAY_POSTAL_ACCESS_TOKEN"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("simulator did not start")
        time.sleep(0.02)
    return server, thread


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Simulator:
    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = httpx.Client(base_url=url, timeout=10, trust_env=False)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.admin.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def faults(self, **changes: Any) -> Any:
        return self.post("/_admin/faults", changes)

    def clock(self, **changes: Any) -> Any:
        return self.post("/_admin/clock", changes)

    def advance(self, steps: int = 1) -> int:
        return int(self.post("/_admin/advance", {"steps": steps})["moved"])

    def plan(self, **routes: str) -> Any:
        return self.post("/_admin/plan", routes)

    def record(self) -> dict[str, Any]:
        return self.admin.get("/_admin/record").json()

    def order(self, number: str) -> dict[str, Any] | None:
        return self.record()["orders"].get(number)

    def reset(self) -> None:
        self.admin.post("/_admin/reset").raise_for_status()
        self.clock(running=False, step_seconds=3600, time_scale=1)


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    port = free_port()
    app = create_app(SimulatorSettings(customer_code=CUSTOMER, access_token=TOKEN), clock_running=False)
    server, thread = serve(app, port)
    yield Simulator(f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Simulator:
    simulator_server.reset()
    return simulator_server


SENDER = {"name": "Trung tâm Phục vụ hành chính công tỉnh", "address": "Số 1 đường Lê Lợi", "tel": "02363822222",
          "email": "tthcc@example.gov.vn", "province": 48, "district": 490}


@pytest.fixture
def config(store_url: str, simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The embedded defaults, with the store, the postal service (the simulator) and one agency's sender."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    raw = copy.deepcopy(Config.load().raw)
    raw["store"]["url"] = store_url
    raw["destinations"]["postal"] = {**raw["destinations"]["postal"], "url": simulator.url,
                                     "timeout_seconds": 2.0, "lease_seconds": 5.0, "max_attempts": 50,
                                     "backoff_base_seconds": 0.02, "backoff_cap_seconds": 0.2,
                                     "breaker_threshold": 1000, "rate_per_second": 1000.0, "burst": 100}
    raw["postal"] = {**raw["postal"], "url": simulator.url, "customer_code": CUSTOMER, "senders": {AGENCY: dict(SENDER)},
                     "tracking": {**raw["postal"]["tracking"], "page_size": 3, "poll_seconds": 0.1, "lease_seconds": 30}}
    return Config(raw, "tests/postal")


# --- originating through the real intake ----------------------------------------------

# A PostgreSQL nobody listens on: an intake over it answers what the real one answers when its store is down.
UNREACHABLE_STORE = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"


class Originator:
    """The tracking poller's ``originate``: the real ``PacketIntake.originate`` (validate, route, store with
    jobs, ordered per dossier; Accepted | Refused | TryLater), recording what it was handed. While
    ``unavailable``, the packets go to an intake whose store cannot be reached, which answers "try later"."""

    def __init__(self, intake: PacketIntake) -> None:
        self.intake = intake
        self.calls: list[bytes] = []
        self.unavailable = False
        self._down: PacketIntake | None = None

    def _unreachable(self) -> PacketIntake:
        if self._down is None:
            config = self.intake.config
            raw = {**config.raw, "store": {**config.section("store"), "url": UNREACHABLE_STORE}}
            self._down = PacketIntake(Config(raw, "tests/postal: the store down"))
        return self._down

    def __call__(self, data: bytes, encoding: str) -> IntakeOutcome:
        self.calls.append(data)
        return (self._unreachable() if self.unavailable else self.intake).originate(data, encoding)


@pytest.fixture
def intake(config: Config, store: Store) -> Iterator[PacketIntake]:
    opened = PacketIntake(config, store=store)
    yield opened
    opened._store = None  # the store fixture closes it
    opened.close()


@pytest.fixture
def originate(intake: PacketIntake) -> Originator:
    return Originator(intake)


# --- packets ------------------------------------------------------------------------

_HOSO = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))
_STEP = json.loads((EXAMPLES / "TienDoXuLy.json").read_text(encoding="utf-8"))
_WAYBILL = json.loads((EXAMPLES / "VanDonBuuChinh.json").read_text(encoding="utf-8"))
SENDER_CLIENT = Client("mot-cua", agencies=frozenset({AGENCY}))


def dossier_code() -> str:
    return f"{AGENCY}-241201-{uuid.uuid4().hex[:8]}"


def dossier(code: str, status: int, **fields: Any) -> bytes:
    data = copy.deepcopy(_HOSO)
    data["MaGoiTin"] = str(uuid.uuid4())
    body = data["NoiDung"]["HoSo"]
    body.update(MaHoSo=code, TrangThaiHoSo=status, **fields)
    if status < 9:
        for name in ("NgayTra", "NgayKetThucXuLy"):
            body.pop(name, None)
    if status == 9:
        body.pop("NgayTra", None)
    return json.dumps(data, ensure_ascii=False).encode()


def step(code: str, status: int, at: str = "20241212170000") -> bytes:
    data = copy.deepcopy(_STEP)
    data["MaGoiTin"] = str(uuid.uuid4())
    data["NoiDung"]["TienDoXuLy"].update(MaHoSo=code, TrangThai=status, ThoiDiemXuLy=at)
    return json.dumps(data, ensure_ascii=False).encode()


def waybill(code: str, **fields: Any) -> bytes:
    data = copy.deepcopy(_WAYBILL)
    data["MaGoiTin"] = str(uuid.uuid4())
    data["NoiDung"]["VanDonBuuChinh"].update(MaHoSo=code, **fields)
    return json.dumps(data, ensure_ascii=False).encode()


def submit(intake: PacketIntake, data: bytes, client: Client = SENDER_CLIENT) -> Accepted:
    """A one-stop system's packet through the intake (what POST /v1/packets does, without its HTTP)."""
    outcome = intake.receive(client, data, "json")
    assert isinstance(outcome, Accepted), outcome
    return outcome
