"""The connector under the real delivery engine and store (SQLite and PostgreSQL), against the simulated
portal over HTTP: with 30 % errors and 5 % timeouts every dossier's steps arrive complete and in order;
a dossier the portal refuses is dead-lettered with the portal's message while the others flow."""

from collections import defaultdict
from collections.abc import Callable, Iterator
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.national_portal import mapping
from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.deliver.engine import Engine
from gateway.deliver.policy import policy_from
from gateway.deliver.traffic import Packet, Traffic
from gateway.store.api import JobFilter, JobState, Store

from .conftest import Simulator, wait_for

DEST = "national_portal"


@pytest.fixture
def run_engine(store: Store, settings: PortalSettings, transformer: Transformer,
               tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    started: list[Engine] = []

    def start(table: Transformer = transformer, **overrides: Any) -> Engine:
        client = ClassicClient(PortalSettings(**{**settings.__dict__, "read_timeout": 1.0}), table)
        connector = NationalPortalConnector(client, SyncLedger(f"sqlite:///{tmp_path}/ledger.sqlite"))
        policy = policy_from(DEST, {"url": settings.adapter_url, "timeout_seconds": 1.0, "concurrency": 4,
                                    "rate_per_second": 1000.0, "burst": 100, "max_batch": 10, "max_attempts": 100,
                                    "backoff_base_seconds": 0.02, "backoff_cap_seconds": 0.2,
                                    "breaker_threshold": 1000, "lease_seconds": 5.0} | overrides)
        engine = Engine(store, {DEST: policy}, connectors={DEST: connector}, poll_seconds=0.01,
                        hold_check_seconds=0.05).start()
        started.append(engine)
        return engine

    yield start
    for engine in started:
        engine.stop()


def feed(store: Store, packets: list[Packet]) -> None:
    for packet in packets:
        store.accept(packet.stored(), [DEST])


def steps_by_dossier(packets: list[Packet]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for packet in packets:
        if packet.packet_type == "TienDoXuLy":
            order[packet.dossier].append(packet.packet_id)
    return dict(order)


def count(store: Store, state: JobState) -> int:
    return store.count_jobs(JobFilter(destination=DEST, state=state))


@pytest.mark.slow
def test_steps_arrive_complete_and_in_order_under_faults(store: Store, simulator: Simulator,
                                                         run_engine: Callable[..., Engine]) -> None:
    simulator.faults(error_rate=0.30, timeout_rate=0.05, hang_seconds=1.5, seed=5)
    simulator.session_ttl(1.0)  # sessions expire again and again during the run
    traffic = Traffic(seed=3)
    packets = list(traffic.interleaved(dossiers=12, steps=6))
    feed(store, packets)
    run_engine()
    wait_for(lambda: count(store, JobState.DELIVERED) == len(packets), timeout=120, what="every job delivered")
    record = simulator.record()
    assert record["dossier_count"] == 12
    for dossier, ids in steps_by_dossier(packets).items():
        progress = record["dossiers"][dossier]["progress"]
        assert [s["NoiDungXuLy"] for s in progress] == [f"Bước xử lý {n + 1}" for n in range(len(ids))], dossier
        assert [s["TrangThai"] for s in progress] == [4, 4, 4, 4, 9, 10]
    calls = simulator.stats()["calls"]
    assert sum(v for k, v in calls.items() if k.endswith("→ error")) > 0
    assert sum(v for k, v in calls.items() if k.endswith("→ timeout")) > 0
    assert sum(v for k, v in calls.items() if k.endswith("→ -1")) > 0 and simulator.stats()["logins"] > 1


def test_a_maintenance_window_holds_everything_then_it_flows_in_order(store: Store, simulator: Simulator,
                                                                     run_engine: Callable[..., Engine]) -> None:
    simulator.faults(maintenance=True, maintenance_retry_after=1)
    packets = list(Traffic(seed=6).interleaved(dossiers=5, steps=4))
    feed(store, packets)
    run_engine()
    wait_for(lambda: simulator.stats()["calls"].get("login → HTTP 503", 0) >= 3, what="calls meeting maintenance")
    assert count(store, JobState.DELIVERED) == 0 and simulator.record()["dossier_count"] == 0
    simulator.faults(maintenance=False)
    wait_for(lambda: count(store, JobState.DELIVERED) == len(packets), timeout=60, what="delivery after maintenance")
    record = simulator.record()
    for dossier, ids in steps_by_dossier(packets).items():
        assert [s["NoiDungXuLy"] for s in record["dossiers"][dossier]["progress"]] == [
            f"Bước xử lý {n + 1}" for n in range(len(ids))]


def test_a_refused_dossier_is_dead_lettered_while_the_others_flow(store: Store, simulator: Simulator,
                                                                  run_engine: Callable[..., Engine]) -> None:
    packets = list(Traffic(seed=4).interleaved(dossiers=4, steps=3))
    refused = packets[0].dossier
    simulator.faults(refuse={refused: "Thủ tục chưa được công bố trên Cổng DVC quốc gia"})
    feed(store, packets)
    run_engine(on_dead="hold")
    others = [p for p in packets if p.dossier != refused]
    wait_for(lambda: count(store, JobState.DELIVERED) == len(others), timeout=60, what="the other dossiers delivered")
    wait_for(lambda: count(store, JobState.DEAD) == 1, timeout=30, what="the refused dossier dead-lettered")
    dead = store.find_jobs(JobFilter(destination=DEST, state=JobState.DEAD))[0]
    assert dead.dossier == refused and dead.attempts == 1
    assert "Thủ tục chưa được công bố" in (dead.last_error or "")
    record = simulator.record()
    assert refused not in record["dossiers"] and record["dossier_count"] == 3


def test_a_replay_after_the_mapping_is_corrected_records_which_table_each_attempt_ran(
        store: Store, simulator: Simulator, transformer: Transformer, run_engine: Callable[..., Engine],
        tmp_path: Path) -> None:
    local, national = "1.005129.000.00.00.H22", "1.005129"  # a local variant of a national procedure
    hoso, *steps = Traffic(seed=8).dossier(1, steps=2)
    content = json.loads(hoso.raw)
    content["NoiDung"]["HoSo"]["MaTTHC"] = local
    hoso = dataclasses.replace(hoso, raw=json.dumps(content, ensure_ascii=False).encode())
    feed(store, [hoso, *steps])
    table = tmp_path / "mapping.toml"
    table.write_text('[procedures]\n"2.002622.000.00.00.H22" = "2.002622"\n', encoding="utf-8")
    before = hashlib.sha256(table.read_bytes()).hexdigest()[:16]
    engine = run_engine(Transformer(mapping.load(table), transformer.field_limits), on_dead="hold")
    wait_for(lambda: count(store, JobState.DEAD) == 1, timeout=30, what="the unmapped dossier dead-lettered")
    engine.stop()
    assert simulator.record(hoso.dossier) is None and count(store, JobState.PENDING) == 2  # its steps wait

    # The operator adds the row, restarts the worker (it reads the table at start) and replays.
    table.write_text(table.read_text(encoding="utf-8") + f'"{local}" = "{national}"\n', encoding="utf-8")
    after = hashlib.sha256(table.read_bytes()).hexdigest()[:16]
    run_engine(Transformer(mapping.load(table), transformer.field_limits))
    assert store.replay(JobFilter(dossier=hoso.dossier), "vận-hành", "bổ sung mã thủ tục vào bảng ánh xạ") == 1
    wait_for(lambda: count(store, JobState.DELIVERED) == 3, timeout=30, what="the dossier delivered after replay")

    job = store.get_job(f"{hoso.packet_id}/{DEST}")
    assert job is not None and [(a.outcome, a.transform) for a in job.attempt_log] == [
        ("permanent", f"ánh xạ / mapping: mapping.toml sha256:{before}"),
        ("delivered", f"ánh xạ / mapping: mapping.toml sha256:{after}")]
    assert "not mapped to a national MaTTHC" in job.attempt_log[0].message
    assert simulator.record(hoso.dossier)["dossier"]["MaTTHC"] == national
    stored = store.get_packet(hoso.packet_id)
    assert stored is not None and stored.raw == hoso.raw  # the packet itself is untouched

