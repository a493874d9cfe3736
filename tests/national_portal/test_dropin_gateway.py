"""The drop-in's own behaviour, end to end over real HTTP on both stores: an orphan progress step
isolated (answered, or held for its dossier only and dead-lettered past its age, the circuit breaker
untouched), what the normalisation recorded, the session-less bare-array variant, success spelling."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import hashlib
import json
from pathlib import Path
import secrets

import pytest

from connectors.national_portal import inbound
from connectors.national_portal.client import ClassicClient
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.deliver.traffic import Packet, Traffic
from gateway.packets.bodies import HoSo
from gateway.store.api import BreakerState, JobFilter, JobState, Store

from . import realshapes as real
from .conftest import Simulator, dossier_code, wait_for
from .dropin import DEST, PROVINCE, Client, gateway_config, gateway_env, serve_gateway, start_engine  # noqa: F401 - fixtures, found by name
from .test_inbound_http import DSTCODE

TOKEN = secrets.token_urlsafe(24)  # made up per run


@pytest.fixture
def open_gateway(store_url: str, simulator: Simulator, tmp_path: Path, gateway_env: None) -> Iterator[object]:
    started = []

    def start(extra: str = "", inbound: str = "") -> str:
        config = tmp_path / f"gateway-{len(started)}.toml"
        config.write_text(gateway_config(store_url, simulator.url, extra, inbound), encoding="utf-8")
        url, server, thread = serve_gateway(config)
        started.append((server, thread))
        return url

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=20)


def jobs(store: Store, **selection: object) -> list[object]:
    return store.find_jobs(JobFilter(destination=DEST, **selection))


def test_an_orphan_step_is_held_for_its_dossier_only_and_never_trips_the_breaker(
        open_gateway, store: Store, simulator: Simulator, settings: PortalSettings,
        transformer: Transformer, tmp_path: Path, client: ClassicClient) -> None:
    client_ = Client(open_gateway())  # orphan_check_seconds = 1.0
    client_.login()
    # A dossier synced directly with the portal before the switch: known there, so its step is accepted.
    before = dossier_code()
    direct = HoSo.model_validate(inbound.normalise("DongBoHoSoMC", real.dossier(before)))
    assert client.sync_dossier(direct, updating=False)[0].ok
    assert client_.call("CapNhatTienDoHoSoMC", data=[real.step(before, "4", "20241203090000")])["error_code"] == 0
    # The portal's look-up is slower than the bound: the step of an unknown dossier is accepted and held.
    orphan = dossier_code()
    simulator.faults(latency_ms=2500, services=["TraCuuHoSo"])
    held = client_.call("CapNhatTienDoHoSoMC", data=[real.step(orphan, "4", "20241203090000")])
    assert held["error_code"] == 0
    simulator.faults(latency_ms=0, services=[])
    others = [dossier_code() for _ in range(5)]
    for code in others:
        assert client_.call("DongBoHoSoMC", isUpdating="False", data=[real.dossier(code)])["error_code"] == 0
        assert client_.call("CapNhatTienDoHoSoMC", data=[real.step(code, "4", "20241203090000")])["error_code"] == 0

    engine = start_engine(store, settings, transformer, f"sqlite:///{tmp_path}/ledger.sqlite", hold_seconds=1.5,
                          breaker_threshold=1, breaker_cooldown_seconds=60)
    try:
        wait_for(lambda: len(jobs(store, state=JobState.DELIVERED)) == 2 * len(others) + 1, what="the others delivered")
        wait_for(lambda: len(jobs(store, state=JobState.DEAD)) == 1, timeout=20, what="the orphan dead-lettered")
    finally:
        engine.stop()
    dead = store.get_job(jobs(store, state=JobState.DEAD)[0].job_id)
    assert dead is not None and dead.dossier == orphan and "chưa được đồng bộ" in (dead.last_error or "")
    assert dead.attempts >= 2 and len(dead.attempt_log) == dead.attempts  # held, retried for its dossier alone
    # One transient-looking outcome would have opened it (threshold 1): per-dossier outcomes do not count.
    assert store.destination_state(DEST).breaker_state in (None, BreakerState.CLOSED)
    assert simulator.record(orphan) is None and len(simulator.record(before)["progress"]) == 1


def test_what_was_normalised_is_recorded_per_item(open_gateway, store: Store) -> None:
    client = Client(open_gateway())
    client.login()
    code = dossier_code()
    answer = client.call("DongBoHoSoMC", isUpdating="False", data=[real.dossier(code)])
    verdict = store.get_packet(answer["packets"][0]["MaGoiTin"]).verdicts["classic"]
    changes = {(c["path"], c["rule"], c.get("sent")) for c in verdict["normalised"]}
    assert {("LoaiDoiTuong", "text_number", "1"), ("TrangThaiHoSo", "text_number", "2"), ("Email", "empty_text", None),
            ("TaiLieuNop[0].IsDeleted", "text_boolean", "False"), ("TaiLieuNop[0].TepDinhKemId", "empty_text", None),
            ("DinhDanhCHS", "null", None), ("DSKetNoiCSDL", "empty_list", None)} <= changes
    assert not any(c["path"] == "SoGiayToChuHoSo" for c in verdict["normalised"])  # text stays text
    steps = client.call("CapNhatTienDoHoSoMC", data=real.history(code)[1:2])
    late = store.get_packet(steps["packets"][0]["MaGoiTin"]).verdicts["classic"]
    assert ("ChucDanh", "empty_text") in {(c["path"], c["rule"]) for c in late["normalised"]}


def test_the_session_less_bare_array_variant(open_gateway, store: Store) -> None:
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    url = open_gateway(f'path_token_sha256 = "{digest}"\naddresses = ["127.0.0.0/8"]\n'
                       f'[inbound_classic.clients.elsewhere]\nusername = "xa"\npassword_sha256 = "{"0" * 64}"\n'
                       f'madonvi = ["{PROVINCE}"]\npath_token_sha256 = "{hashlib.sha256(b"x").hexdigest()}"\n'
                       f'addresses = ["10.0.0.0/8"]\n')
    proxy = Client(url)  # the account sends for two agencies (tests/national_portal/dropin.py): it names one
    code = dossier_code()
    sent = proxy.post(f"/adapter/bare/{TOKEN}/DongBoHoSoMC?madonvi={PROVINCE}", [real.dossier(code)])
    assert sent["error_code"] == 0 and len(jobs(store, dossier=code)) == 1
    assert proxy.post(f"/adapter/bare/{TOKEN}/CapNhatTienDoHoSoMC?madonvi={PROVINCE}",
                      [real.step(code, "4", "20241203090000")])["error_code"] == 0
    assert proxy.post(f"/adapter/bare/{TOKEN}x/DongBoHoSoMC", [real.dossier(code)])["error_code"] == -1
    assert proxy.post("/adapter/bare/x/DongBoHoSoMC", [real.dossier(code)])["error_code"] == -1  # wrong address
    assert proxy.post(f"/adapter/bare/{TOKEN}/TraCuuHoSo?madonvi={PROVINCE}", [])["error_code"] == 5
    assert proxy.post(f"/adapter/bare/{TOKEN}/DongBoHoSoMC?madonvi={PROVINCE}", {"data": []})["error_code"] == 5  # bare arrays only
    assert proxy.post(f"/adapter/bare/{TOKEN}/DongBoHoSoMC?madonvi={PROVINCE}", [real.dossier(code)],
                      dstcode="KHAC")["error_code"] == 5
    response = proxy.http.post(f"/adapter/bare/{TOKEN}/DongBoHoSoMC?madonvi={PROVINCE}", content=b'[{"MaHoSo": 1,}]',
                               headers={"Content-Type": "application/json", "dstcode": DSTCODE})
    assert response.json()["error_code"] == 1 and len(jobs(store)) == 2


@pytest.mark.parametrize("spelling", ['"00"', '"0"', "0"])
def test_success_is_spelled_as_configured(open_gateway, spelling: str) -> None:
    client = Client(open_gateway(inbound=f"success_code = {spelling}"))
    assert client.login()["error_code"] == 0  # the login answer stays the integer clients read
    answer = client.call("DongBoHoSoMC", isUpdating="False", data=[real.dossier(dossier_code())])
    assert answer["error_code"] == json.loads(spelling)


def test_a_half_open_probe_is_not_spent_on_a_dossier_that_cannot_succeed(
        store: Store, simulator: Simulator, settings: PortalSettings, transformer: Transformer,
        tmp_path: Path) -> None:
    traffic = Traffic(seed=13)
    step = json.loads(traffic.dossier(1, 2)[1].raw)
    step["NoiDung"]["TienDoXuLy"]["MaHoSo"] = orphan = dossier_code()
    store.accept(Packet(step["MaGoiTin"], orphan, "TienDoXuLy", "json",
                        json.dumps(step, ensure_ascii=False).encode()).stored(), [DEST])  # first in line
    others = [p for n in range(2, 5) for p in traffic.dossier(n, 2)]
    for packet in others:
        store.accept(packet.stored(), [DEST])
    # The circuit was opened long ago (another worker, the portal then down): the next call is a probe.
    store.save_breaker(DEST, BreakerState.OPEN, datetime.now(UTC) - timedelta(hours=1))
    engine = start_engine(store, settings, transformer, f"sqlite:///{tmp_path}/ledger.sqlite",
                          breaker_threshold=1, breaker_cooldown_seconds=600)
    try:  # were the orphan's outcome a failure, the circuit would reopen for ten minutes
        wait_for(lambda: len(jobs(store, state=JobState.DELIVERED)) == len(others), what="the others delivered")
    finally:
        engine.stop()
    assert store.destination_state(DEST).breaker_state is BreakerState.CLOSED
    assert simulator.record(orphan) is None
