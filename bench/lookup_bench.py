"""Citizen look-ups through the gateway against the simulated population database, beside zeep calling the
simulator directly in the same run: the latency the gateway adds per look-up, and look-ups per second.

    .venv/bin/python bench/lookup_bench.py [--calls 200] [--rounds 5] [--threads 4] [--seconds 5]

The simulator and the gateway (SQLite store, audit rows batched as in production) run in processes of their
own. Latency: one caller, keep-alive, calls alternating one by one between direct (this process's zeep client,
the connector's own PopulationClient over the kit's transport) and through the gateway (POST
/v1/citizens/lookup); per round the p50 and p99 of each, the added p50/p99 (gateway − direct) and the
paired p50 (median of gateway − direct over adjacent pairs, steadier on a busy machine); once with one caller
(serial: least sensitive to the machine's load) and once with ``--threads`` callers at once. Throughput:
``--threads`` callers for ``--seconds`` each way. Medians and ranges over the rounds; the load average.
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
import hashlib
import json
import os
from pathlib import Path
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
from collections.abc import Callable
import uuid

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from connectors.population_db.client import PopulationClient
from connectors.population_db.settings import PopulationSettings
from connectors.population_db.transform import read_query
from gateway.deliver.http_client import HttpClient

SECRETS = {"GATEWAY_POPULATION_USERNAME": "bench-user", "GATEWAY_POPULATION_SECRET": uuid.uuid4().hex,
           "GATEWAY_POPULATION_API_KEY": uuid.uuid4().hex, "GATEWAY_POPULATION_AUDIT_KEY": uuid.uuid4().hex}
X_ROAD = "VN/GOV/000.00.00.H22/MOTCUA"
KEYS = {"portal": uuid.uuid4().hex, "sector": uuid.uuid4().hex}
DOSSIER = "000.00.01.H22-241201-0001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    probe = HttpClient(timeout=1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            probe.get(url)
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def serve_gateway(config_path: str, port: int) -> None:
    """The gateway process: the app with the connector's routes."""
    import uvicorn

    from gateway.config import Config
    from gateway.api import create_app

    app = create_app(Config.load(config_path))  # the registry installs the look-up routes ([population_db] enabled)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def gateway_config(directory: Path, endpoint: str) -> Path:
    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    path = directory / "gateway.toml"
    path.write_text(f"""
[store]
url = "sqlite:///{directory}/gateway.db"
[limits]
lookup_rate = 1000000.0
lookup_burst = 1000000
client_rate = 1000000.0
client_burst = 1000000
client_concurrent = 64
[console]
enabled = false
[clients.portal]
key_sha256 = "{sha(KEYS['portal'])}"
[clients.sector]
key_sha256 = "{sha(KEYS['sector'])}"
agencies = ["000.00.01.H22"]
citizen_lookups = true
[population_db]
enabled = true
wsdl = "{endpoint}?wsdl"
x_road_client = "{X_ROAD}"
ma_don_vi = "000.00.01.H22"
""", encoding="utf-8")
    return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def throughput(call: Callable[[], Any], threads: int, seconds: float) -> float:
    done, stop = [0] * threads, time.monotonic() + seconds

    def work(i: int) -> None:
        while time.monotonic() < stop:
            call()
            done[i] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    return sum(done) / (time.monotonic() - started)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f}  [{min(values):.2f} – {max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve-gateway", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_gateway:
        serve_gateway(args.serve_gateway[0], int(args.serve_gateway[1]))
        return
    env = {**os.environ, **SECRETS}
    os.environ.update(SECRETS)
    directory = Path(tempfile.mkdtemp(prefix="lookup-bench-"))
    sim_port, gw_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{sim_port}/dancu"
    processes = [subprocess.Popen([sys.executable, "-m", "connectors.population_db.simulator", "--port", str(sim_port),
                                   "--x-road-client", X_ROAD],
                                  cwd=REPO, env={**env, "GATEWAY_POPULATION_USERNAME": "bench-user"})]
    try:
        wait_for(f"http://127.0.0.1:{sim_port}/_admin/stats")
        config = gateway_config(directory, endpoint)
        processes.append(subprocess.Popen([sys.executable, __file__, "--serve-gateway", str(config), str(gw_port)],
                                          cwd=REPO, env=env))
        gateway = f"http://127.0.0.1:{gw_port}"
        wait_for(gateway + "/healthz")
        http = HttpClient(timeout=10, max_connections=args.threads + 2)
        example = (REPO / "examples" / "HoSo.xml").read_bytes()
        example = re.sub(rb"MaGoiTin>[0-9a-f-]{36}", b"MaGoiTin>" + str(uuid.uuid4()).encode(), example, count=1)
        answer = http.post(gateway + "/v1/packets", content=example, headers={
            "Content-Type": "application/xml", "Authorization": f"Bearer {KEYS['portal']}"})
        assert answer.status_code == 202, answer.text
        people = HttpClient(timeout=5).get(f"http://127.0.0.1:{sim_port}/_admin/citizens?count=50").json()
        bodies = [{"SoDinhDanh": p["SoDinhDanh"], "HoVaTen": " ".join(p["HoVaTen"][k] for k in ("Ho", "ChuDem", "Ten")),
                   "NgayThangNamSinh": p["NgayThangNamSinh"]["NgayThangNam"], "MaCanBo": "001085000123",
                   "MaDVC": "1.004227", "MaHoSo": DOSSIER} for p in people]
        queries = [read_query(b) for b in bodies]
        from gateway.config import Config

        direct = PopulationClient(PopulationSettings.from_config(Config.load(config)))
        auth = {"Authorization": f"Bearer {KEYS['sector']}"}
        counter = iter(range(10**9))
        lock = threading.Lock()

        def pick() -> int:
            with lock:
                return next(counter) % len(bodies)

        def via_direct() -> None:
            assert direct.lookup(queries[pick()]) is not None

        def via_gateway() -> None:
            reply = http.post(gateway + "/v1/citizens/lookup", json=bodies[pick()], headers=auth)
            assert reply.status_code == 200 and reply.json()["found"] is True, reply.text

        timed(via_direct, 50), timed(via_gateway, 50)  # warm-up: WSDL read, pools filled
        load_before = os.getloadavg()

        def alternate(calls: int) -> tuple[list[float], list[float]]:
            # call by call, alternating: each gateway call beside a direct one, so load from other processes
            # on the machine falls on both alike
            d, g = [], []
            for _ in range(calls):
                d += timed(via_direct, 1)
                g += timed(via_gateway, 1)
            return d, g

        def summarise(rows: dict[str, list[float]], d: list[float], g: list[float]) -> None:
            for q, name in ((0.5, "p50"), (0.99, "p99")):
                rows[f"direct {name}"].append(percentile(d, q))
                rows[f"gateway {name}"].append(percentile(g, q))
                rows[f"added {name}"].append(percentile(g, q) - percentile(d, q))
            rows["paired p50"].append(statistics.median(b - a for a, b in zip(d, g)))  # median of per-pair gaps

        names = ("direct p50", "gateway p50", "added p50", "paired p50", "direct p99", "gateway p99", "added p99")
        serial: dict[str, list[float]] = {k: [] for k in names}
        loaded: dict[str, list[float]] = {k: [] for k in names}
        cpu: dict[str, list[float]] = {"gateway process": [], "direct caller": [], "simulator": []}
        for _ in range(args.rounds):
            summarise(serial, *alternate(args.calls))
            # CPU per look-up (less sensitive to the machine's load than latency): the gateway process's own
            # (user + system) over a run of gateway calls, beside this process's for the same number of direct
            # calls (zeep + HTTP, the work a caller without the gateway does); the simulator's for the pair
            sim_before, gw_before = cpu_seconds(processes[0].pid), cpu_seconds(processes[1].pid)
            started = time.process_time()
            timed(via_direct, args.calls)
            cpu["direct caller"].append((time.process_time() - started) * 1000 / args.calls)
            timed(via_gateway, args.calls)
            cpu["gateway process"].append((cpu_seconds(processes[1].pid) - gw_before) * 1000 / args.calls)
            cpu["simulator"].append((cpu_seconds(processes[0].pid) - sim_before) * 1000 / (2 * args.calls))
            # the same with --threads callers at once (each alternating), as the gateway is used
            with ThreadPoolExecutor(args.threads) as pool:
                parts = list(pool.map(alternate, [max(1, args.calls // args.threads)] * args.threads))
            summarise(loaded, [x for d, _ in parts for x in d], [x for _, g in parts for x in g])
        rates: dict[str, list[float]] = {"direct": [], "gateway": []}
        for _ in range(max(1, args.rounds // 2)):
            rates["direct"].append(throughput(via_direct, args.threads, args.seconds))
            rates["gateway"].append(throughput(via_gateway, args.threads, args.seconds))
        print(f"load average before / after: {' '.join(f'{x:.1f}' for x in load_before)} / "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for title, rows in ((f"one caller, {args.calls} calls", serial),
                            (f"{args.threads} callers at once, {args.calls} calls", loaded)):
            print(f"look-up latency, ms — {args.rounds} rounds, {title} (median [min – max] of the rounds)")
            for name, values in rows.items():
                print(f"  {name:12s} {spread(values)}")
        print(f"CPU per look-up, ms — {args.rounds} rounds × {args.calls} calls, one caller")
        for name, values in cpu.items():
            print(f"  {name:16s} {spread(values)}")
        print(f"look-ups per second — {args.threads} callers × {args.seconds:g} s, {len(rates['direct'])} rounds")
        for name, values in rates.items():
            print(f"  {name:12s} {spread(values)}")
        print(json.dumps({"serial_added_p50_ms": statistics.median(serial["added p50"]),
                          "serial_added_p99_ms": statistics.median(serial["added p99"]),
                          "loaded_added_p50_ms": statistics.median(loaded["added p50"]),
                          "loaded_added_p99_ms": statistics.median(loaded["added p99"]),
                          "gateway_cpu_ms_per_lookup": statistics.median(cpu["gateway process"]),
                          "direct_cpu_ms_per_lookup": statistics.median(cpu["direct caller"]),
                          "gateway_lookups_per_s_median": statistics.median(rates["gateway"])}))
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
