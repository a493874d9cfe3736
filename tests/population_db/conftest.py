"""The simulated population database (real SOAP over HTTP, uvicorn in a thread) and a real gateway API with the
connector's routes, over the ``store`` URL under test; a dossier of agency 000.00.01.H22 accepted first."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import re
import socket
import threading
import time
from typing import Any
import uuid

import httpx
import pytest
import uvicorn

from connectors.population_db.simulator import SimulatorSettings, create_app as create_simulator
from gateway.config import Config
from gateway.api import create_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AGENCY, DOSSIER = "000.00.01.H22", "000.00.01.H22-241201-0001"  # the example HoSo's
# Made up per run: nothing secret is committed.
SECRETS = {"username": f"u-{uuid.uuid4().hex[:6]}", "secret": uuid.uuid4().hex, "api_key": uuid.uuid4().hex}
KEYS = {name: uuid.uuid4().hex for name in ("portal", "sector", "stranger", "unapproved")}
X_ROAD = "VN/GOV/000.00.00.H22/MOTCUA"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


class Simulator:
    def __init__(self, url: str, app: Any) -> None:
        self.url, self.app = url, app
        self.endpoint = url + "/dancu"
        self.admin = httpx.Client(base_url=url, timeout=10, trust_env=False)

    def faults(self, **changes: Any) -> None:
        self.admin.post("/_admin/faults", json=changes).raise_for_status()

    def settings(self, **changes: Any) -> None:
        self.admin.post("/_admin/settings", json=changes).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return self.admin.get("/_admin/stats").json()

    def people(self, count: int = 5) -> list[dict[str, Any]]:
        return self.admin.get("/_admin/citizens", params={"count": count}).json()

    def reset(self) -> None:
        self.admin.post("/_admin/reset").raise_for_status()
        self.settings(timestamp_unit="milliseconds", variant="national")


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    settings = SimulatorSettings(username=SECRETS["username"], secret=SECRETS["secret"], api_key=SECRETS["api_key"],
                                 x_road_client=X_ROAD, timestamp_unit="milliseconds")
    app = create_simulator(settings)
    url, server, thread = serve(app)
    yield Simulator(url, app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Simulator:
    simulator_server.reset()
    return simulator_server


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_POPULATION_USERNAME", SECRETS["username"])
    monkeypatch.setenv("GATEWAY_POPULATION_SECRET", SECRETS["secret"])
    monkeypatch.setenv("GATEWAY_POPULATION_API_KEY", SECRETS["api_key"])
    monkeypatch.setenv("GATEWAY_POPULATION_AUDIT_KEY", uuid.uuid4().hex)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Gateway:
    url: str
    app: Any
    config: Config

    def post(self, path: str, body: Any, key: str = "sector") -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers={"Authorization": f"Bearer {KEYS[key]}"}, timeout=30)

    @property
    def lookups(self) -> Any:
        return self.app.state.citizen_lookups

    def flush_audit(self) -> None:
        self.app.state.intake.trail.flush()


@pytest.fixture
def start_gateway(store_url: str, tmp_path: Path, simulator: Simulator,
                  credentials: None) -> Iterator[Callable[..., Gateway]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(extra: str = "", **population: Any) -> Gateway:
        config_file = tmp_path / f"gateway-{len(servers)}.toml"
        section = {"enabled": True, "wsdl": f"{simulator.endpoint}?wsdl", "x_road_client": X_ROAD,
                   "ma_don_vi": AGENCY, "read_timeout": 1.0, "connect_timeout": 1.0, "breaker_failures": 3,
                   "breaker_open_seconds": 30, "retry_after_seconds": 7, **population}
        population_section = "\n".join(f"{key} = {json.dumps(value)}" for key, value in section.items())
        config_file.write_text(f"""
[store]
url = "{store_url}"
batch_wait_ms = 1


[clients.portal]
key_sha256 = "{_sha(KEYS['portal'])}"

[clients.sector]
key_sha256 = "{_sha(KEYS['sector'])}"
agencies = ["{AGENCY}"]
citizen_lookups = true

[clients.stranger]
key_sha256 = "{_sha(KEYS['stranger'])}"
agencies = ["000.00.99.H99"]
citizen_lookups = true

[clients.unapproved]
key_sha256 = "{_sha(KEYS['unapproved'])}"
agencies = ["{AGENCY}"]

[population_db]
{population_section}
{extra}
""", encoding="utf-8")
        config = Config.load(config_file)
        app = create_app(config)  # the registry installs the look-up routes ([population_db] enabled)
        url, server, thread = serve(app)
        servers.append((server, thread))
        return Gateway(url, app, config)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=20)


_ID = re.compile(rb"MaGoiTin>([0-9a-f-]{36})")


def own_dossier(gateway: Gateway) -> None:
    """The example dossier (agency 000.00.01.H22) accepted by the gateway, sent by the province's portal."""
    data = (EXAMPLES / "HoSo.xml").read_bytes()
    data = data.replace(_ID.search(data).group(1), str(uuid.uuid4()).encode(), 1)
    answer = httpx.post(gateway.url + "/v1/packets", content=data, timeout=30,
                        headers={"content-type": "application/xml", "Authorization": f"Bearer {KEYS['portal']}"})
    assert answer.status_code == 202, answer.text


@pytest.fixture
def gateway(start_gateway: Callable[..., Gateway]) -> Gateway:
    """A gateway holding the example dossier."""
    opened = start_gateway()
    own_dossier(opened)
    return opened


def query_for(person: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The look-up a one-stop officer sends for ``person`` (a synthetic one), serving the example dossier."""
    name = person["HoVaTen"]
    return {"SoDinhDanh": person["SoDinhDanh"], "HoVaTen": " ".join((name["Ho"], name["ChuDem"], name["Ten"])),
            "NgayThangNamSinh": person["NgayThangNamSinh"]["NgayThangNam"], "MaCanBo": "001085000123",
            "MaDVC": "1.004227", "MaHoSo": DOSSIER, **changes}
