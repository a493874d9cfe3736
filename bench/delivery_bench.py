"""Delivery benchmark: accept (durable, validation on), deliver (ordered), latency at a steady rate, an idle worker's cost —
on SQLite and PostgreSQL — and, side by side on the same PostgreSQL, the same enqueue → deliver →
acknowledge work with procrastinate.

    .venv/bin/pip install -e '.[bench]'            # procrastinate
    .venv/bin/python bench/delivery_bench.py       # [--stores sqlite,postgres] [--jobs 4000] [--rate 500]

The destination is the local peer (demo.testpeer) in its own process: it reads every packet,
records it, answers 200. PostgreSQL: $GATEWAY_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test),
each run in a fresh schema, dropped afterwards.
"""

import argparse
import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
import hashlib
import http.client
import json
import os
from pathlib import Path
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
import uuid

import functools

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.config import Config
from gateway.deliver.engine import Engine
from gateway.deliver.policy import policy_from
from gateway.deliver.traffic import Packet, Traffic
from gateway.receive.auth import Client
from gateway.receive.committer import GroupCommitter
from gateway.receive.intake import PacketIntake
from gateway.receive.packets import response
from gateway.store import JobFilter, JobState, Store, open_store
from gateway.validate.pipeline import Validator

POSTGRES = os.environ.get("GATEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DEST = "national_portal"
GATEWAY = [sys.executable, "-c", "from gateway.cli import main; main()"]
SEED = iter(range(1000, 10**6))
print = functools.partial(print, flush=True)


# One bench client sends what a province's many would: the per-client limits must not be what is measured.
UNTHROTTLED = "[limits]\nclient_rate = 1e9\nclient_burst = 1000000000\nclient_concurrent = 100000\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one when None), from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (every process, the database server and the kernel
    included), summed over its CPUs, from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in Path("/proc/stat").read_text().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


PIDS: dict[str, int] = {}  # the peer's, for its CPU time


@contextmanager
def process(argv: list[str], env: dict[str, str] | None = None,
            ready: str | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        if ready:
            wait_http(ready)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def peer() -> Iterator[str]:
    """The no-op destination in its own process; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process([sys.executable, "-m", "demo.testpeer", "--port", str(port)],
                 ready=f"{base}/_stats") as proc:
        PIDS["peer"] = proc.pid
        yield base


@contextmanager
def store_url(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="delivery-bench-") as tmp:
            yield f"sqlite:///{tmp}/gateway.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')


def dossiers(count: int, steps: int = 9, encoding: str = "json") -> list[list[Packet]]:
    traffic = Traffic(seed=next(SEED))
    prefix = f"{next(SEED) % 1000000:06d}"
    return [traffic.dossier(n, steps, encoding, prefix=prefix) for n in range(1, count + 1)]


@dataclass(frozen=True)
class Signed:
    """Signed intake: ``sign`` turns an XML packet into the one a sender signs (XML-DSig over the whole
    GoiTin, RSA-2048, SHA-256, with its chain); ``required`` makes ``gateway serve`` require a valid signature
    from every sender (chain to the test root, CRLs checked), ``receipt_key`` sign each receipt with its own
    key; ``config`` is both."""

    sign: Callable[[Packet], Packet]
    required: str
    receipt_key: str

    @property
    def config(self) -> str:
        return self.required + self.receipt_key

    def packets(self, count: int, steps: int = 9) -> list[list[Packet]]:
        return [[self.sign(p) for p in group] for group in dossiers(count, steps, "xml")]


@contextmanager
def signed_intake() -> Iterator[Signed]:
    """A test PKI made now (nothing of it in the repository), for as long as the context lasts."""
    from signing.xml_sign import sign_xml
    from tests.signing.pki import TestPKI

    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp))
        chain = Path(tmp) / "gateway-chain.pem"
        chain.write_bytes(pki["ec256"].cert_pem + pki["intermediate"].cert_pem)
        signer = pki.signer()
        required = ('[signing.intake]\nsignatures = "required"\npurpose = "bench"\n'
                    f'[signing.purposes.bench]\nanchors = ["{pki["root"].cert_path}"]\n'
                    f'intermediates = ["{pki["intermediate"].cert_path}"]\n'
                    f'crls = ["{pki.crl_path}", "{pki.root_crl_path}"]\ncover = ["packet"]\n')
        receipt_key = f'[signing]\nkey = "{pki["ec256"].key_path}"\ncert = "{chain}"\n'
        yield Signed(lambda p: replace(p, raw=sign_xml(p.raw, signer)), required, receipt_key)


def interleave(groups: list[list[Packet]]) -> list[Packet]:
    """Round-robin over dossiers: each dossier in order, dossiers mixed."""
    out, longest = [], max(len(g) for g in groups)
    for i in range(longest):
        out += [g[i] for g in groups if i < len(g)]
    return out


def policy(base: str, **overrides: object):
    return policy_from(DEST, {"url": f"{base}/{DEST}", "timeout_seconds": 5.0, "concurrency": 8,
                              "rate_per_second": 100000.0, "burst": 1000, "max_batch": 1, "lease_seconds": 30.0,
                              **overrides})


# --- accept ----------------------------------------------------------------------------------

def bench_accept(url: str, packets: list[Packet], threads: int = 8) -> float:
    """In-process, the core: validation (schema and rules, without the store's status history), then the API's
    group committer (each caller waits for its commit)."""
    config = Config.load()
    validator, store = Validator(config), open_store(url)
    committer = GroupCommitter(store, batch_max=128, batch_wait_ms=2)

    def one(packet: Packet) -> None:
        report = validator.validate(packet.raw, packet.encoding)
        assert report.valid, report.errors
        committer.submit(packet.stored(), [DEST]).result()

    # each dossier on one thread keeps its packets in order, as a sending system would
    lanes = [packets[i::threads] for i in range(threads)]
    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda lane: [one(p) for p in lane], lanes))
    seconds = time.perf_counter() - began
    committer.close()
    store.close()
    return len(packets) / seconds


def bench_accept_intake(url: str, packets: list[Packet], threads: int = 8,
                        opener: Callable[[str], Store] = open_store) -> tuple[float, float]:
    """In-process, the whole intake of ``POST /v1/packets`` without HTTP: ``PacketIntake.receive`` (signature
    seam, validation, authorisation, routing, group commit with the status transition checked against the
    store's history, receipt) and the answer made of its outcome — (packets/s, this process's CPU ms per
    packet)."""
    store = opener(url)
    intake = PacketIntake(Config.load(), store=store)
    client = Client("bench")
    intake.receive(client, dossiers(1, steps=0)[0][0].raw, "json")  # opens the committer

    def send(lane: list[Packet]) -> None:
        for p in lane:  # the intake's value and the answer POST /v1/packets makes of it
            answer = response(intake.receive(client, p.raw, p.encoding), intake.config.zone)
            assert answer.status_code == 202, bytes(answer.body)[:300]

    lanes = lanes_of(packets, threads)
    began, cpu = time.perf_counter(), cpu_seconds()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, lanes))
    seconds, cpu = time.perf_counter() - began, cpu_seconds() - cpu
    intake.close()
    return len(packets) / seconds, cpu * 1000 / len(packets)


def bench_accept_store(url: str, packets: list[Packet], batch: int,
                       opener: Callable[[str], Store] = open_store) -> tuple[float, float]:
    """The store alone: ``accept_many`` of ``batch`` packets per transaction, durable, one thread —
    (packets/s, CPU ms per packet of this process)."""
    store, stored = opener(url), [p.stored() for p in packets]
    began, cpu = time.perf_counter(), cpu_seconds()
    for start in range(0, len(stored), batch):
        store.accept_many([(p, [DEST]) for p in stored[start:start + batch]])
    seconds, cpu = time.perf_counter() - began, cpu_seconds() - cpu
    store.close()
    return len(stored) / seconds, cpu * 1000 / len(stored)


# Another checkout's code to serve (bench/hot_bench.py --base: the same bench against an earlier commit).
SERVER_ROOT: Path | None = None


@contextmanager
def serving(url: str, workers: int, config_extra: str = "") -> Iterator[int]:
    """``gateway serve`` with ``workers`` processes on ``url``'s store; yields its port."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text(f'[store]\nurl = "{url}"\n{UNTHROTTLED}{config_extra}')
        port = free_port()
        # the classic protocol's sessions are HMAC tokens: every server process needs the same secret
        env = {"GATEWAY_CONFIG": str(config), "GATEWAY_INBOUND_SESSION_SECRET": secrets.token_hex(32)}
        if SERVER_ROOT is not None:
            env["PYTHONPATH"] = str(SERVER_ROOT)
        with process([*GATEWAY, "serve", "--port", str(port), "--workers", str(workers)], env,
                     ready=f"http://127.0.0.1:{port}/healthz") as proc:
            PIDS["server"] = proc.pid  # with one process, uvicorn serves in it (no supervisor)
            yield port


def lanes_of(packets: list[Packet], threads: int) -> list[list[Packet]]:
    """Each dossier on one sender, in order, as a sending system would keep it."""
    groups: dict[str, list[Packet]] = defaultdict(list)
    for p in packets:
        groups[p.dossier].append(p)
    dossiers_ = list(groups.values())
    return [[p for group in dossiers_[i::threads] for p in group] for i in range(threads)]


def timed_senders(send: Callable[[list[Packet]], None], lanes: list[list[Packet]]) -> tuple[float, float]:
    """Runs one sender per lane; (packets/s, the whole machine's CPU ms per packet). The server's own CPU ms
    per packet (PIDS["server"]) goes to LAST["server_cpu_ms"]: unlike the rate, it holds when other work
    shares the machine."""
    count = sum(len(lane) for lane in lanes)
    server = PIDS.get("server")
    began, cpu, own = time.perf_counter(), machine_busy_seconds(), cpu_seconds(server) if server else 0.0
    with ThreadPoolExecutor(len(lanes)) as pool:
        list(pool.map(send, lanes))
    rate = count / (time.perf_counter() - began)
    LAST["server_cpu_ms"] = (cpu_seconds(server) - own) * 1000 / count if server else float("nan")
    return rate, (machine_busy_seconds() - cpu) * 1000 / count


LAST: dict[str, float] = {}


def bench_accept_http(url: str, packets: list[Packet], threads: int = 8, workers: int = 1,
                      config_extra: str = "", signed: Signed | None = None) -> tuple[float, float]:
    """End to end over HTTP: POST /v1/packets on ``gateway serve`` with ``workers`` processes (auth, signature
    check, validation, routing, group commit, receipt), one packet per request; with ``signed``, signatures
    required and verified (each answer must say so) and every receipt signed. One packet is sent first: the
    store opens (and migrates) on the first request, which is start-up, not throughput. Also the whole
    machine's CPU per packet: server, senders, database and kernel."""
    key = secrets.token_hex(16)
    client = f'[clients.bench]\nkey_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
    with serving(url, workers, client + config_extra + (signed.config if signed else "")) as port:
        headers = {"Authorization": f"Bearer {key}"}

        def post(connection: http.client.HTTPConnection, packet: Packet) -> None:
            connection.request("POST", "/v1/packets", body=packet.raw,
                               headers={**headers, "Content-Type": packet.content_type})
            answer = connection.getresponse()
            body = answer.read()
            assert answer.status == 202, body[:300]
            if signed:  # the sender's signature verified, the receipt signed by the gateway
                said = json.loads(body)
                assert said["KetQuaChuKy"] == "passed" and said["ChuKyBienNhan"], body[:300]

        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for first in (signed.packets(2 * workers, 0) if signed else dossiers(2 * workers, 0)):
            post(warm, first[0])  # each server process opens its store on its first packet
        warm.close()

        def send(lane: list[Packet]) -> None:
            # http.client, one kept-alive connection per sender: the load generator shares the two CPUs
            # with the server, and costs a third of what httpx does per call (bench/http_client_bench.py)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for p in lane:
                post(connection, p)
            connection.close()

        return timed_senders(send, lanes_of(packets, threads))


def bench_bare_http(packets: list[Packet], threads: int = 8) -> tuple[float, float]:
    """The HTTP ceiling, same senders and packets as ``bench_accept_http``: the bare server stack
    (uvicorn with httptools and uvloop, one process, bench/bare_app.py) reading each body and answering 202 —
    (requests/s, the whole machine's CPU ms per request)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--http", "httptools",
            "--loop", "uvloop", "--no-access-log", "--log-level", "warning", "--app-dir", str(ROOT)]
    with process(argv, ready=f"http://127.0.0.1:{port}/") as proc:
        PIDS["server"] = proc.pid

        def send(lane: list[Packet]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for p in lane:
                connection.request("POST", "/v1/packets", body=p.raw,
                                   headers={"Authorization": "Bearer x", "Content-Type": p.content_type})
                answer = connection.getresponse()
                answer.read()
                assert answer.status == 202
            connection.close()

        return timed_senders(send, lanes_of(packets, threads))


def bench_accept_classic(url: str, packets: list[Packet], items: int, threads: int = 8,
                         workers: int = 1) -> tuple[float, float]:
    """Over HTTP, batched: the classic protocol's DongBoHoSoMC / CapNhatTienDoHoSoMC, ``items`` per call,
    as a provincial one-stop system pushes its sync jobs. Every item is validated, routed and stored like a
    POST /v1/packets packet; a call's items are stored in one transaction, in order."""
    password = secrets.token_hex(16)
    agency = packets[0].agency
    client = (f'[inbound_classic]\nlookups = false\n[inbound_classic.clients.bench]\nusername = "bench"\n'
              f'password_sha256 = "{hashlib.sha256(password.encode()).hexdigest()}"\nmadonvi = ["{agency}"]\n')
    with serving(url, workers, client) as port:

        def call(connection: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> dict[str, Any]:
            connection.request("POST", path, body=json.dumps(body, ensure_ascii=False).encode(),
                               headers={"Content-Type": "application/json; charset=utf-8", "dstcode": "DVCQG"})
            answer = connection.getresponse()
            data = answer.read()
            assert answer.status == 200, data[:300]
            return json.loads(data)

        def send(lane: list[Packet]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            session = call(connection, "/adapter/auth", {"username": "bench", "password": password})["session"]
            # a dossier's HoSo before its steps; calls of one service each, every dossier still in order
            for service, kind in (("DongBoHoSoMC", "HoSo"), ("CapNhatTienDoHoSoMC", "TienDoXuLy")):
                bodies = [json.loads(p.raw)["NoiDung"][kind] for p in lane if p.packet_type == kind]
                for start in range(0, len(bodies), items):
                    answer = call(connection, "/adapter/integration",
                                  {"session": session, "madonvi": agency, "service": service,
                                   "isUpdating": "False", "data": bodies[start:start + items]})
                    assert answer["error_code"] == 0, str(answer)[:300]
            connection.close()

        return timed_senders(send, lanes_of(packets, threads))


# --- deliver ---------------------------------------------------------------------------------

def preload(url: str, packets: list[Packet]) -> None:
    store = open_store(url)
    for start in range(0, len(packets), 500):
        store.accept_many([(p.stored(), [DEST]) for p in packets[start:start + 500]])
    store.close()


def check_order(base: str, packets: list[Packet]) -> str:
    deliveries = httpx.get(f"{base}/_deliveries", timeout=30).json()["deliveries"]
    expected: dict[str, list[str]] = defaultdict(list)
    for p in packets:
        expected[p.dossier].append(p.packet_id)
    wanted = {p.packet_id for p in packets}
    arrived: dict[str, list[str]] = defaultdict(list)
    for d in deliveries:
        if d["key"] in wanted:
            arrived[d["dossier"]].append(d["key"])
    return "order exact" if arrived == expected else "ORDER BROKEN"


def bench_deliver(url: str, base: str, packets: list[Packet], **overrides: object) -> tuple[float, str]:
    preload(url, packets)
    store = open_store(url, migrate=False)
    engine = Engine(store, {DEST: policy(base, **overrides)}, poll_seconds=0.01)
    began = time.perf_counter()
    engine.start()
    done = JobFilter(destination=DEST, state=JobState.DELIVERED)
    while store.count_jobs(done) < len(packets):
        time.sleep(0.05)
    seconds = time.perf_counter() - began
    engine.stop()
    store.close()
    return len(packets) / seconds, check_order(base, packets)


# --- latency at a steady rate ------------------------------------------------------------------

def bench_latency(url: str, base: str, rate: float, seconds: float,
                  workers: int = 1) -> tuple[float, float, float, int, dict[str, float]]:
    """Accept in-process at a steady ``rate`` (validation + group commit), deliver with a worker process;
    latency = arrival at the destination − the moment the accept was committed. Also the CPU each
    process spent per packet (ms): accepting (this process), the worker(s), the peer — and the whole
    machine's, which adds the database server and the kernel."""
    config = Config.load()
    validator, store = Validator(config), open_store(url)
    committer = GroupCommitter(store, batch_max=128, batch_wait_ms=2)
    packets = interleave(dossiers(int(rate * seconds / 10) + 1, steps=9))[: int(rate * seconds)]
    accepted: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "worker.toml"
        cfg.write_text(f'[store]\nurl = "{url}"\n[destinations.{DEST}]\n'
                       f'connector = "http"\nurl = "{base}/{DEST}"\nconcurrency = 8\nrate_per_second = 100000.0\nburst = 1000\n'
                       'max_batch = 10\n')
        with ExitStack() as stack:
            started = [stack.enter_context(process([*GATEWAY, "worker", "--destination", DEST],
                                                   {"GATEWAY_CONFIG": str(cfg)})) for _ in range(workers)]
            time.sleep(3)  # the workers' start-up
            pids = {"accept": None, **{f"worker {n + 1}": w.pid for n, w in enumerate(started)}, "peer": PIDS["peer"]}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            machine_before = machine_busy_seconds()
            lock = threading.Lock()

            def one(packet: Packet) -> None:
                report = validator.validate(packet.raw, "json")
                assert report.valid
                committer.submit(packet.stored(), [DEST]).result()
                with lock:
                    accepted[packet.packet_id] = time.time()

            # dossiers stay in order: packet i of the stream goes to lane (dossier hash) so one lane owns a dossier
            lanes: list[list[Packet]] = [[] for _ in range(8)]
            for p in packets:
                lanes[hash(p.dossier) % 8].append(p)
            start = time.perf_counter()

            def run_lane(lane: list[Packet]) -> None:
                for p in lane:
                    due = start + packets_index[p.packet_id] / rate
                    if (pause := due - time.perf_counter()) > 0:
                        time.sleep(pause)
                    one(p)

            packets_index = {p.packet_id: i for i, p in enumerate(packets)}
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(run_lane, lanes))
            achieved = len(packets) / (time.perf_counter() - start)
            done = JobFilter(destination=DEST, state=JobState.DELIVERED)
            deadline = time.monotonic() + 60
            while store.count_jobs(done) < len(packets) and time.monotonic() < deadline:
                time.sleep(0.1)
            cpu = {name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / len(packets) for name, pid in pids.items()}
            cpu["whole machine"] = (machine_busy_seconds() - machine_before) * 1000 / len(packets)
    committer.close()
    store.close()
    deliveries = httpx.get(f"{base}/_deliveries", timeout=30).json()["deliveries"]
    first: dict[str, float] = {}
    for d in deliveries:
        first.setdefault(d["key"], d["at"])
    latencies = sorted((first[k] - t) * 1000 for k, t in accepted.items() if k in first)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return achieved, p50, p99, len(latencies), cpu


def bench_idle(url: str, seconds: float) -> tuple[float, float, float | None]:
    """A ``gateway worker`` on the embedded defaults (every configured destination) with nothing to do:
    (its CPU, the whole machine's — the database server included — both in % of one CPU, and
    PostgreSQL's committed transactions per second, None on SQLite)."""
    def transactions() -> int | None:
        if not url.startswith("postgres"):
            return None
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            row = connection.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            return int(row.fetchone()[0])

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "worker.toml"
        cfg.write_text(f'[store]\nurl = "{url}"\n[national_portal]\nledger_url = "sqlite:///{tmp}/ledger.sqlite"\n')
        with process([*GATEWAY, "worker"], {"GATEWAY_CONFIG": str(cfg)}) as worker:
            time.sleep(5)  # start-up, migrations, first claims
            cpu, machine, xacts, began = cpu_seconds(worker.pid), machine_busy_seconds(), transactions(), time.time()
            time.sleep(seconds)
            elapsed = time.time() - began
            after = transactions()
            return ((cpu_seconds(worker.pid) - cpu) * 100 / elapsed, (machine_busy_seconds() - machine) * 100 / elapsed,
                    None if after is None or xacts is None else (after - xacts) / elapsed)


# --- procrastinate, same work on the same PostgreSQL ----------------------------------------

def bench_procrastinate(url_base: str, base: str, packets: list[Packet], concurrency: int = 8) -> tuple[float, float, str]:
    """Enqueue (one job per packet, lock = dossier so each dossier runs in order), then a worker that POSTs each
    packet to the same destination and acknowledges; returns (enqueued/s, delivered/s, order)."""
    import procrastinate

    httpx.post(f"{base}/_reset", timeout=30)  # the same packets were delivered by ours just before
    schema = f"bench_p_{uuid.uuid4().hex[:10]}"
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')

    async def run() -> tuple[float, float]:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=POSTGRES, kwargs={"options": f"-c search_path={schema}"}, min_size=2, max_size=concurrency + 2))
        client = httpx.AsyncClient(timeout=5, limits=httpx.Limits(max_connections=concurrency * 2))

        @app.task(name="deliver", queue="bench")
        async def deliver(key: str, dossier: str, packet: str) -> None:
            answer = await client.post(f"{base}/{DEST}", content=packet.encode(),
                                       headers={"Idempotency-Key": key, "X-Ordering-Key": dossier,
                                                "Content-Type": "application/json; charset=utf-8"})
            answer.raise_for_status()

        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            groups: dict[str, list[Packet]] = defaultdict(list)
            for p in packets:
                groups[p.dossier].append(p)
            began = time.perf_counter()
            for dossier, group in groups.items():
                await deliver.configure(lock=dossier).batch_defer_async(
                    *({"key": p.packet_id, "dossier": dossier, "packet": p.raw.decode()} for p in group))
            enqueue = len(packets) / (time.perf_counter() - began)
            began = time.perf_counter()
            await app.run_worker_async(queues=["bench"], concurrency=concurrency, wait=False,
                                       install_signal_handlers=False, fetch_job_polling_interval=0.05)
            delivered = len(packets) / (time.perf_counter() - began)
        await client.aclose()
        return enqueue, delivered

    try:
        enqueue, delivered = asyncio.run(run())
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return enqueue, delivered, check_order(base, packets)


def bench_enqueue_ours(url: str, packets: list[Packet]) -> float:
    store = open_store(url)
    began = time.perf_counter()
    groups: dict[str, list[Packet]] = defaultdict(list)
    for p in packets:
        groups[p.dossier].append(p)
    for group in groups.values():  # one transaction per dossier, as procrastinate's batch_defer per lock
        store.accept_many([(p.stored(), [DEST]) for p in group])
    seconds = time.perf_counter() - began
    store.close()
    return len(packets) / seconds


def bench_peer(base: str, packets: list[Packet], threads: int = 8) -> float:
    """The no-op peer's own capacity: 8 threads POSTing one packet per call with the connector's HTTP client
    (httpx), no store — the ceiling for deliveries of one packet per call on this machine."""
    client = httpx.Client(limits=httpx.Limits(max_connections=threads), timeout=30)

    def send(lane: list[Packet]) -> None:
        for p in lane:
            answer = client.post(f"{base}/{DEST}", content=p.raw,
                                 headers={"Idempotency-Key": p.packet_id, "Content-Type": p.content_type})
            assert answer.status_code == 200, answer.text[:300]

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, [packets[i::threads] for i in range(threads)]))
    seconds = time.perf_counter() - began
    client.close()
    return len(packets) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--jobs", type=int, default=4000, help="packets per throughput run")
    parser.add_argument("--rate", type=float, default=500.0, help="steady accept rate for the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--workers", type=int, default=1, help="worker processes in the latency run")
    parser.add_argument("--parts", default="accept,http,classic,deliver,latency,idle,procrastinate",
                        help="which measurements to run (comma-separated)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    n_dossiers = max(1, args.jobs // 10)
    print(f"machine: {os.cpu_count()} CPUs; {args.jobs} packets per run over {n_dossiers} dossiers "
          f"(1 HoSo ~4 KB + 9 progress steps ~0.5 KB each, JSON)\n")
    with peer() as base:
        ceiling = bench_peer(base, interleave(dossiers(n_dossiers)))
        print(f"no-op peer alone (8 threads, one packet per call, no store): {ceiling:6.0f} calls/s\n")
        for kind in args.stores.split(","):
            print(f"== {kind} ==")
            if "accept" in parts:
                with store_url(kind) as url:
                    rate = bench_accept(url, interleave(dossiers(n_dossiers)))
                    print(f"accept, in-process, validation + group commit:    {rate:8.0f} packets/s")
                with store_url(kind) as url:
                    rate, cpu = bench_accept_intake(url, interleave(dossiers(n_dossiers)))
                    print(f"accept, in-process, the whole intake (receipt…):  {rate:8.0f} packets/s  "
                          f"({cpu:.2f} ms CPU per packet)")
                for batch in (1, 8, 32):
                    with store_url(kind) as url:
                        rate, cpu = bench_accept_store(url, interleave(dossiers(n_dossiers)), batch)
                        print(f"  the store alone, {batch:2} packets per commit:       {rate:8.0f} packets/s  "
                              f"({cpu:.2f} ms CPU per packet)")
            if "http" in parts:
                bare, bare_cpu = bench_bare_http(interleave(dossiers(max(1, n_dossiers // 2))))
                print(f"the HTTP ceiling: bare uvicorn + httptools + uvloop, reads the body, answers 202 (8 clients, "
                      f"1 process): {bare:6.0f} requests/s  (whole machine {bare_cpu:.2f} ms CPU per request)")
            for workers in (1, 2) if "http" in parts else ():
                with store_url(kind) as url:
                    rate, cpu = bench_accept_http(url, interleave(dossiers(max(1, n_dossiers // 2))), workers=workers)
                    print(f"accept over HTTP, one packet per request (8 clients, {workers} server process"
                          f"{'es' if workers > 1 else ''}): {rate:6.0f} packets/s  (whole machine {cpu:.2f} ms CPU "
                          "per packet, the senders included)" + (f"; {rate / bare:.0%} of the ceiling" if workers == 1 else ""))
            for items in (10, 100) if "classic" in parts else ():
                with store_url(kind) as url:
                    rate, cpu = bench_accept_classic(url, interleave(dossiers(n_dossiers)), items)
                    print(f"accept over HTTP, classic sync, {items:3} items per call (8 clients, 1 server process): "
                          f"{rate:6.0f} packets/s  (whole machine {cpu:.2f} ms CPU per packet)")
            for batch in (1, 10) if "deliver" in parts else ():
                with store_url(kind) as url:
                    rate, order = bench_deliver(url, base, interleave(dossiers(n_dossiers)), max_batch=batch)
                    share = f", {rate / ceiling:.0%} of the peer's calls/s" if batch == 1 else ""
                    print(f"deliver, ordered, concurrency 8, max_batch {batch:2}:    {rate:8.0f} jobs/s  ({order}{share})")
            if "latency" in parts:
                with store_url(kind) as url:
                    achieved, p50, p99, n, cpu = bench_latency(url, base, args.rate, args.seconds, args.workers)
                    print(f"accept→delivered at {achieved:.0f}/s steady ({n} packets, {args.workers} worker"
                          f"{'s' if args.workers > 1 else ''}): "
                          f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
                    machine = cpu.pop("whole machine")
                    print("  CPU per packet: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items())
                          + f"; whole machine {machine:.2f} ms → {machine * achieved / 1000:.2f} of {os.cpu_count()}"
                          " CPUs busy at that rate")
            if "idle" in parts:
                with store_url(kind) as url:
                    worker, machine, xacts = bench_idle(url, args.seconds)
                    print(f"idle worker (every configured destination): {worker:.1f} % of one CPU; the whole machine "
                          f"{machine:.1f} %" + ("" if xacts is None else f"; {xacts:.0f} database transactions/s"))
            if kind == "postgres" and "procrastinate" in parts:
                try:
                    import procrastinate  # noqa: F401 - only whether it is installed
                except ImportError:
                    print("procrastinate not installed: pip install -e '.[bench]'")
                    continue
                packets = interleave(dossiers(n_dossiers))
                with store_url(kind) as url:
                    enq = bench_enqueue_ours(url, packets)
                    store = open_store(url, migrate=False)
                    store.close()
                with store_url(kind) as url:
                    ours_rate, ours_order = bench_deliver(url, base, packets, max_batch=1)
                p_enq, p_rate, p_order = bench_procrastinate(POSTGRES, base, packets)
                print("-- same PostgreSQL, same packets, same destination, concurrency 8, one packet per call --")
                print(f"cổng kết nối:  enqueue {enq:7.0f}/s   deliver+ack {ours_rate:7.0f} jobs/s  ({ours_order})")
                print(f"procrastinate: enqueue {p_enq:7.0f}/s   deliver+ack {p_rate:7.0f} jobs/s  ({p_order})")
                print(f"ratio deliver ours/procrastinate: {ours_rate / p_rate:.2f}×   enqueue: {enq / p_enq:.2f}×")
            print()


if __name__ == "__main__":
    main()
