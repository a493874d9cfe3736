"""Where a one-stop system's client talks to: the simulated portal itself, or the gateway in front of it
(real HTTP, real store, the delivery engine running) — configured as a province switching would: the
same account, madonvi and dstcode; only ``adapter_url`` changes."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
import threading
from typing import Any

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
from gateway.api import create_app
from gateway.store.api import JobFilter, JobState, Store

from .conftest import CREDENTIALS, Simulator, free_port, wait_for
from .test_inbound_http import OneStop, sha

PROVINCE, DSTCODE, DEST = "000.00.00.H22", "DVCQG-TEST", "national_portal"
UNIT = "000.00.01.H22"  # the agency of the dossier codes the tests send (tests/national_portal/conftest.py)


@dataclass
class Target:
    name: str
    url: str
    settle: Callable[[], None]  # returns once what was accepted has reached the portal

    def client(self) -> "Client":
        return Client(self.url)


class Client(OneStop):
    """The province's client: its own portal account and madonvi, whatever the address."""

    def login(self, username: str = CREDENTIALS["username"], password: str = CREDENTIALS["password"],
              **options: Any) -> dict[str, Any]:
        return super().login(username, password, **options)

    def call(self, service: str, *, share: bool = False, madonvi: str = PROVINCE, **fields: Any) -> dict[str, Any]:
        return super().call(service, share=share, madonvi=madonvi, **fields)


def gateway_config(store_url: str, adapter_url: str, extra: str = "", inbound: str = "") -> str:
    """``extra`` goes in the client's table, ``inbound`` in ``[inbound_classic]``."""
    return f"""
[store]
url = "{store_url}"
batch_wait_ms = 1

[national_portal]
adapter_url = "{adapter_url}"
madonvi = "{PROVINCE}"
dstcode = "{DSTCODE}"
read_timeout = 3.0
connect_timeout = 1.0

[inbound_classic]
dstcodes = ["{DSTCODE}"]
orphan_check_seconds = 1.0
{inbound}

[inbound_classic.clients.mot_cua]
username = "{CREDENTIALS["username"]}"
password_sha256 = "{sha(CREDENTIALS["password"])}"
# the province's account sends for itself and for the unit whose dossier codes it sends (the codes'
# agency is checked: [ownership] check_receiving_agency); the client's calls are the same as to the portal
madonvi = ["{PROVINCE}", "{UNIT}"]
{extra}"""


def serve_gateway(config_file: Path) -> tuple[str, uvicorn.Server, threading.Thread]:
    app = create_app(Config.load(config_file))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=20, what="the gateway to start")
    return f"http://127.0.0.1:{port}", server, thread


def start_engine(store: Store, settings: PortalSettings, transformer: Transformer, ledger: str, *,
                 hold_seconds: float = 86400.0, **policy: Any) -> Engine:
    connector = NationalPortalConnector(ClassicClient(settings, transformer), SyncLedger(ledger),
                                        hold_seconds=hold_seconds)
    table = {"url": settings.adapter_url, "timeout_seconds": 3.0, "max_batch": 10, "backoff_base_seconds": 0.02,
             "backoff_cap_seconds": 0.2, **policy}
    return Engine(store, {DEST: policy_from(DEST, table)}, connectors={DEST: connector}, poll_seconds=0.01,
                  hold_check_seconds=0.05).start()


def settled(store: Store) -> bool:
    return not store.find_jobs(JobFilter(destination=DEST, state=JobState.PENDING)) and \
        not store.find_jobs(JobFilter(destination=DEST, state=JobState.LEASED))


@pytest.fixture
def gateway_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATEWAY_PORTAL_USERNAME", CREDENTIALS["username"])
    monkeypatch.setenv("GATEWAY_PORTAL_PASSWORD", CREDENTIALS["password"])
    monkeypatch.setenv("GATEWAY_INBOUND_SESSION_SECRET", sha(str(tmp_path)))


@pytest.fixture(params=["portal", "gateway"])
def target(request: pytest.FixtureRequest, simulator: Simulator, tmp_path: Path, store_url: str, store: Store,
           settings: PortalSettings, transformer: Transformer) -> Iterator[Target]:
    """The same scenarios against the portal and against the gateway in front of it (on each store)."""
    if request.param == "portal":
        yield Target("portal", simulator.url, lambda: None)
        return
    request.getfixturevalue("gateway_env")
    config = tmp_path / "gateway.toml"
    config.write_text(gateway_config(store_url, simulator.url), encoding="utf-8")
    url, server, thread = serve_gateway(config)
    engine = start_engine(store, settings, transformer, f"sqlite:///{tmp_path}/ledger.sqlite")
    yield Target("gateway", url, lambda: wait_for(lambda: settled(store), what="delivery to the portal"))
    engine.stop()
    server.should_exit = True
    thread.join(timeout=20)
