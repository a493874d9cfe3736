"""Scaling on one PostgreSQL: delivery by 1, 2 and 4 ``gateway worker`` processes, intake by 1 and 2
``gateway serve`` nodes — real subprocesses, the real CLI, every run in a schema of its own (dropped afterwards).

    .venv/bin/pip install -e '.[bench]'            # psutil
    .venv/bin/python bench/scale_bench.py --rounds 3 --backlog 2000 --packets 1000

Delivery: the workers are started on an empty store and left to settle (their CPU quiet), then a backlog of
``--backlog`` packets (10 per dossier, interleaved) is committed in one transaction; the clock runs from that
commit until the last job is delivered to the local no-op destination (demo.testpeer, its own process;
concurrency 8 per worker, up to 10 steps of a dossier per call). Each dossier's order at the destination is
checked exact. Intake: ``--packets`` packets POSTed by 8 kept-alive senders (http.client, one packet per
request), all to one ``gateway serve`` or split 4 + 4 between two (separate processes on separate ports,
as two machines would run, one store). The configurations alternate round by round; each round
on a fresh schema, its delivery runs before its intake runs.

Beside each rate, the CPU per job (per packet) of the gateway's processes and of the whole machine (the
database server, the peer, the senders and the kernel included — and any neighbour's work), and how many of
the machine's CPUs were busy during the run: when that is all of them, more processes cannot go faster
here; the gateway's CPU per job says what they would do on a machine with more cores.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
import hashlib
import http.client
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import delivery_bench as db
from gateway.deliver.traffic import Packet
from gateway.store import JobFilter, JobState, open_store

WORKERS = (1, 2, 4)
NODES = (1, 2)


def tree_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and their living children."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for p in [root, *root.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
    return total


def settle(pids: list[int], timeout: float = 60) -> None:
    """Until the processes' CPU stays quiet for a second (start-up done: imports, store, first claims)."""
    deadline, last = time.monotonic() + timeout, tree_cpu(pids)
    time.sleep(1)
    while time.monotonic() < deadline:
        now = tree_cpu(pids)
        if now - last < 0.05 * len(pids):
            return
        last = now
        time.sleep(1)


class Backends:
    """The CPU the PostgreSQL server's backends spent for these processes' connections: each backend
    (process title ``postgres: … 127.0.0.1(<client port>)``) matched to the processes' TCP ports, sampled
    every 0.2 s — a backend opened and closed between two samples is missed, so this is a lower bound. The
    server's shared work (WAL writer, checkpointer) is not in it."""

    def __init__(self, pids: list[int]) -> None:
        self.pids, self.first, self.last = pids, {}, {}  # backend pid → CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, start: bool = False) -> None:
        ports = set()
        for pid in self.pids:
            try:
                root = psutil.Process(pid)
                for p in [root, *root.children(recursive=True)]:
                    ports |= {c.laddr.port for c in p.net_connections("tcp") if c.raddr and c.raddr.port == 5432}
            except psutil.Error:
                pass
        for p in psutil.process_iter(["username", "cmdline"]):
            try:
                title = " ".join(p.info["cmdline"] or [])
                if p.info["username"] != "postgres" or "(" not in title:
                    continue
                port = int(title.rsplit("(", 1)[1].split(")", 1)[0])
                if port in ports:
                    times = p.cpu_times()
                    self.last[p.pid] = times.user + times.system
                    self.first.setdefault(p.pid, self.last[p.pid] if start else 0.0)
            except (psutil.Error, ValueError):
                pass

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> Backends:
        self._sample(start=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


@contextmanager
def measured(pids: list[int], count: int, out: dict[str, float]) -> Iterator[None]:
    """Fills ``out`` with the CPU ms per item of ``pids`` (their trees) and of the whole machine, and the
    machine's busy CPUs (out of os.cpu_count()) over the block."""
    backends = Backends(pids)
    began, own, machine = time.perf_counter(), tree_cpu(pids), db.machine_busy_seconds()
    with backends:
        yield
    seconds = time.perf_counter() - began
    out["seconds"] = seconds
    out["rate"] = count / seconds
    out["cpu ms"] = (tree_cpu(pids) - own) * 1000 / count
    out["database cpu ms"] = backends.seconds * 1000 / count
    busy = db.machine_busy_seconds() - machine
    out["machine cpu ms"] = busy * 1000 / count
    out["busy cpus"] = busy / seconds


def deliver(url: str, base: str, packets: list[Packet], workers: int, max_batch: int = 10) -> dict[str, float]:
    """``workers`` ``gateway worker`` processes drain a backlog of ``packets`` committed at once."""
    httpx.post(f"{base}/_reset", timeout=30)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "worker.toml"
        cfg.write_text(f'[store]\nurl = "{url}"\n[destinations.{db.DEST}]\nconnector = "http"\n'
                       f'url = "{base}/{db.DEST}"\nconcurrency = 8\nrate_per_second = 100000.0\nburst = 100000\n'
                       f"max_batch = {max_batch}\n")
        store = open_store(url)  # migrates before the workers start
        done = JobFilter(destination=db.DEST, state=JobState.DELIVERED)
        before = store.count_jobs(done)  # the round's earlier runs
        with ExitStack() as stack:
            started = [stack.enter_context(db.process([*db.GATEWAY, "worker", "--destination", db.DEST],
                                                      {"GATEWAY_CONFIG": str(cfg)})) for _ in range(workers)]
            pids = [p.pid for p in started]
            settle(pids)
            peer_out: dict[str, float] = {}
            with measured([db.PIDS["peer"]], len(packets), peer_out), measured(pids, len(packets), out):
                store.accept_many([(p.stored(), [db.DEST]) for p in packets])  # one transaction: the backlog
                deadline = time.monotonic() + 600
                while store.count_jobs(done) < before + len(packets):
                    assert time.monotonic() < deadline, "the backlog was not delivered in 10 minutes"
                    time.sleep(0.05)
            out["peer cpu ms"] = peer_out["cpu ms"]
        store.close()
    out["order exact"] = float(db.check_order(base, packets) == "order exact")
    return out


def intake(url: str, packets: list[Packet], nodes: int, senders: int = 8) -> dict[str, float]:
    """``nodes`` ``gateway serve`` processes (one uvicorn process each, separate ports) on one store; the
    senders split evenly between them, each dossier on one sender."""
    key = secrets.token_hex(16)
    client = f'[clients.bench]\nkey_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
    headers = {"Authorization": f"Bearer {key}"}
    out: dict[str, float] = {}

    def post(connection: http.client.HTTPConnection, p: Packet) -> None:
        connection.request("POST", "/v1/packets", body=p.raw, headers={**headers, "Content-Type": p.content_type})
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 202, (answer.status, body[:300])

    with ExitStack() as stack:
        ports, pids = [], []
        for _ in range(nodes):  # one after the other: the first migrates the schema
            ports.append(stack.enter_context(db.serving(url, 1, client)))
            pids.append(db.PIDS["server"])
            warm = http.client.HTTPConnection("127.0.0.1", ports[-1], timeout=60)
            post(warm, db.dossiers(1, steps=0)[0][0])  # each node opens its store on its first packet
            warm.close()
        lanes = db.lanes_of(packets, senders)

        def send(n: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", ports[n % nodes], timeout=60)
            for p in lanes[n]:
                post(connection, p)
            connection.close()

        with measured(pids, len(packets), out), ThreadPoolExecutor(senders) as pool:
            list(pool.map(send, range(senders)))
    return out


def measure(rounds: int, backlog: int, packets: int) -> dict[str, dict[int, dict[str, list[float]]]]:
    """``rounds`` rounds, the configurations alternating (rotated each round); each round on a fresh schema
    (migrating one costs more than a run), its delivery runs before its intake runs, each run on packets of
    its own."""
    out: dict[str, dict[int, dict[str, list[float]]]] = {"deliver": {}, "intake": {}}
    with db.peer() as base:
        for r in range(rounds):
            with db.store_url("postgres") as url:
                for workers in WORKERS[r % 3:] + WORKERS[:r % 3]:
                    run = deliver(url, base, db.interleave(db.dossiers(max(1, backlog // 10))), workers)
                    assert run["order exact"] == 1.0, f"order broken with {workers} workers"
                    for k, v in run.items():
                        out["deliver"].setdefault(workers, {}).setdefault(k, []).append(v)
                    print(f"  round {r + 1}: {workers} worker(s): {run['rate']:.0f} jobs/s, workers "
                          f"{run['cpu ms']:.2f} ms CPU/job, their database backends {run['database cpu ms']:.2f} ms, "
                          f"machine {run['machine cpu ms']:.2f} ms, {run['busy cpus']:.2f} CPUs busy")
                for nodes in (NODES if r % 2 == 0 else NODES[::-1]):
                    run = intake(url, db.interleave(db.dossiers(max(1, packets // 10))), nodes)
                    for k, v in run.items():
                        out["intake"].setdefault(nodes, {}).setdefault(k, []).append(v)
                    print(f"  round {r + 1}: {nodes} node(s): {run['rate']:.0f} packets/s, servers "
                          f"{run['cpu ms']:.2f} ms CPU/packet, their database backends {run['database cpu ms']:.2f} "
                          f"ms, machine {run['machine cpu ms']:.2f} ms, {run['busy cpus']:.2f} CPUs busy")
    return out


def cell(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backlog", type=int, default=2000, help="packets delivered per delivery run")
    parser.add_argument("--packets", type=int, default=1000, help="packets sent per intake run")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    result = measure(args.rounds, args.backlog, args.packets)
    print(f"\nmedian (range) of {args.rounds} rounds; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for workers, f in result["deliver"].items():
        print(f"deliver, {workers} worker(s): {cell(f['rate'])} jobs/s; workers {cell(f['cpu ms'], 2)} ms CPU/job, "
              f"their database backends {cell(f['database cpu ms'], 2)}, peer {cell(f['peer cpu ms'], 2)}, machine {cell(f['machine cpu ms'], 2)}; "
              f"{cell(f['busy cpus'], 2)} CPUs busy; order exact in {int(sum(f['order exact']))}/{len(f['rate'])}")
    for nodes, f in result["intake"].items():
        print(f"intake, {nodes} node(s): {cell(f['rate'])} packets/s; servers {cell(f['cpu ms'], 2)} ms CPU/packet, "
              f"their database backends {cell(f['database cpu ms'], 2)}, "
              f"machine {cell(f['machine cpu ms'], 2)}; {cell(f['busy cpus'], 2)} CPUs busy")


if __name__ == "__main__":
    main()
