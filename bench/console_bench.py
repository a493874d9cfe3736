"""Console benchmark: page render times on a large seeded store, search by dossier code, and the cost of
/metrics on intake throughput (on vs off, same run).

    .venv/bin/python bench/console_bench.py --packets 1000000          # [--stores sqlite,postgres] [--rounds 20]
    .venv/bin/python bench/console_bench.py --packets 0 --intake 3000  # metrics on vs off only
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
[observability] metrics on (timed requests, /metrics scraped every 5 s) and off, alternated.
"""

import argparse
import dataclasses
from datetime import UTC, datetime, timedelta
import functools
import hashlib
import json
from pathlib import Path
import random
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


def bench_metrics_cost(kind: str, count: int, rounds: int) -> None:
    """On vs off alternated in the same run. The server's own CPU ms per packet is the figure: unlike the rate
    it holds while other work shares the machine; the rate is shown beside it."""
    import delivery_bench as db

    print(f"  intake, POST /v1/packets, {count} packets per run, metrics on/off alternated, {rounds} rounds each:")
    rates: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    for n in range(rounds):
        for mode in (("off", "on") if n % 2 == 0 else ("on", "off")):  # neither always goes first
            with db.store_url(kind) as url:
                packets_ = db.interleave(db.dossiers(max(1, count // 9)))[:count]
                stop = threading.Event()
                extra = f"[observability]\nmetrics = {'true' if mode == 'on' else 'false'}\n"
                scraper = threading.Thread(target=_scrape, args=(stop,), daemon=True) if mode == "on" else None
                if scraper:
                    scraper.start()
                rate, _machine = db.bench_accept_http(url, packets_, config_extra=extra)
                stop.set()
                rates[mode].append(rate)
                cpu[mode].append(db.LAST["server_cpu_ms"])
                print(f"    {mode:3} {rate:8.0f} packets/s   server {cpu[mode][-1]:6.3f} CPU ms/packet")
    on, off = statistics.median(cpu["on"]), statistics.median(cpu["off"])
    paired = sorted(100 * (a - b) / b for a, b in zip(cpu["on"], cpu["off"]))
    print(f"    server CPU per packet, median on {on:.3f} ms, off {off:.3f} ms: cost {100 * (on - off) / off:+.1f} % "
          f"(round by round {paired[0]:+.1f} … {paired[-1]:+.1f} %, median {statistics.median(paired):+.1f} %)")
    r_on, r_off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"    rate, median on {r_on:.0f}/s, off {r_off:.0f}/s: {100 * (r_off - r_on) / r_off:+.1f} % "
          f"(on {min(rates['on']):.0f}–{max(rates['on']):.0f}, off {min(rates['off']):.0f}–{max(rates['off']):.0f})")


SCRAPE: dict[str, int] = {}


def _scrape(stop: threading.Event) -> None:
    """Scrapes /metrics every 5 s while intake runs (the port is published by delivery_bench.serving)."""
    while not stop.wait(5):
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
    if args.reuse:
        url = kept_url(args.reuse)
        sample = reused_sample(url)
        bench_accounts(url)
        bench_pages(url, sample, args.rounds)
        return
    for kind in args.stores.split(","):
        print(f"== {kind}")
        if args.packets:
            with db.store_url(kind) as url:
                sample = seed(url, args.packets, datetime.now(UTC))
                bench_accounts(url)
                bench_pages(url, sample, args.rounds)
        if args.intake:
            bench_metrics_cost(kind, args.intake, args.intake_rounds)


if __name__ == "__main__":
    main()
