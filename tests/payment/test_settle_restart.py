"""The callback answers once the CONFIRM is recorded; the worker's settler fetches, verifies and forwards the
receipt. A worker SIGKILLed in the middle (GET_BILL under way, or the packet originated but not recorded) and
started again still verifies and forwards the receipt, exactly once. Real processes, real HTTP, both stores."""

import json
import os
from pathlib import Path
import signal
import subprocess
import sys
from typing import Any

import pytest

from gateway.store.api import JobFilter

from .conftest import AGENCY, Bench, dossier_packet, wait_for

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, threading
from gateway.config import Config
from gateway import registry
from gateway.receive.intake import PacketIntake
from gateway.store import open_store
config = Config.load(sys.argv[1])
store = open_store(str(config.section("store")["url"]))
registry.start_tasks(config, PacketIntake(config, store=store), only=["payment"])
threading.Event().wait()
"""


def worker(config: Path) -> subprocess.Popen[bytes]:
    """A worker process running the payment connector's tasks (settlers, reconciler) only."""
    return subprocess.Popen([sys.executable, "-c", WORKER, str(config)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def quick_config(bench: Bench, tmp_path: Path) -> Path:
    """The bench's configuration with a short lease: a dead worker's payment is taken over in seconds."""
    text = (tmp_path / "gateway-national.toml").read_text(encoding="utf-8")
    path = tmp_path / "worker.toml"
    path.write_text(text.replace("settle_poll_seconds = 0.02", "settle_poll_seconds = 0.02\nsettle_lease_seconds = 2.0"),
                    encoding="utf-8")
    return path


def receipt_packets(bench: Bench, dossier: str) -> list[Any]:
    return [p for p in bench.store.dossier_packets(dossier) if p.packet_type == "BienLaiThanhToan"]


def test_acknowledged_callback_survives_a_killed_worker_and_is_forwarded_once(make_bench: Any, tmp_path: Path) -> None:
    bench: Bench = make_bench(settler=False)  # no settler in this process: the worker processes below
    bench.faults(bill_delay_seconds=30.0)  # the first worker is killed while GET_BILL is under way
    dossier = f"{AGENCY}-241201-7101"
    assert bench.submit(dossier_packet(dossier)).status_code == 202
    payment = bench.payment_of(dossier, {"confirmed"})
    sent = wait_for(lambda: bench.record()["sent"], 10, "the callback's reply")
    assert sent[0]["status"] == 200 and sent[0]["reply"]["MaLoi"] == "00"  # acknowledged: recorded, not verified yet
    assert not receipt_packets(bench, dossier)
    config, reference = quick_config(bench, tmp_path), payment["reference"]

    first = worker(config)
    try:
        wait_for(lambda: bench.record()["payments"][reference].get("bill_calls", 0) >= 1, 30, "GET_BILL by the worker")
        held = bench.store.payment(reference)
        assert held is not None and held["lease_owner"] and held["state"] == "confirmed"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    bench.faults(bill_delay_seconds=0.0)

    second = worker(config)
    try:
        settled = bench.payment_of(dossier, {"forwarded", "receipt_rejected", "forward_refused"}, timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    assert settled["state"] == "forwarded" and settled["detail"]["verification"]["verdict"] == "passed"
    assert settled["lease_owner"] is None
    assert bench.record()["payments"][reference]["bill_calls"] >= 2  # fetched again by the restarted worker
    packets = receipt_packets(bench, dossier)
    assert len(packets) == 1 and packets[0].packet_id == settled["detail"]["packet"]
    assert [e.action for e in bench.store.audit_about(dossier)].count("payment.receipt.verified") == 1


def test_packet_originated_by_a_dead_worker_is_not_originated_twice(make_bench: Any) -> None:
    """A worker died after storing the BienLaiThanhToan and before recording it: its lease lapses, the next
    worker verifies again and originates the same bytes — the intake's duplicate — so one packet, one job."""
    from connectors.payment.client import platform_for
    from connectors.payment.inbound import trust_of
    from connectors.payment.settings import PaymentSettings
    from connectors.payment.settle import Pace, Settler
    from connectors.payment.transform import receipt_packet
    from gateway.receive.intake import PacketIntake

    bench: Bench = make_bench(settler=False)
    dossier = f"{AGENCY}-241201-7102"
    bench.submit(dossier_packet(dossier))
    confirmed = bench.payment_of(dossier, {"confirmed"})
    intake = PacketIntake(bench.config, store=bench.store)
    # the dead worker: claimed it (lease of 0.5 s) and stored its packet, then nothing
    dead = bench.store.claim_payments(("confirmed",), "dead-worker:1", limit=5, lease_seconds=0.5)
    assert [p["reference"] for p in dead] == [confirmed["reference"]]
    detail = dead[0]["detail"]
    _, data = receipt_packet(dead[0], dead[0]["transaction_id"], detail["bank"], detail["paid_at"],
                             f"BL{dead[0]['transaction_id'][-10:]}")
    assert type(intake.originate(data, "json")).__name__ == "Accepted"
    assert len(receipt_packets(bench, dossier)) == 1
    settings = PaymentSettings.from_config(bench.config)
    settler = Settler(platform_for(settings), intake, trust_of(bench.config, settings), settings,
                      Pace(lease_seconds=5.0))
    try:
        assert settler.once() == 0  # still leased by the dead worker
        wait_for(lambda: settler.once(), 10, "the lapsed lease to be taken")
    finally:
        settler.platform.close()
        intake.flush()
    settled = bench.store.payment(confirmed["reference"])
    assert settled is not None and settled["state"] == "forwarded"
    assert len(receipt_packets(bench, dossier)) == 1
    jobs = [j for j in bench.store.find_jobs(JobFilter(destination="provincial_portal"))
            if j.packet_id == settled["detail"]["packet"]]
    assert len(jobs) == 1  # stored and routed to the provincial portal once
    assert bench.store.update_payment(confirmed["reference"], "forwarded", holder="dead-worker:1") is False
    assert json.loads(data)["NoiDung"]["BienLaiThanhToan"]["MaGiaoDich"] == settled["transaction_id"]
