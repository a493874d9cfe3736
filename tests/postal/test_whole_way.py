"""The whole way, over real HTTP on both stores: the dossier's steps go to the simulated national portal,
its result by post is ordered from the simulated postal service, tracked, and the status-10 step the
gateway originates reaches the national portal after every earlier step of the dossier."""

from collections.abc import Iterator
import copy
from pathlib import Path
import uuid

import httpx
import pytest

from connectors.national_portal.simulator import SimulatorSettings as PortalSimulatorSettings
from connectors.national_portal.simulator import create_app as portal_app
from gateway.config import Config
from gateway.deliver.engine import Engine, make_connector
from gateway.deliver.policy import load_policies
from gateway.receive.intake import PacketIntake
from gateway.store.api import JobState, Store

from .conftest import Originator, Simulator, dossier, dossier_code, free_port, serve, step, submit, wait_for
from .helpers import close, count, poller

PORTAL_USER, PORTAL_PASSWORD = f"u-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex  # made up per run


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    port = free_port()
    server, thread = serve(portal_app(PortalSimulatorSettings(username=PORTAL_USER, password=PORTAL_PASSWORD,
                                                              madonvi="000.00.00.H22", dstcode="DVCQG")), port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.postgres
def test_status_10_reaches_the_national_portal_after_the_dossiers_earlier_steps(
        config: Config, store: Store, intake: PacketIntake, originate: Originator, simulator: Simulator, portal: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORTAL_USERNAME", PORTAL_USER)
    monkeypatch.setenv("GATEWAY_PORTAL_PASSWORD", PORTAL_PASSWORD)
    raw = copy.deepcopy(config.raw)
    raw["national_portal"].update(adapter_url=portal, madonvi="000.00.00.H22",
                                  ledger_url=f"sqlite:///{tmp_path}/portal-ledger.sqlite")
    raw["destinations"]["national_portal"].update(backoff_base_seconds=0.05, backoff_cap_seconds=0.2)
    config = Config(raw, config.source)
    code = dossier_code()
    simulator.plan(**{code: "failed_then_delivered"})
    submit(intake, dossier(code, 2))
    submit(intake, step(code, 4))
    submit(intake, dossier(code, 9, HinhThuc=1))

    policies = {name: policy for name, policy in load_policies(config).items() if name in ("postal", "national_portal")}
    engine = Engine(store, policies, poll_seconds=0.02, hold_check_seconds=0.05,
                    connector_factory=lambda p: make_connector(p, config)).start()
    tracker = poller(config, originate)
    try:
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, what="the order")
        simulator.advance(5)
        assert tracker.poll_once().originated == 7  # 6 tracking packets and the status-10 step
        wait_for(lambda: count(store, "national_portal", JobState.DELIVERED) == 4, timeout=30,
                 what="the dossier's four national packets delivered")
    finally:
        close(tracker)
        engine.stop()
    record = httpx.get(f"{portal}/_admin/record/{code}", timeout=10, trust_env=False).json()
    assert [p["TrangThai"] for p in record["progress"]] == [4, 10]  # in the order they happened
    assert record["status"] == 10 and record["dossier"]["TrangThaiHoSo"] == 9
