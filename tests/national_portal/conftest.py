"""The simulated portal on a free localhost port (real HTTP, uvicorn in a thread), packet builders,
and a connector wired to it with a ledger in a tmp SQLite file."""

from collections.abc import Callable, Iterator
import copy
from datetime import datetime, timedelta
import json
from pathlib import Path
import time
from typing import Any
import uuid

import pytest

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.mapping import Mapping
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.simulator import SimulatorSettings, create_app
from connectors.national_portal.token_client import TokenClient
from connectors.national_portal.transform import Transformer
from gateway.deliver.connector import Delivery
from gateway.kit.harness import AdminClient, Served, free_port  # noqa: F401 - free_port: for dropin.py
from gateway.packets.envelope import GoiTin

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Test-only credentials, made up per run: nothing secret is committed.
CREDENTIALS = {"username": f"u-{uuid.uuid4().hex[:8]}", "password": uuid.uuid4().hex,
               "client_id": f"c-{uuid.uuid4().hex[:8]}", "client_secret": uuid.uuid4().hex}


class Simulator(AdminClient):
    """A running simulated portal and its admin endpoints; reset also restores the session lifetime."""

    def reset(self) -> None:
        super().reset()
        self.session_ttl(1800)


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[Simulator]:
    settings = SimulatorSettings(**CREDENTIALS, madonvi="000.00.00.H22", dstcode="DVCQG-TEST")
    with Served(create_app(settings)) as served:
        yield Simulator(served.url)


@pytest.fixture
def simulator(simulator_server: Simulator) -> Simulator:
    simulator_server.reset()
    return simulator_server


@pytest.fixture
def settings(simulator: Simulator) -> PortalSettings:
    return PortalSettings(adapter_url=simulator.url, madonvi="000.00.00.H22", dstcode="DVCQG-TEST",
                          read_timeout=5.0, connect_timeout=2.0, **CREDENTIALS)


@pytest.fixture
def transformer() -> Transformer:
    return Transformer(Mapping(), {"TrichYeuHoSo": 1000, "GhiChu": 2000, "NoiDungXuLy": 2000})


@pytest.fixture
def client(settings: PortalSettings, transformer: Transformer) -> Iterator[ClassicClient]:
    opened = ClassicClient(settings, transformer)
    yield opened
    opened.close()


@pytest.fixture
def token_client(settings: PortalSettings, transformer: Transformer) -> Iterator[TokenClient]:
    opened = TokenClient(settings, transformer)
    yield opened
    opened.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SyncLedger]:
    opened = SyncLedger(f"sqlite:///{tmp_path}/ledger.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def connector(client: ClassicClient, ledger: SyncLedger) -> NationalPortalConnector:
    return NationalPortalConnector(client, ledger, batch_size=10)


_HOSO = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))
_STEP = json.loads((EXAMPLES / "TienDoXuLy.json").read_text(encoding="utf-8"))


def dossier_code() -> str:
    return f"000.00.01.H22-241201-{uuid.uuid4().hex[:8]}"


def make_dossier(code: str, **fields: Any) -> GoiTin:
    data = copy.deepcopy(_HOSO)
    data["MaGoiTin"] = str(uuid.uuid4())
    data["NoiDung"]["HoSo"].update(MaHoSo=code, **fields)
    return GoiTin.model_validate(data)


def make_step(code: str, number: int, status: int = 4, **fields: Any) -> GoiTin:
    data = copy.deepcopy(_STEP)
    data["MaGoiTin"] = str(uuid.uuid4())
    when = (datetime(2024, 12, 10, 8) + timedelta(minutes=number)).strftime("%Y%m%d%H%M%S")
    data["NoiDung"]["TienDoXuLy"].update({"MaHoSo": code, "TrangThai": status, "ThoiDiemXuLy": when,
                                          "NoiDungXuLy": f"Bước {number}", **fields})
    return GoiTin.model_validate(data)


def deliveries(*packets: GoiTin) -> list[Delivery]:
    return [Delivery(job_id=f"job-{n}", idempotency_key=p.MaGoiTin, packet=p, raw=b"", attempt=1)
            for n, p in enumerate(packets)]


@pytest.fixture
def new_code() -> Callable[[], str]:
    return dossier_code


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
