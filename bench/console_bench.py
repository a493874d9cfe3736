"""Console benchmark: page render times on a large seeded store, search by dossier code, and the cost of
/metrics on intake throughput (on vs off, same run).

    .venv/bin/python bench/console_bench.py --packets 1000000          # [--stores sqlite,postgres] [--rounds 20]
    .venv/bin/python bench/console_bench.py --packets 0 --intake 3000  # metrics off / on / scraped, rotated
    .venv/bin/python bench/console_bench.py --packets 0 --intake 4000 --side-by-side   # off and on served at once
    .venv/bin/python bench/console_bench.py --intake 4000 --side-by-side-on /tmp/console-1m.db   # …on 1 M packets
    .venv/bin/python bench/console_bench.py --reuse /tmp/console-1m.db --scrape-only   # one scrape's own cost
    .venv/bin/python bench/console_bench.py --packets 1000000 --seed-to /tmp/console-1m.db  # seed once, keep it
    .venv/bin/python bench/console_bench.py --reuse /tmp/seeded.db --intake 0   # pages again on a seeded SQLite copy
    .venv/bin/python bench/console_bench.py --packets 1000000 --seed-to postgres:console_1m   # a kept schema
    .venv/bin/python bench/console_bench.py --reuse postgres:console_1m --rounds 20
    .venv/bin/python bench/console_bench.py --drop postgres:console_1m

Seeding writes rows straight into the tables (bulk inserts, not through intake): packets of 10 agencies
over 60 days, about 5 per dossier, one national_portal job each (97 % delivered, 2 % waiting, 1 % dead)
with one attempt, the packets' audit (one chained entry per 500 packets accepted, one per attempt settled, through
the store's own appender); then each dossier's path (dossier_sync) is read from them, as migration 0018 does. Pages are rendered in-process through the whole app (FastAPI, session check, SQL,
Jinja2), as an admin (every agency) and as an operator of one agency; p50/p95 of --rounds each.
The intake figure is POST /v1/packets over HTTP on `gateway serve` (bench/delivery_bench.py), with
[observability] metrics off, on with nobody scraping, and on scraped every --scrape-seconds, rotated — or,
with --side-by-side, off and on served at once by two servers sharing the same load (the machine's swings
fall on both alike: the steadier comparison).
"""

import argparse
import dataclasses
from datetime import UTC, datetime, timedelta
import functools
import hashlib
import json
from pathlib import Path
import random
import shutil
import statistics
import sys
import threading
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx
import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fastapi.testclient import TestClient

from delivery_bench import POSTGRES
from gateway.config import Config
from gateway.console import data
from gateway.console.accounts import Accounts, Operator
from gateway.api import create_app
from gateway.store import AttemptRecord, audit_chain, dossier_sync, open_store
from gateway.store.sql import _accepted_item, _batch_entry, _settled_entry
from gateway.store.tables import attempts, dossiers, jobs, packets

print = functools.partial(print, flush=True)
AGENCIES = [f"000.00.{n:02d}.H22" for n in range(1, 11)]
PASSWORD = "bench-password-" + hashlib.sha256(str(time.time()).encode()).hexdigest()[:12]


BATCH = 500  # packets per accepted batch (one audit entry each), as intake batches them


@dataclasses.dataclass
class _Stored:
    """What ``_accepted_item`` reads of a packet."""
    packet_id: str
    dossier: str
    sender: str
    sha256: str
    packet_type: str
    agency: str
    status: int
    verdicts: dict


def seed(url: str, count: int, now: datetime, first: int = 0, delivered_only: bool = False,
         like: Any = None) -> list[str]:
    """``count`` packets with their jobs and attempts (numbered from ``first``: a store can be seeded again);
    returns some dossier codes to look up. ``delivered_only``: every job delivered (no dead or waiting one).
    ``like``: a packet (``NewPacket``) whose raw content, encoding, digest and verdicts every row takes (the
    default is a small JSON packet)."""
    store = open_store(url)
    engine = store.engine
    rng = random.Random(7)
    raw = json.dumps({"LoaiGoiTin": "HoSo", "NoiDung": {"HoSo": {"ChuHoSo": "Nguyễn Văn A"}}}).encode()
    encoding, sha256, verdicts = "json", "0" * 64, {"validation": {"valid": True}}
    if like is not None:
        raw, encoding, sha256, verdicts = like.raw, like.encoding, like.sha256, like.verdicts
    sample: list[str] = []
    chain = audit_chain.Appender()
    began, chunk = time.perf_counter(), 20_000
    end = first + count
    for start in range(first, end, chunk):
        p_rows, j_rows, a_rows, settled = [], [], [], []
        for n in range(start, min(end, start + chunk)):
            agency = AGENCIES[n % 10]
            dossier = f"{agency}-{(n // 50):07d}-{n % 5}"
            at = now - timedelta(seconds=(end - n) * 60 * 86400 / max(count, 1))
            pid = f"b{n:09d}"
            p_rows.append(dict(packet_id=pid, sha256=sha256, raw=raw, encoding=encoding, sender="motcua",
                               agency=agency, received_at=at, packet_type="HoSo" if n % 5 == 0 else "TienDoXuLy",
                               dossier=dossier, verdicts=verdicts, status=1 + n % 5,
                               audit_batch=f"batch:seed{n // BATCH:07d}"))
            fate = 1.0 if delivered_only else rng.random()
            state = "dead" if fate < 0.01 else "pending" if fate < 0.03 else "delivered"
            delivered = at + timedelta(seconds=rng.uniform(0.5, 120)) if state == "delivered" else None
            job_id = f"{pid}/national_portal"
            j_rows.append(dict(job_id=job_id, packet_id=pid, destination="national_portal", ordering_key=dossier,
                               state=state, attempts=1, next_attempt_at=at, created_at=at, delivered_at=delivered,
                               last_error="permanent: refused" if state == "dead" else None))
            a_rows.append(dict(job_id=job_id, n=1, started_at=at, duration_ms=50,
                               outcome="delivered" if state == "delivered" else "permanent" if state == "dead"
                               else "transient", peer_status="200", message="OK", transform=None))
            if state != "pending":  # the attempt's audit entry, as complete_each / fail write it
                settled.append(_settled_entry("bench", job_id, 1, AttemptRecord(at, 50, a_rows[-1]["outcome"], "200"),
                                              state))
            if n % 997 == 0:
                sample.append(dossier)
        owners = {row["dossier"]: row for row in reversed(p_rows)}  # a dossier's first packet owns it (ownership record)
        insert = (sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert)(dossiers)
        with engine.begin() as connection:
            connection.execute(insert.on_conflict_do_nothing(), [dict(dossier=d, agency=r["agency"],
                                                                      created_at=r["received_at"])
                                                                 for d, r in owners.items()])
            connection.execute(packets.insert(), p_rows)
            connection.execute(jobs.insert(), j_rows)
            connection.execute(attempts.insert(), a_rows)
            # the chained audit: one entry per accepted batch of BATCH packets (as accept_many writes), then
            # one per settled attempt — through the store's own appender, so hashes and links are the real ones
            for b in range(0, len(p_rows), BATCH):
                rows = p_rows[b:b + BATCH]
                chain.append(connection, _batch_entry(rows[0]["audit_batch"], [_accepted_item(
                    _Stored(**{k: r[k] for k in _Stored.__annotations__}), ["national_portal"]) for r in rows]),
                             at=rows[-1]["received_at"], plain=True)
            chain.append(connection, settled, at=p_rows[-1]["received_at"], plain=True)
    with engine.begin() as connection:  # the intake keeps each dossier's path: written straight here, read again
        dossier_sync.rebuild(connection, lambda _id, raw: raw)
    settle(engine)
    print(f"  seeded {count:,} packets + jobs + attempts in {time.perf_counter() - began:.0f} s")
    store.close()
    return sample


def _schema(spec: str) -> str:
    schema = spec.removeprefix("postgres:")
    if not schema.replace("_", "").isalnum():
        raise SystemExit(f"not a schema name: {schema!r}")
    return schema


def kept_url(spec: str) -> str:
    """The store of ``--seed-to`` / ``--reuse``: ``postgres:SCHEMA`` (in the bench database) or a SQLite file."""
    if spec.startswith("postgres:"):
        return f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{_schema(spec)}"
    return f"sqlite:///{Path(spec).resolve()}"


def settle(engine: sa.Engine) -> None:
    """The statistics, and on PostgreSQL the visibility map: what autovacuum leaves after a fill (bulk rows all
    at once are otherwise not yet all-visible, and every count reads the heap). Only this store's own tables:
    the bench database is shared."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        names = connection.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        for name, in list(names):
            connection.execute(sa.text(f'VACUUM (ANALYZE) "{name}"'))


def bench_accounts(url: str) -> None:
    store = open_store(url)
    with store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM operators WHERE username LIKE 'bench-%'"))
    accounts = Accounts(store.engine)
    accounts.add("bench-admin", PASSWORD, "admin", ["*"], must_change=False)
    accounts.add("bench-op", PASSWORD, "operator", [AGENCIES[0]], must_change=False)
    store.close()


def reused_sample(url: str) -> list[str]:
    store = open_store(url)
    with store.engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM packets")).scalar_one()
        sample = [d for d, in connection.execute(sa.text("SELECT dossier FROM packets WHERE packet_id IN :ids")
                                                 .bindparams(sa.bindparam("ids", expanding=True)),
                                                 {"ids": [f"b{n:09d}" for n in range(0, count, 997)]})]
        owned = connection.execute(sa.text("SELECT count(*) FROM dossiers")).scalar_one()
    if not owned:  # seeded before the bench wrote the ownership record: an agency's operator saw no dossier
        with store.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO dossiers (dossier, agency, created_at) SELECT dossier, "
                                       "min(agency), min(received_at) FROM packets WHERE dossier IS NOT NULL "
                                       "GROUP BY dossier"))
    store.close()
    print(f"  reusing a store of {count:,} packets")
    return sample


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def bench_pages(url: str, sample: list[str], rounds: int) -> None:
    base = Config.load()
    config = Config({**base.raw, "store": {"url": url}, "console": {**base.section("console"), "secure_cookie": False}},
                    base.source)
    month = datetime.now(UTC).strftime("%Y-%m")
    for who in ("bench-admin", "bench-op"):
        with TestClient(create_app(config), base_url="http://localhost") as client:
            assert client.post("/console/login", data={"username": who, "password": PASSWORD}).status_code == 200
            own = [d for d in sample if who == "bench-admin" or d.startswith(AGENCIES[0])] or sample
            pages = {"overview (day)": lambda: "/console/?span=day", "overview (week)": lambda: "/console/?span=week",
                     "search by dossier": lambda: f"/console/search?dossier={random.choice(own)}",  # noqa: B023 - each page is fetched in this iteration
                     "search dead, national_portal": lambda: "/console/search?state=dead&destination=national_portal",
                     "dossier timeline": lambda: f"/console/dossier/{random.choice(own)}",  # noqa: B023 - each page is fetched in this iteration
                     "dead letters": lambda: "/console/dead",
                     "report (this month)": lambda: f"/console/reports?start={month}&end={month}",
                     "sync quality (this month)": lambda: f"/console/reports?start={month}&end={month}&quality=1"}
            print(f"  as {who}:")
            for name, path in pages.items():
                for _ in range(2):
                    client.get(path())
                times = []
                for _ in range(rounds):
                    began = time.perf_counter()
                    answer = client.get(path())
                    times.append(time.perf_counter() - began)
                    assert answer.status_code == 200, (name, answer.status_code)
                print(f"    {name:30} {percentiles(times)}")
    store = open_store(url, migrate=False)
    admin = Operator("bench", "admin", ("*",), False)
    times = []
    for _ in range(rounds * 10):
        began = time.perf_counter()
        data.search(store.engine, data.Search(dossier=random.choice(sample)), admin)
        times.append(time.perf_counter() - began)
    print(f"    {'search by dossier (query alone)':30} {percentiles(times)}")
    store.close()


def bench_scrape(url: str, rounds: int) -> None:
    """What one /metrics scrape costs the serving process on this store: its thread's CPU and wall time reading
    the store's figures (``StoreCollector.collect``) — a new process's first scrape (the whole history counted)
    and the scrapes after it (the recent rows only, ``metrics.Tally``). On PostgreSQL the server's own work is
    in the wall time, not the thread's CPU."""
    from gateway.observe.metrics import StoreCollector

    store = open_store(url, migrate=False)

    def scrape(collector: StoreCollector) -> tuple[float, float]:
        began, cpu = time.perf_counter(), time.thread_time()
        list(collector.collect())
        return (time.thread_time() - cpu) * 1000, (time.perf_counter() - began) * 1000

    first = [scrape(StoreCollector(lambda: store.engine)) for _ in range(max(3, rounds // 4))]
    kept = StoreCollector(lambda: store.engine)
    scrape(kept)
    later = [scrape(kept) for _ in range(rounds)]
    for name, runs in (("first scrape of a process", first), ("the scrapes after it", later)):
        cpu, wall = [c for c, _ in runs], [w for _, w in runs]
        print(f"    /metrics, {name:26} CPU median {statistics.median(cpu):7.1f} ms ({min(cpu):.1f}–{max(cpu):.1f}), "
              f"wall {statistics.median(wall):7.1f} ms ({min(wall):.1f}–{max(wall):.1f})")
    store.close()


def bench_metrics_cost(kind: str, count: int, rounds: int, scrape_seconds: float = 15.0) -> None:
    """Metrics off, on with nobody scraping, and on scraped every ``scrape_seconds`` (Prometheus' default is
    15 s), rotated round by round in the same run. The server's own CPU ms per packet is the figure: unlike
    the rate it holds while other work shares the machine; the rate is shown beside it."""
    import delivery_bench as db

    modes = ("off", "on", "scraped")
    print(f"  intake, POST /v1/packets, {count} packets per run, metrics off / on / on and scraped every "
          f"{scrape_seconds:g} s, rotated, {rounds} rounds each:")
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    for n in range(rounds):
        for mode in modes[n % 3:] + modes[:n % 3]:  # none always goes first
            with db.store_url(kind) as url:
                packets_ = db.interleave(db.dossiers(max(1, count // 9)))[:count]
                stop = threading.Event()
                extra = f"[observability]\nmetrics = {'false' if mode == 'off' else 'true'}\n"
                scraper = (threading.Thread(target=_scrape, args=(stop, scrape_seconds), daemon=True)
                           if mode == "scraped" else None)
                if scraper:
                    scraper.start()
                rate, _machine = db.bench_accept_http(url, packets_, config_extra=extra)
                stop.set()
                rates[mode].append(rate)
                cpu[mode].append(db.LAST["server_cpu_ms"])
                print(f"    {mode:7} {rate:8.0f} packets/s   server {cpu[mode][-1]:6.3f} CPU ms/packet", flush=True)
    off = statistics.median(cpu["off"])
    for mode in modes[1:]:
        on = statistics.median(cpu[mode])
        paired = sorted(100 * (a - b) / b for a, b in zip(cpu[mode], cpu["off"]))
        print(f"    server CPU per packet, median {mode} {on:.3f} ms, off {off:.3f} ms: cost {100 * (on - off) / off:+.1f} % "
              f"(round by round {paired[0]:+.1f} … {paired[-1]:+.1f} %, median {statistics.median(paired):+.1f} %)")
        r_on, r_off = statistics.median(rates[mode]), statistics.median(rates["off"])
        print(f"    rate, median {mode} {r_on:.0f}/s, off {r_off:.0f}/s: {100 * (r_off - r_on) / r_off:+.1f} % "
              f"({mode} {min(rates[mode]):.0f}–{max(rates[mode]):.0f}, off {min(rates['off']):.0f}–{max(rates['off']):.0f})")


def bench_metrics_side_by_side(kind: str, count: int, rounds: int, scrape_seconds: float,
                               seeded: Path | None = None) -> None:
    """Metrics off and on (scraped every ``scrape_seconds``) served AT ONCE: two ``gateway serve`` processes,
    each on its own fresh store, 4 + 4 senders posting the same kind of packets to both over the same seconds —
    whatever else the shared machine does falls on both alike, which alternating runs cannot promise. The
    figure: each server's own CPU ms per packet over that window. With ``seeded`` (a SQLite file), each server
    starts on its own copy of it: the scrapes then read a store that size."""
    print(f"  intake{' on copies of ' + seeded.name if seeded else ''}, POST /v1/packets, {count} packets to each of two servers at once (off | on, /metrics scraped "
          f"every {scrape_seconds:g} s), 4 senders each, {rounds} rounds:")
    cost: list[float] = []
    cpu: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        spent = _side_by_side(kind, count, scrape_seconds, seeded)
        for mode in cpu:
            cpu[mode].append(spent[mode])
        cost.append(100 * (spent["on"] - spent["off"]) / spent["off"])
        print(f"    off {spent['off']:6.3f}  on {spent['on']:6.3f} CPU ms/packet: {cost[-1]:+5.1f} %", flush=True)
    print(f"    metrics' cost, server CPU per packet: median {statistics.median(cost):+.1f} % "
          f"(rounds {min(cost):+.1f} … {max(cost):+.1f} %); medians off {statistics.median(cpu['off']):.3f}, "
          f"on {statistics.median(cpu['on']):.3f} ms")


def _side_by_side(kind: str, count: int, scrape_seconds: float, seeded: Path | None) -> dict[str, float]:
    """One round of ``bench_metrics_side_by_side``: {"off"|"on": server CPU ms per packet}."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack
    import secrets

    import delivery_bench as db

    key = secrets.token_hex(16)
    client = f'[clients.bench]\nkey_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
    headers = {"Authorization": f"Bearer {key}"}

    def post(connection: http.client.HTTPConnection, packet: db.Packet) -> None:
        connection.request("POST", "/v1/packets", body=packet.raw,
                           headers={**headers, "Content-Type": packet.content_type})
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 202, body[:300]

    with ExitStack() as stack:
        ports, pids = {}, {}
        for mode in ("off", "on"):
            url = stack.enter_context(db.store_url(kind))
            if seeded:
                shutil.copyfile(seeded, url.removeprefix("sqlite:///"))
            extra = f"{client}[observability]\nmetrics = {'true' if mode == 'on' else 'false'}\n"
            ports[mode] = stack.enter_context(db.serving(url, 1, extra))
            pids[mode] = db.PIDS["server"]
        for port in ports.values():  # each server opens its store on its first packet: start-up, not throughput
            warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            post(warm, db.dossiers(1, steps=0)[0][0])
            warm.close()
        jobs = [(port, lane) for port in ports.values()
                for lane in db.lanes_of(db.interleave(db.dossiers(max(1, count // 9)))[:count], 4)]

        def send(job: tuple[int, list[db.Packet]]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", job[0], timeout=30)
            for packet in job[1]:
                post(connection, packet)
            connection.close()

        # scraped once before the window, as a server in service has been: a process's first scrape counts the
        # store's whole history once (bench_scrape shows that cost apart)
        httpx.get(f"http://127.0.0.1:{ports['on']}/metrics", timeout=120)
        stop = threading.Event()
        SCRAPE["port"] = ports["on"]
        threading.Thread(target=_scrape, args=(stop, scrape_seconds), daemon=True).start()
        before = {mode: db.cpu_seconds(pid) for mode, pid in pids.items()}
        with ThreadPoolExecutor(len(jobs)) as pool:
            list(pool.map(send, jobs))
        stop.set()
        return {mode: (db.cpu_seconds(pid) - before[mode]) * 1000 / count for mode, pid in pids.items()}


SCRAPE: dict[str, int] = {}


def _scrape(stop: threading.Event, seconds: float) -> None:
    """Scrapes /metrics every ``seconds`` while intake runs (the port is published by delivery_bench.serving)."""
    while not stop.wait(seconds):
        port = SCRAPE.get("port")
        if port:
            try:
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
            except httpx.HTTPError:  # between two servers
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--intake", type=int, default=2000, help="packets per intake run (0: skip)")
    parser.add_argument("--intake-rounds", type=int, default=5)
    parser.add_argument("--scrape-seconds", type=float, default=15.0, help="scrape interval in the 'scraped' runs")
    parser.add_argument("--side-by-side", action="store_true",
                        help="metrics off and on served at once (two servers sharing the load) instead of rotated")
    parser.add_argument("--side-by-side-on", help="a seeded SQLite file: both servers start on a copy of it")
    parser.add_argument("--scrape-only", action="store_true", help="with --reuse: the /metrics scrape alone")
    parser.add_argument("--reuse", help="a store seeded by an earlier run (pages only): a SQLite file, or "
                                           "postgres:SCHEMA")
    parser.add_argument("--seed-to", help="seed --packets into this store, kept for --reuse, and stop: a SQLite "
                                          "file, or postgres:SCHEMA (a new schema of the bench database)")
    parser.add_argument("--drop", help="drop postgres:SCHEMA (a store seeded by --seed-to) and stop")
    args = parser.parse_args()
    if args.drop:
        with psycopg.connect(POSTGRES, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{_schema(args.drop)}" CASCADE')
        return
    if args.seed_to:
        if args.seed_to.startswith("postgres:"):
            with psycopg.connect(POSTGRES, autocommit=True) as c:
                c.execute(f'CREATE SCHEMA "{_schema(args.seed_to)}"')
        seed(kept_url(args.seed_to), args.packets, datetime.now(UTC))
        return
    import delivery_bench as db

    original = db.serving

    def serving(url, workers, config_extra=""):
        with original(url, workers, config_extra) as port:
            SCRAPE["port"] = port
            yield port
            SCRAPE.pop("port", None)

    db.serving = db.contextmanager(serving)
    if args.side_by_side_on:
        bench_metrics_side_by_side("sqlite", args.intake, args.intake_rounds, args.scrape_seconds,
                                   Path(args.side_by_side_on).resolve())
        return
    if args.reuse:
        url = kept_url(args.reuse)
        if args.scrape_only:
            bench_scrape(url, args.rounds)
            return
        sample = reused_sample(url)
        bench_accounts(url)
        bench_pages(url, sample, args.rounds)
        bench_scrape(url, args.rounds)
        return
    for kind in args.stores.split(","):
        print(f"== {kind}")
        if args.packets:
            with db.store_url(kind) as url:
                sample = seed(url, args.packets, datetime.now(UTC))
                bench_accounts(url)
                bench_pages(url, sample, args.rounds)
                bench_scrape(url, args.rounds)
        if args.intake:
            if args.side_by_side:
                bench_metrics_side_by_side(kind, args.intake, args.intake_rounds, args.scrape_seconds)
            else:
                bench_metrics_cost(kind, args.intake, args.intake_rounds, args.scrape_seconds)


if __name__ == "__main__":
    main()
