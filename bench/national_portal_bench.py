"""National portal connector against the simulated portal over real HTTP (simulator in its own process).

Measures, side by side in one run:
  * dossier sync (connector.deliver of one HoSo: look-up + DongBoHoSoMC): syncs/s, p50/p99 latency;
  * progress steps sent in calls of 10 (the configured batch) against calls of 1: steps/s and the ratio;
  * draining a backlog of steps with the simulator's rate limit at --rate calls/s, with --threads
    dossiers in parallel: accepted calls as a share of what the limit allows in that time (429s are
    retried after Retry-After).

Run:  .venv/bin/python bench/national_portal_bench.py [--dossiers 200] [--steps 2000] [--drain-steps 10000] [--rate 200]
The connector is measured alone here, without the store and engine; end to end is the engine's bench.
"""

from __future__ import annotations

import argparse
import copy
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.mapping import Mapping
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.deliver.connector import Delivery, OutcomeKind
from gateway.packets.envelope import GoiTin

HOSO = json.loads((ROOT / "examples" / "HoSo.json").read_text(encoding="utf-8"))
STEP = json.loads((ROOT / "examples" / "TienDoXuLy.json").read_text(encoding="utf-8"))
USER, PASSWORD = "bench", uuid.uuid4().hex


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dossier(code: str) -> Delivery:
    data = copy.deepcopy(HOSO)
    data["MaGoiTin"] = str(uuid.uuid4())
    data["NoiDung"]["HoSo"]["MaHoSo"] = code
    packet = GoiTin.model_validate(data)
    return Delivery(packet.MaGoiTin, packet.MaGoiTin, packet, b"", 1)


def step(code: str, number: int) -> Delivery:
    data = copy.deepcopy(STEP)
    data["MaGoiTin"] = str(uuid.uuid4())
    when = (datetime(2024, 12, 10, 8) + timedelta(minutes=number)).strftime("%Y%m%d%H%M%S")
    data["NoiDung"]["TienDoXuLy"].update({"MaHoSo": code, "ThoiDiemXuLy": when, "TrangThai": 4,
                                          "NoiDungXuLy": f"Bước {number}"})
    packet = GoiTin.model_validate(data)
    return Delivery(packet.MaGoiTin, packet.MaGoiTin, packet, b"", 1)


def connector(url: str, ledger_dir: str, batch: int) -> NationalPortalConnector:
    settings = PortalSettings(adapter_url=url, username=USER, password=PASSWORD, batch_size=batch)
    client = ClassicClient(settings, Transformer(Mapping(), settings.field_limits))
    return NationalPortalConnector(client, SyncLedger(f"sqlite:///{ledger_dir}/ledger-{uuid.uuid4().hex}.sqlite"), batch)


def send_all(conn: NationalPortalConnector, jobs: list[Delivery]) -> int:
    """Delivers jobs in order like the engine would (first failure ends a batch; retry after Retry-After)."""
    calls = 0
    while jobs:
        outcomes = conn.deliver(jobs[:conn.max_batch])
        calls += 1
        done = next((i for i, o in enumerate(outcomes) if o.kind is not OutcomeKind.DELIVERED), len(outcomes))
        if done < len(outcomes):
            if outcomes[done].kind is OutcomeKind.PERMANENT:
                raise RuntimeError(outcomes[done].message)
            time.sleep(min(outcomes[done].retry_after or 0.01, 1.0))
        jobs = jobs[done:]
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=200)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--drain-steps", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GATEWAY_PORTAL_USERNAME": USER, "GATEWAY_PORTAL_PASSWORD": PASSWORD}
    server = subprocess.Popen([sys.executable, "-m", "connectors.national_portal.simulator", "--port", str(port)],
                              env=env, cwd=ROOT)
    admin = httpx.Client(base_url=url, trust_env=False)
    try:
        for _ in range(100):
            try:
                admin.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, simulator in its own process")
        with tempfile.TemporaryDirectory() as tmp:
            # 1. dossier syncs
            conn = connector(url, tmp, 10)
            latencies = []
            started = time.perf_counter()
            for n in range(args.dossiers):
                t0 = time.perf_counter()
                assert conn.deliver([dossier(f"BENCH-{uuid.uuid4().hex[:10]}-{n}")])[0].kind is OutcomeKind.DELIVERED
                latencies.append((time.perf_counter() - t0) * 1000)
            elapsed = time.perf_counter() - started
            cuts = statistics.quantiles(latencies, n=100)
            print(f"dossier sync: {args.dossiers / elapsed:,.0f} syncs/s, p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms")

            # 2. progress steps, calls of 10 vs calls of 1, same steps count
            rates = {}
            for batch in (10, 1):
                conn = connector(url, tmp, batch)
                code = f"BENCH-{uuid.uuid4().hex[:10]}"
                conn.deliver([dossier(code)])
                jobs = [step(code, n) for n in range(args.steps)]
                started = time.perf_counter()
                send_all(conn, jobs)
                rates[batch] = args.steps / (time.perf_counter() - started)
            print(f"progress steps: batch 10 {rates[10]:,.0f} steps/s, batch 1 {rates[1]:,.0f} steps/s, "
                  f"ratio {rates[10] / rates[1]:.1f}×")

            # 3. backlog drain under the portal's rate limit
            per_dossier = max(10, args.drain_steps // args.threads)
            conns = [connector(url, tmp, 10) for _ in range(args.threads)]
            codes = [f"BENCH-{uuid.uuid4().hex[:10]}" for _ in range(args.threads)]
            for conn, code in zip(conns, codes, strict=True):
                conn.deliver([dossier(code)])
            backlog = [[step(code, n) for n in range(per_dossier)] for code in codes]
            admin.post("/_admin/faults", json={"rate_limit": args.rate})
            time.sleep(1.0)  # a full bucket, as after an outage
            before = admin.get("/_admin/stats").json()["calls"].get("CapNhatTienDoHoSoMC → 0", 0)
            started = time.perf_counter()
            threads = [threading.Thread(target=send_all, args=(conn, jobs))
                       for conn, jobs in zip(conns, backlog, strict=True)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            stats = admin.get("/_admin/stats").json()["calls"]
            accepted = stats.get("CapNhatTienDoHoSoMC → 0", 0) - before
            throttled = stats.get("CapNhatTienDoHoSoMC → HTTP 429", 0)
            # The most the portal lets through in that time: a full bucket (one second of calls) + the rate.
            allowed = args.rate + args.rate * elapsed
            print(f"backlog drain: {args.threads * per_dossier} steps in {accepted} calls over {elapsed:.2f} s = "
                  f"{accepted / elapsed:,.0f} calls/s; {accepted / allowed:.0%} of the {allowed:,.0f} calls the "
                  f"{args.rate:.0f}/s limit allows in that time (bucket of one second included); "
                  f"{throttled} calls answered 429 and retried")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
