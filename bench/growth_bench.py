"""Growth: what a packet costs as the store fills — accept, claim (+ complete), search by dossier, purge — and
the store's size per packet, at 10 → 100,000 stored packets (``--full``: → 1,000,000).

    .venv/bin/python bench/growth_bench.py                 # SQLite, 10 → 100,000
    .venv/bin/python bench/growth_bench.py --stores sqlite,postgres --full
    .venv/bin/python bench/growth_bench.py --stores postgres --full --fast-fill   # bulk fill, see below

The store is filled the way it would be in service: packets accepted (10 per dossier) and delivered (claimed
and completed). With ``--fast-fill``, a fill of 10,000 packets or more is written straight into the tables by
console_bench's ``seed()`` instead (the rows the accept and deliver paths write: packets, jobs, attempts, dossier
ownership, the chained audit, each dossier's kept path; every job delivered) — minutes instead of an hour at 1 M.
At each level a fresh sample of 200 packets (20 dossiers) is timed through each step: wall ms and this
process's CPU ms per item (on PostgreSQL the server's own CPU is not in it).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
import random
import sys
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import delivery_bench as db
from gateway.store import AttemptRecord, Store, open_store

QUICK_LEVELS = [10, 1_000, 10_000, 100_000]
FULL_LEVELS = [*QUICK_LEVELS, 1_000_000]
SAMPLE_DOSSIERS = 20


def deliver_all(store: Store) -> int:
    """Claims and completes every claimable job, as the engine would; how many."""
    done = 0
    while True:
        batches = store.claim(db.DEST, "growth", limit=200, max_batch=10, lease_seconds=60)
        if not batches:
            return done
        now = datetime.now(UTC)
        jobs = [job for batch in batches for job in batch]
        store.complete_each([(j.job_id, AttemptRecord(now, 1, "delivered", "200")) for j in jobs],
                            [j.holder for j in jobs])
        done += len(jobs)


def fill(store: Store, count: int) -> None:
    """``count`` more packets, accepted 500 per transaction, then delivered."""
    while count > 0:
        packets = db.interleave(db.dossiers(max(1, min(count, 5000) // 10)))[:count]
        for start in range(0, len(packets), 500):
            store.accept_many([(p.stored(), [db.DEST]) for p in packets[start:start + 500]])
        deliver_all(store)
        count -= len(packets)


def size_bytes(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(db.POSTGRES, autocommit=True) as c:
        row = c.execute("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'm')", (schema,)).fetchone()
    return int(row[0])


def per(step: Callable[[], int]) -> tuple[float, float]:
    """Wall ms and this process's CPU ms per item of ``step`` (which returns how many items it handled)."""
    began, cpu = time.perf_counter(), time.process_time()
    items = step()
    return ((time.perf_counter() - began) * 1000 / max(1, items),
            (time.process_time() - cpu) * 1000 / max(1, items))


def level(store: Store, url: str, stored: int) -> dict[str, float]:
    groups = db.dossiers(SAMPLE_DOSSIERS)
    sample = db.interleave(groups)
    codes = [g[0].dossier for g in groups]
    out = {"stored": float(stored), "bytes per packet": size_bytes(url) / max(1, stored)}

    def accept() -> int:
        for start in range(0, len(sample), 32):
            store.accept_many([(p.stored(), [db.DEST]) for p in sample[start:start + 32]])
        return len(sample)

    out["accept ms"], out["accept CPU ms"] = per(accept)
    out["claim+complete ms"], out["claim+complete CPU ms"] = per(lambda: deliver_all(store))

    def search() -> int:
        for code in random.sample(codes, len(codes)):
            assert len(store.dossier_packets(code)) == 10
        return len(codes)

    out["search ms"], out["search CPU ms"] = per(search)
    out["purge ms"], out["purge CPU ms"] = per(
        lambda: sum(store.purge_dossier(code, "growth-bench") for code in codes))
    return out


def grow(kind: str, levels: list[int], fast_fill: bool = False) -> list[dict[str, float]]:
    rows = []
    with db.store_url(kind) as url:
        store, stored, seeded = open_store(url), 0, 0
        for target in levels:
            if target > stored:
                began, cpu = time.perf_counter(), time.process_time()
                if fast_fill and target - stored >= 10_000:
                    import console_bench

                    console_bench.seed(url, target - stored, datetime.now(UTC), first=seeded, delivered_only=True,
                                       like=db.dossiers(1)[0][0].stored())  # a real packet's content
                    seeded += target - stored
                else:
                    fill(store, target - stored)
                print(f"  {kind} filled {stored:,} → {target:,} in {time.perf_counter() - began:.0f} s "
                      f"({time.process_time() - cpu:.0f} s CPU here){' (bulk)' if fast_fill and target - stored >= 10_000 else ''}",
                      flush=True)
                stored = target
            row = level(store, url, stored)
            stored += SAMPLE_DOSSIERS * 10
            rows.append(row)
            print(f"  {kind} {int(row['stored']):>9}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()
                                                                  if k != "stored"), flush=True)
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--full", action="store_true", help="up to 1,000,000 stored packets")
    parser.add_argument("--fast-fill", action="store_true", help="fills of 10,000 packets or more written in bulk")
    parser.add_argument("--json", help="also write the figures here (bench/report.py --growth-from reads them)")
    args = parser.parse_args()
    grown: dict[str, object] = {"command": " ".join(["bench/growth_bench.py", *sys.argv[1:]]),
                                "load before": os.getloadavg()}
    for kind in args.stores.split(","):
        grown[kind] = grow(kind, FULL_LEVELS if args.full else QUICK_LEVELS, args.fast_fill)
        grown[f"load after {kind}"] = os.getloadavg()
        if args.json:  # written after each store: a long run keeps what it measured
            Path(args.json).write_text(json.dumps(grown, indent=1))


if __name__ == "__main__":
    main()
