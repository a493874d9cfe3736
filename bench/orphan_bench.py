"""One poison dossier against everyone else's delivery to the national portal (issue 13).

A steady stream of dossiers (a HoSo and two steps each, ``--rate`` dossiers/s for ``--seconds``) is
accepted into a fresh SQLite store (a connection of its own, as the API process) while the delivery engine (in this process, the embedded defaults:
concurrency 8, batches of 10, breaker after 5 failures) carries it to the simulated portal (its own
process). Side by side, in alternating runs: the same stream alone, and the same stream with ONE
progress step queued first for a dossier the portal does not have (held for that dossier, retried
with backoff). Reported: accept→delivered per job of the other dossiers, p50 / p99 / max, as medians
and ranges over ``--runs`` runs of each; the orphan's attempts and the breaker's state at the end.

    .venv/bin/python bench/orphan_bench.py [--rate 50] [--seconds 6] [--runs 3]
"""

import argparse
from datetime import UTC, datetime
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal_drain_bench import CREDENTIALS, DEST, free_port, simulator

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.mapping import Mapping
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.deliver.engine import Engine
from gateway.deliver.policy import policy_from
from gateway.deliver.traffic import Packet, Traffic
from gateway.store import JobFilter, JobState, open_store

ORPHAN = "000.00.01.H22-241201-KHONGCO"


def orphan_step(traffic: Traffic) -> Packet:
    step = traffic.dossier(999_999, 2, prefix="999999")[1]
    data = json.loads(step.raw)
    data["NoiDung"]["TienDoXuLy"]["MaHoSo"] = ORPHAN
    return Packet(step.packet_id, ORPHAN, "TienDoXuLy", "json", json.dumps(data, ensure_ascii=False).encode())


def one_run(url: str, folder: Path, n: int, orphan: bool, rate: float, seconds: float) -> dict[str, float]:
    store = open_store(f"sqlite:///{folder}/store-{n}-{int(orphan)}.db")
    intake = open_store(f"sqlite:///{folder}/store-{n}-{int(orphan)}.db", migrate=False)  # as the API's own
    traffic = Traffic(seed=n)
    if orphan:
        intake.accept(orphan_step(traffic).stored(), [DEST])
    settings = PortalSettings(adapter_url=url, username=CREDENTIALS["GATEWAY_PORTAL_USERNAME"],
                              password=CREDENTIALS["GATEWAY_PORTAL_PASSWORD"])
    connector = NationalPortalConnector(ClassicClient(settings, Transformer(Mapping(), settings.field_limits)),
                                        SyncLedger(f"sqlite:///{folder}/ledger-{n}-{int(orphan)}.db"))
    engine = Engine(store, {DEST: policy_from(DEST, {"url": url})}, connectors={DEST: connector}).start()
    total, began = int(rate * seconds), time.perf_counter()
    try:
        for number in range(total):  # paced: dossier ``number`` is accepted at began + number / rate
            time.sleep(max(0.0, began + number / rate - time.perf_counter()))
            intake.accept_many([(p.stored(), [DEST]) for p in traffic.dossier(n * 100_000 + number, 2)])
        others = JobFilter(destination=DEST, state=JobState.DELIVERED, limit=10 * total)
        while len(store.find_jobs(others)) < 3 * total:
            time.sleep(0.1)
    finally:
        engine.stop()
    waits = sorted((j.delivered_at - j.created_at).total_seconds() * 1000 for j in store.find_jobs(others)
                   if j.delivered_at and j.dossier != ORPHAN)
    held = store.find_jobs(JobFilter(destination=DEST, dossier=ORPHAN))
    state = store.destination_state(DEST).breaker_state or "closed"
    store.close()
    intake.close()
    return {"p50": statistics.median(waits), "p99": waits[int(0.99 * (len(waits) - 1))], "max": waits[-1],
            "orphan_attempts": held[0].attempts if held else 0, "breaker_open": float(state != "closed")}


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="dossiers accepted per second")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp, simulator(free_port(), Path(tmp) / "simulator.log") as admin:
        url = str(admin.base_url).rstrip("/")
        for n in range(args.runs):
            for orphan in (False, True):  # alternating, so the machine's load falls on both alike
                admin.post("/_admin/reset")
                results[orphan].append(one_run(url, Path(tmp), n, orphan, args.rate, args.seconds))
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.rate:g} dossiers/s × {args.seconds:g} s "
          f"(3 jobs each), {args.runs} runs each; accept→delivered of the other dossiers' jobs, ms, "
          "median (range) over runs")
    print("| | p50 | p99 | max | orphan's attempts | breaker opened |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for orphan, label in ((False, "no orphan"), (True, "one orphan step queued first")):
        rows = results[orphan]
        print(f"| {label} | {summary([r['p50'] for r in rows])} | {summary([r['p99'] for r in rows])} | "
              f"{summary([r['max'] for r in rows])} | {summary([r['orphan_attempts'] for r in rows])} | "
              f"{int(sum(r['breaker_open'] for r in rows))} of {len(rows)} |")


if __name__ == "__main__":
    main()
