"""Peers on the same PostgreSQL, same run: the gateway's durable enqueue → deliver → acknowledge against
PgQueuer and procrastinate, each configured as its own documentation recommends for throughput.

    .venv/bin/pip install -e '.[bench]'            # pgqueuer, asyncpg, procrastinate
    .venv/bin/python bench/peers_bench.py --rounds 3 --jobs 1000

Two kinds of job per peer: ``noop`` (the peer's own published benchmark: enqueue, dequeue, acknowledge,
nothing done — to check that it reaches its published rate on this machine) and ``deliver`` (the same
work as the gateway: POST the packet to the local no-op destination, demo.testpeer, and acknowledge).
Each run in its own PostgreSQL schema, dropped afterwards; each dossier's order at the destination checked.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import delivery_bench as db
from gateway.deliver.traffic import Packet

POSTGRES = db.POSTGRES
CONCURRENCY = 8  # the gateway's destination concurrency in delivery_bench; the peers get the same
PGQ_MANAGERS, PGQ_BATCH = 5, 10  # PgQueuer's tools/benchmark.py defaults: 5 dequeue tasks, batch size 10


@contextmanager
def schema() -> Iterator[str]:
    name = f"bench_peer_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{name}" CASCADE')


def body(p: Packet) -> dict[str, str]:
    return {"key": p.packet_id, "dossier": p.dossier, "packet": p.raw.decode()}


def poster(base: str) -> tuple[httpx.AsyncClient, Callable[[dict[str, str]], Awaitable[None]]]:
    client = httpx.AsyncClient(timeout=5, limits=httpx.Limits(max_connections=CONCURRENCY * 2))

    async def post(job: dict[str, str]) -> None:
        answer = await client.post(f"{base}/{db.DEST}", content=job["packet"].encode(),
                                   headers={"Idempotency-Key": job["key"],
                                            "Content-Type": "application/json; charset=utf-8"})
        answer.raise_for_status()

    return client, post


# --- PgQueuer ----------------------------------------------------------------------------------

async def _pgqueuer(base: str | None, packets: list[Packet]) -> tuple[float, float]:
    """Enqueued in batches of 100 (one round trip each), then drained by PGQ_MANAGERS QueueManagers, each on
    its own asyncpg connection (LISTEN/NOTIFY), batch_size PGQ_BATCH — PgQueuer's drain strategy."""
    import asyncpg
    from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager
    from pgqueuer.types import QueueExecutionMode

    with schema() as name:
        settings = {"search_path": name}
        setup = await asyncpg.connect(POSTGRES, server_settings=settings)
        await Queries(AsyncpgDriver(setup)).install()
        queries = Queries(AsyncpgDriver(setup))
        payloads = [json.dumps(body(p)).encode() for p in packets]
        began = time.perf_counter()
        for start in range(0, len(payloads), 100):
            chunk = payloads[start:start + 100]
            await queries.enqueue(["deliver"] * len(chunk), list(chunk), [0] * len(chunk))
        enqueue = len(packets) / (time.perf_counter() - began)
        client, post = poster(base) if base else (None, None)
        managers, connections = [], []
        for _ in range(PGQ_MANAGERS):
            connection = await asyncpg.connect(POSTGRES, server_settings=settings)
            connections.append(connection)
            qm = QueueManager(Queries(AsyncpgDriver(connection)))

            @qm.entrypoint("deliver")
            async def deliver(job: Job) -> None:
                if post is not None:
                    await post(json.loads(job.payload or b"{}"))

            managers.append(qm)
        began = time.perf_counter()
        await asyncio.gather(*(qm.run(batch_size=PGQ_BATCH, mode=QueueExecutionMode.drain,
                                      log_aggregation_interval=timedelta(0))
                               for qm in managers))
        delivered = len(packets) / (time.perf_counter() - began)
        for connection in [setup, *connections]:
            await connection.close()
        if client is not None:
            await client.aclose()
    return enqueue, delivered


# --- procrastinate -----------------------------------------------------------------------------

async def _procrastinate(base: str | None, packets: list[Packet]) -> tuple[float, float]:
    """Deferred with ``lock=dossier`` (procrastinate's own per-key ordering: jobs sharing a lock run one at a
    time, in creation order), one ``batch_defer`` per dossier; a worker with ``concurrency`` CONCURRENCY and
    LISTEN/NOTIFY (its defaults: listen_notify=True)."""
    import procrastinate

    with schema() as name:
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=POSTGRES, kwargs={"options": f"-c search_path={name}"}, min_size=2, max_size=CONCURRENCY + 4))
        client, post = poster(base) if base else (None, None)

        @app.task(name="deliver", queue="bench")
        async def deliver(**job: str) -> None:
            if post is not None:
                await post(job)

        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            groups: dict[str, list[Packet]] = defaultdict(list)
            for p in packets:
                groups[p.dossier].append(p)
            began = time.perf_counter()
            for dossier, group in groups.items():
                await deliver.configure(lock=dossier).batch_defer_async(*(body(p) for p in group))
            enqueue = len(packets) / (time.perf_counter() - began)
            began = time.perf_counter()
            # wait=False: the worker returns when a fetch finds nothing; with locks held that can come before the
            # queue is empty, so it runs again until no job is left (no polling of our own in its event loop)
            while True:
                await app.run_worker_async(queues=["bench"], concurrency=CONCURRENCY, wait=False,
                                           install_signal_handlers=False)
                left = await app.connector.execute_query_one_async(
                    "SELECT count(*) AS n FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
                if left["n"] == 0:
                    break
            delivered = len(packets) / (time.perf_counter() - began)
        if client is not None:
            await client.aclose()
    return enqueue, delivered


# --- Dramatiq on Redis (a peer "for scale": no durability of the same kind, no per-dossier order) -----

REDIS_APPENDFSYNC = "everysec"  # Redis's own default when AOF is on: an enqueue is answered before its fsync


@contextmanager
def redis_server(appendfsync: str = REDIS_APPENDFSYNC) -> Iterator[str]:
    """A private redis-server (never a shared one) on a free port, its files in a temporary directory, AOF on
    with ``appendfsync`` (RDB snapshots off); stopped and removed afterwards. Yields its URL."""
    import shutil
    import subprocess
    import tempfile

    import redis

    port = db.free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as directory:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                 "--dir", directory, "--save", "", "--appendonly", "yes",
                                 "--appendfsync", appendfsync, "--daemonize", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            client = redis.Redis.from_url(url)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("redis-server did not start")
            client.close()
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _dramatiq(base: str | None, packets: list[Packet], url: str) -> tuple[float, float]:
    """Dramatiq's RedisBroker (its default middleware), one ``send`` per message (Dramatiq has no batch
    enqueue), then one Worker with ``worker_threads`` CONCURRENCY (its default: 8 threads per process; its
    default queue prefetch, 2 × threads) in this process — the same concurrency as the other peers (its CLI
    would start one such process per CPU). Done when ``broker.join`` finds the queue, its acks and its delay
    queue empty."""
    import logging

    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    logging.getLogger("dramatiq").setLevel(logging.WARNING)
    broker = RedisBroker(url=url, namespace=f"bench-{uuid.uuid4().hex[:10]}")
    client = httpx.Client(timeout=5, limits=httpx.Limits(max_connections=CONCURRENCY * 2)) if base else None

    def deliver(key: str, dossier: str, packet: str) -> None:
        if client is not None:
            answer = client.post(f"{base}/{db.DEST}", content=packet.encode(),
                                 headers={"Idempotency-Key": key, "Content-Type": "application/json; charset=utf-8"})
            answer.raise_for_status()

    actor = dramatiq.actor(deliver, broker=broker, actor_name="deliver", queue_name="bench")
    began = time.perf_counter()
    for p in packets:
        actor.send(**body(p))
    enqueue = len(packets) / (time.perf_counter() - began)
    worker = dramatiq.Worker(broker, worker_threads=CONCURRENCY, worker_timeout=100)
    began = time.perf_counter()
    worker.start()
    broker.join("bench", interval=10, timeout=600_000)
    delivered = len(packets) / (time.perf_counter() - began)
    worker.stop()
    broker.flush_all()
    broker.close()
    if client is not None:
        client.close()
    return enqueue, delivered


# --- the gateway -------------------------------------------------------------------------------

def ours(base: str, packets: list[Packet]) -> tuple[float, float]:
    """The gateway's store on PostgreSQL: accept_many per dossier (durable), then its delivery engine,
    ordered per dossier, concurrency CONCURRENCY, one packet per call."""
    with db.store_url("postgres") as url:
        enqueue = db.bench_enqueue_ours(url, packets)
    with db.store_url("postgres") as url:
        rate, _ = db.bench_deliver(url, base, packets, max_batch=1, concurrency=CONCURRENCY)
    return enqueue, rate


def order(base: str, packets: list[Packet]) -> bool:
    return db.check_order(base, packets) == "order exact"


def run_one(system: str, kind: str, base: str, jobs: int,
            redis_url: str | None = None) -> tuple[float, float, bool | None]:
    """(enqueued/s, done/s, order exact — None for no-op jobs, which reach no destination)."""
    packets = db.interleave(db.dossiers(max(1, jobs // 10)))
    httpx.post(f"{base}/_reset", timeout=30)
    target = base if kind == "deliver" else None
    if system == "gateway":
        enqueue, rate = ours(base, packets)
    elif system == "pgqueuer":
        enqueue, rate = asyncio.run(_pgqueuer(target, packets))
    elif system.startswith("dramatiq"):
        assert redis_url is not None
        enqueue, rate = _dramatiq(target, packets, redis_url)
    else:
        enqueue, rate = asyncio.run(_procrastinate(target, packets))
    return enqueue, rate, order(base, packets) if kind == "deliver" else None


CASES = [("gateway", "deliver"), ("pgqueuer", "deliver"), ("procrastinate", "deliver"),
         ("pgqueuer", "noop"), ("procrastinate", "noop")]
# on private redis-servers, same rounds: "dramatiq" with appendfsync REDIS_APPENDFSYNC, "dramatiq-always" with an
# fsync per write (the only Redis setting that answers after the write is on disk, as a durable commit does)
REDIS_CASES = [("dramatiq", "deliver"), ("dramatiq", "noop"), ("dramatiq-always", "deliver")]
REDIS_FSYNC = {"dramatiq": REDIS_APPENDFSYNC, "dramatiq-always": "always"}


def measure(base: str, rounds: int, jobs: int,
            cases: list[tuple[str, str]] | None = None) -> dict[tuple[str, str], dict[str, list[float]]]:
    """``rounds`` rounds, the cases interleaved within each round (default: CASES + REDIS_CASES)."""
    cases = cases or CASES + REDIS_CASES
    out: dict[tuple[str, str], dict[str, list[float]]] = {c: {"enqueue": [], "rate": [], "order": []} for c in cases}
    with ExitStack() as stack:
        redis_urls = {system: stack.enter_context(redis_server(fsync)) for system, fsync in REDIS_FSYNC.items()
                      if any(s == system for s, _ in cases)}
        for _ in range(rounds):
            for case in cases:
                _one(out, case, base, jobs, redis_urls.get(case[0]))
    return out


def _one(out: dict[tuple[str, str], dict[str, list[float]]], case: tuple[str, str], base: str, jobs: int,
         redis_url: str | None) -> None:
    enqueue, rate, exact = run_one(*case, base, jobs, redis_url)
    out[case]["enqueue"].append(enqueue)
    out[case]["rate"].append(rate)
    if exact is not None:
        out[case]["order"].append(float(exact))
    print(f"  {case[0]:13} {case[1]:7}: enqueue {enqueue:7.0f}/s  done {rate:7.0f}/s"
          + ("" if exact is None else f"  ({'order exact' if exact else 'ORDER BROKEN'})"), flush=True)


def version(package: str) -> str:
    from importlib.metadata import version as installed

    return installed(package)


def commit_ms(commits: int = 30) -> float:
    """ms per durable commit of a one-row insert on this PostgreSQL, now."""
    with schema() as name, psycopg.connect(POSTGRES, autocommit=True, options=f"-c search_path={name}") as c:
        c.execute("CREATE TABLE probe (x int)")
        began = time.perf_counter()
        for _ in range(commits):
            c.execute("INSERT INTO probe VALUES (1)")
        return (time.perf_counter() - began) * 1000 / commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--systems", default="gateway,pgqueuer,procrastinate,dramatiq,dramatiq-always",
                        help="comma-separated: which systems to run (default all)")
    args = parser.parse_args()
    chosen = args.systems.split(",")
    with db.peer() as base:
        results = measure(base, args.rounds, args.jobs, [c for c in CASES + REDIS_CASES if c[0] in chosen])
    for (system, kind), r in results.items():
        print(f"{system:13} {kind:7} median {statistics.median(r['rate']):7.0f} jobs/s "
              f"({min(r['rate']):.0f}–{max(r['rate']):.0f})")


if __name__ == "__main__":
    main()

