"""End to end against the national-portal simulator: the real ``gateway worker`` process, the store and
the portal connector, over HTTP.

1. **Sync**: with a warm worker, ``--dossiers`` dossiers (HoSo) are accepted at a steady ``--sync-rate``
   per second: syncs/s achieved and accept-to-synced latency p50/p99 (from the store's records).
2. **Backlog drain**: the portal is out (the operator paused the destination: nothing is attempted, no
   retry burnt); meanwhile ``--steps`` progress steps of those dossiers pile up in the store. The portal
   comes back with its rate limit at ``--rate`` calls/s and the destination is resumed: the time until
   every step is delivered, and the portal calls accepted per second as a share of what its limit allows
   in that time (its bucket holds one second of calls). Per-dossier order and completeness are checked
   against the simulator's record, not assumed.

    .venv/bin/python bench/portal_drain_bench.py [--dossiers 2000] [--sync-rate 100] [--steps 50000] [--rate 200] [--store URL]

The worker runs the embedded defaults (concurrency 8, rate 200/s, batches of 10) with only the
simulator's address, the store and the ledger overridden; the simulator runs in its own process.
"""

import argparse
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
import os
from pathlib import Path
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.deliver.traffic import Packet, Traffic
from gateway.store import JobFilter, JobState, open_store

DEST = "national_portal"
CREDENTIALS = {"GATEWAY_PORTAL_USERNAME": "bench", "GATEWAY_PORTAL_PASSWORD": "bench-password"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def simulator(port: int, log: Path) -> Iterator[httpx.Client]:
    env = {**os.environ, **CREDENTIALS}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "connectors.national_portal.simulator", "--port", str(port)],
                                   env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        admin = httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=120)
        try:
            for _ in range(200):
                try:
                    admin.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield admin
        finally:
            admin.close()
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def worker(config: Path, log: Path) -> Iterator[None]:
    env = {**os.environ, **CREDENTIALS}
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-c", "from gateway.cli import main; main()", "worker",
                                    "--config", str(config), "--destination", DEST],
                                   env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)


def feed(url: str, packets: list[Packet]) -> None:
    store = open_store(url)
    for start in range(0, len(packets), 1000):
        store.accept_many([(p.stored(), [DEST]) for p in packets[start:start + 1000]])
    store.close()


def wait_delivered(url: str, total: int, what: str) -> float:
    """Seconds until ``total`` jobs are delivered (the clock started by the caller's worker start)."""
    store = open_store(url, migrate=False)
    began = time.perf_counter()
    try:
        while True:
            delivered = store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED))
            if delivered >= total:
                return time.perf_counter() - began
            if store.count_jobs(JobFilter(destination=DEST, state=JobState.DEAD)):
                raise SystemExit(f"{what}: a job was dead-lettered — see the worker log")
            time.sleep(0.1)  # the watcher shares the machine with the worker and the portal: look lightly
    finally:
        store.close()


def sync_latencies(url: str, count: int) -> list[float]:
    """Accept-to-synced per dossier, ms: each job's creation (the accepting commit) to its delivery."""
    store = open_store(url, migrate=False)
    try:
        jobs = store.find_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED, limit=count))
        return [(job.delivered_at - job.created_at).total_seconds() * 1000 for job in jobs if job.delivered_at]
    finally:
        store.close()


def check_order(admin: httpx.Client, steps: list[Packet]) -> str:
    expected: dict[str, int] = defaultdict(int)
    for packet in steps:
        expected[packet.dossier] += 1
    record = admin.get("/_admin/record").json()
    problems = 0
    for code, count in expected.items():
        progress = record["dossiers"][code]["progress"]
        texts = [step["NoiDungXuLy"] for step in progress]
        if texts != [f"Bước xử lý {i + 1}" for i in range(count)]:
            problems += 1
    return (f"order and completeness exact for {len(expected)} dossiers, {record['repeated_steps']} repeated"
            if not problems else f"ORDER OR COMPLETENESS BROKEN for {problems} dossiers")


def paused(url: str, value: bool) -> None:
    store = open_store(url, migrate=False)
    store.set_paused(DEST, value, "bench", "simulated portal outage")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--sync-rate", type=float, default=100.0, help="dossiers accepted per second in step 1")
    parser.add_argument("--steps", type=int, default=50_000, help="backlog of progress steps (all dossiers)")
    parser.add_argument("--rate", type=float, default=200.0, help="the portal's rate limit, calls/s")
    parser.add_argument("--store", help="store URL (default: SQLite in a temporary folder)")
    parser.add_argument("--concurrency", type=int, help="the destination's concurrency (default: the embedded one)")
    args = parser.parse_args()
    per_dossier = max(2, args.steps // args.dossiers)

    with tempfile.TemporaryDirectory(prefix="portal-drain-") as tmp:
        folder = Path(tmp)
        url = args.store or f"sqlite:///{folder}/gateway.db"
        port = free_port()
        config = folder / "bench.toml"
        config.write_text(f'[store]\nurl = "{url}"\n'
                          f'[national_portal]\nadapter_url = "http://127.0.0.1:{port}"\n'
                          f'ledger_url = "sqlite:///{folder}/ledger.sqlite"\n'
                          + (f"[destinations.{DEST}]\nconcurrency = {args.concurrency}\n" if args.concurrency else ""),
                          encoding="utf-8")
        traffic = Traffic(seed=7)
        dossiers = [traffic.dossier(n + 1, per_dossier) for n in range(args.dossiers)]
        hoso = [packets[0] for packets in dossiers]
        steps = [step for packets in zip(*[d[1:] for d in dossiers], strict=True) for step in packets]
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; store {url.split(':')[0]}; "
              f"{args.dossiers} dossiers, {len(steps)} steps")

        feed(url, [])  # creates the schema before the worker starts
        with simulator(port, folder / "simulator.log") as admin, worker(config, folder / "worker.log"):
            time.sleep(3.0)  # the worker is up and polling
            began = time.perf_counter()
            for n in range(0, len(hoso), 10):  # steady: ten dossiers every 10/sync-rate seconds
                feed(url, hoso[n:n + 10])
                time.sleep(max(0.0, began + (n + 10) / args.sync_rate - time.perf_counter()))
            wait_delivered(url, len(hoso), "sync")
            seconds = time.perf_counter() - began
            cuts = statistics.quantiles(sync_latencies(url, len(hoso)), n=100)
            print(f"dossier sync at {args.sync_rate:.0f}/s offered: {len(hoso) / seconds:,.0f} syncs/s achieved; "
                  f"accept→synced p50 {cuts[49]:,.0f} ms, p99 {cuts[98]:,.0f} ms")

            paused(url, True)  # the outage: nothing attempted, no retry burnt
            feed(url, steps)  # the hour's backlog, in the order the one-stop system sent it
            admin.post("/_admin/faults", json={"rate_limit": args.rate})
            stats = admin.get("/_admin/stats").json()["calls"]
            before = sum(n for key, n in stats.items() if key.endswith("→ 0"))
            time.sleep(1.0)  # the portal's bucket is full when it comes back
            paused(url, False)
            seconds = wait_delivered(url, len(hoso) + len(steps), "drain")
            stats = admin.get("/_admin/stats").json()["calls"]
            accepted = sum(n for key, n in stats.items() if key.endswith("→ 0")) - before
            throttled = sum(n for key, n in stats.items() if key.endswith("HTTP 429"))
            allowed = args.rate + args.rate * seconds
            print(f"backlog drain: {len(steps)} steps in {seconds:.1f} s ({len(steps) / seconds:,.0f} steps/s); "
                  f"{accepted} portal calls accepted = {accepted / seconds:,.0f} calls/s, {accepted / allowed:.0%} "
                  f"of the {allowed:,.0f} calls the {args.rate:.0f}/s limit allows in that time (resume noticed "
                  f"within hold_check_seconds included); {throttled} answered 429")
            print(check_order(admin, steps))


if __name__ == "__main__":
    main()
