"""Store-level delivery bookkeeping, side by side in one run: claim batches of one dossier and
settle them — per job with durable commits, per job with relaxed commits (the default), and
per batch (complete_many). No HTTP: this is the store's share of a delivery's cost. Then one
claim's own time: 50 claims of 4 heads each, one after the other (its round trips, on PostgreSQL).

    .venv/bin/python bench/store_bench.py [--jobs 6000] [--skip-postgres] [--claims-only]
"""

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
import hashlib
import os
from pathlib import Path
import tempfile
import time
import uuid

import psycopg

from gateway.store import AttemptRecord, NewPacket
from gateway.store.sql import SqlStore


def fill(store: SqlStore, count: int) -> None:
    now = datetime.now(UTC)
    items = []
    for n in range(count):
        packet_id = str(uuid.uuid4())
        raw = f"<GoiTin><MaGoiTin>{packet_id}</MaGoiTin></GoiTin>".encode()
        items.append((NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "xml", "bench", now, "TienDoXuLy",
                                f"000.00.01.H22-241201-{n % 500:04d}"), ["national_portal"]))
    for start in range(0, count, 500):
        store.accept_many(items[start:start + 500])


def drain(store: SqlStore, per_batch: bool) -> float:
    done, started = 0, time.perf_counter()
    while batches := store.claim("national_portal", "bench", limit=50, max_batch=10, lease_seconds=60,
                                 now=datetime.now(UTC)):
        for batch in batches:
            attempt = AttemptRecord(datetime.now(UTC), 1, "delivered", "200")
            if per_batch:
                done += sum(store.complete_many([job.job_id for job in batch], "bench", attempt))
            else:
                done += sum(store.complete(job.job_id, "bench", attempt) for job in batch)
    return done / (time.perf_counter() - started)


def claim_ms(store: SqlStore, max_batch: int, claims: int = 50) -> float:
    """Milliseconds per claim of 4 heads, claims made one after the other (``fill`` gave every dossier
    a job, so each head stands alone: max_batch > 1 adds the followers' read and finds none)."""
    store.claim("national_portal", "bench", limit=1, max_batch=1, lease_seconds=60, now=datetime.now(UTC))  # warm pool
    started = time.perf_counter()
    for _ in range(claims):
        assert store.claim("national_portal", "bench", limit=4, max_batch=max_batch, lease_seconds=60,
                           now=datetime.now(UTC))
    return (time.perf_counter() - started) * 1000 / claims


@contextmanager
def fresh_store(backend: str, folder: str, postgres: str, relaxed: bool) -> Iterator[SqlStore]:
    """A store of its own: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        url = f"sqlite:///{Path(folder) / (schema + '.db')}"
    else:
        with psycopg.connect(postgres, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{postgres}?options=-csearch_path%3D{schema}"
    store = SqlStore(url, relaxed_bookkeeping=relaxed)
    try:
        yield store
    finally:
        store.close()
        if backend != "sqlite":
            with psycopg.connect(postgres, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=6000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--claims-only", action="store_true", help="only the time of one claim")
    args = parser.parse_args()
    pg = os.environ.get("GATEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    if not args.claims_only:
        print(f"{args.jobs} jobs over 500 dossiers; claim limit 50 batches of up to 10; jobs/s\n")
        print(f"{'store':12} {'per job, durable':>18} {'per job, relaxed':>18} {'per batch, relaxed':>20}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ["sqlite"] + ([] if args.skip_postgres else ["postgresql"]):
            if not args.claims_only:
                rates = []
                for relaxed, per_batch in ((False, False), (True, False), (True, True)):
                    with fresh_store(backend, tmp, pg, relaxed) as store:
                        fill(store, args.jobs)
                        rates.append(drain(store, per_batch))
                print(f"{backend:12} {rates[0]:16.0f}/s {rates[1]:16.0f}/s {rates[2]:18.0f}/s"
                      f"   ({rates[1] / rates[0]:.1f}x, {rates[2] / rates[0]:.1f}x)")
            with fresh_store(backend, tmp, pg, relaxed=True) as store:
                fill(store, 500)
                alone, followed = claim_ms(store, 1), claim_ms(store, 10)
            print(f"{backend:12} one claim of 4 heads: {alone:.2f} ms, {followed:.2f} ms with max_batch 10")


if __name__ == "__main__":
    main()
