"""The gateway (real HTTP, real store: SQLite and PostgreSQL) with the payment connector's callback route and
destination, in front of the payment platform's simulator (real HTTP), with a test bank under a test CA."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import hashlib
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

from connectors.payment.simulator.app import SimulatorSettings, create_app as simulator_app
from gateway.config import Config
from gateway.deliver.engine import Engine, make_connector
from gateway.deliver.policy import policy_from
from gateway.api import create_app
from gateway import registry
from gateway.receive.intake import PacketIntake
from gateway.store.api import Store

SECRET, ACCESS, PARTNER, API_KEY = "bi-mat-thu-nghiem", "access-thu-nghiem", "000.00.00.H22", "khoa-mot-cua"
AGENCY = "000.00.01.H22"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return value


def serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "a server to start")
    return f"http://127.0.0.1:{port}", server, thread


def dossier_packet(dossier: str, fees: list[int] = (3_000_000, 50_000)) -> bytes:
    packet = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))
    packet["MaGoiTin"] = str(uuid.uuid4())
    body = packet["NoiDung"]["HoSo"]
    body.update(MaHoSo=dossier, TrangThaiHoSo=6)
    for key in ("NgayTra", "NgayKetThucXuLy"):
        body.pop(key, None)
    body["DanhSachLePhi"] = [{"TenPhiLePhi": f"Lệ phí {i}", "MaPhiLePhi": f"LP-{i}", "HinhThucThu": 1, "Gia": gia,
                              "LoaiPhiLePhi": 2} for i, gia in enumerate(fees)]
    return json.dumps(packet, ensure_ascii=False).encode("utf-8")


@dataclass
class Bench:
    """The gateway, its delivery engine for the payment destination, and the platform's simulator."""

    url: str
    sim_url: str
    store: Store
    config: Config
    platform: Any  # the simulator's state (faults, record)
    portal_url: str = ""  # the provincial portal's simulator, when started

    def submit(self, data: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/packets", content=data, timeout=10,
                          headers={"X-API-Key": API_KEY, "Content-Type": "application/json"})

    def faults(self, **changes: Any) -> None:
        httpx.post(f"{self.sim_url}/_admin/faults", json=changes, timeout=5).raise_for_status()

    def record(self) -> dict[str, Any]:
        return httpx.get(f"{self.sim_url}/_admin/record", timeout=5).json()

    def payment_of(self, dossier: str, states: set[str] | None = None, timeout: float = 30) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            rows = self.store.payments_of(dossier)
            return rows[-1] if rows and (states is None or rows[-1]["state"] in states) else None
        return wait_for(found, timeout, f"payment of {dossier} in {states}")


def gateway_toml(store_url: str, sim_url: str, pki: Any, variant: str, extra: str = "", bank: str = "") -> str:
    trust = [str(pki["root"].cert_path)]
    crls = [] if "revocation_mode" in bank else [str(pki.crl_path), str(pki.root_crl_path)]
    return f"""
[store]
url = "{store_url}"
batch_wait_ms = 1

[console]
enabled = false

[clients.mot_cua]
key_sha256 = "{hashlib.sha256(API_KEY.encode()).hexdigest()}"
agencies = ["{AGENCY}"]

[signing.purposes.bank]
anchors = {json.dumps(trust)}
intermediates = {json.dumps([str(pki["intermediate"].cert_path)])}
crls = {json.dumps(crls)}
{bank}

[payment]
variant = "{variant}"
url = "{sim_url}"
partner_code = "{PARTNER}"
secret_env = "TEST_PAYMENT_SECRET"
access_key_env = "TEST_PAYMENT_ACCESS"
settle_poll_seconds = 0.02
retry_base_seconds = 0.2
retry_cap_seconds = 0.5

[destinations.payment]
url = "{sim_url}"
backoff_base_seconds = 0.05
backoff_cap_seconds = 0.2
{extra}
"""


@pytest.fixture
def make_bench(pki: Any, store_url: str, store: Store, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Bench]]:
    monkeypatch.setenv("TEST_PAYMENT_SECRET", SECRET)
    monkeypatch.setenv("TEST_PAYMENT_ACCESS", ACCESS)
    stops: list[Callable[[], None]] = []

    def make(variant: str = "national", extra: str = "", pay_after_seconds: float = 0.05,
             portal: bool = False, bank_trust: str = "", settler: bool = True) -> Bench:
        bank, rogue = pki["ec256"], pki["rogue_signer"]
        settings = SimulatorSettings(secret=SECRET, partner_code=PARTNER, access_key=ACCESS, variant=variant,
                                     bank_key=bank.key_path, bank_cert=bank.cert_path,
                                     bank_chain=[pki["intermediate"].cert_path], untrusted_key=rogue.key_path,
                                     untrusted_cert=rogue.cert_path, untrusted_chain=[],
                                     pay_after_seconds=pay_after_seconds, time_scale=1.0)
        sim = simulator_app(settings)
        sim_url, sim_server, sim_thread = serve(sim)
        portal_url = ""
        if portal:  # the provincial portal's simulator, trusting the test CA the gateway's key is under
            from connectors.provincial_portal.simulator.app import PortalSimulatorSettings, create_app as portal_app
            from signing.trust import TrustPolicy
            issued = pki.issued.get("gateway-test") or pki.issue_signer("gateway-test")
            trust = TrustPolicy.from_paths("gateway", anchors=[pki["root"].cert_path],
                                           intermediates=[pki["intermediate"].cert_path])
            portal_url, portal_server, portal_thread = serve(portal_app(PortalSimulatorSettings(trust)))
            stops.append(lambda: setattr(portal_server, "should_exit", True))
            extra += f"""
[signing]
key = "{issued.key_path}"
cert = "{issued.cert_path}"
[destinations.provincial_portal]
url = "{portal_url}/webhook"
backoff_base_seconds = 0.02
backoff_cap_seconds = 0.1
"""
        config_file = tmp_path / f"gateway-{variant}.toml"
        config_file.write_text(gateway_toml(store_url, sim_url, pki, variant, extra, bank_trust), encoding="utf-8")
        config = Config.load(config_file)
        app = create_app(config)  # the registry installs the callback, given the API's PacketIntake (originate)
        assert any(getattr(route, "path", "").startswith("/v1/payment/") for route in app.routes)
        url, server, thread = serve(app)
        path = "/v1/payment/confirm" if variant == "national" else "/v1/payment/paygov/confirm"
        settings.callback_url = f"{url}{path}"
        policies = {name: policy_from(name, table) for name, table in config.section("destinations").items()
                    if name == "payment" or (portal and name == "provincial_portal")}
        engine = Engine(store, policies, connectors={name: make_connector(p, config) for name, p in policies.items()},
                        poll_seconds=0.01, hold_check_seconds=0.05).start()
        # the worker's side: the settlers that fetch, verify and forward a confirmed payment's receipt (and the
        # reconciler, idle at its default pace), through the worker's real intake
        intake = PacketIntake(config, store=store) if settler else None
        tasks = registry.start_tasks(config, intake, only=["payment"]) if intake else None

        def stop() -> None:
            if tasks is not None and intake is not None:
                tasks.stop()
                intake.flush()  # its receipts written before the store's schema is dropped
            engine.stop(5)
            server.should_exit = True
            sim_server.should_exit = True
            thread.join(10)
            sim_thread.join(10)
        stops.append(stop)
        return Bench(url, sim_url, store, config, sim.state.platform, portal_url)

    yield make
    for stop in stops:
        stop()
