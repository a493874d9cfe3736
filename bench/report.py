"""One command, the key figures side by side: writes bench/REPORT.md and its plots (bench/report/*.png).

    .venv/bin/pip install -e '.[bench]'          # matplotlib
    .venv/bin/python bench/report.py --quick     # a few minutes; without --quick: more packets, more rounds

Every figure is the median of repeated runs with its range, next to its ceiling or peer measured in the same
run: the stage costs of a ~5 KB packet and their sum (the per-core limit); POST /v1/packets against the bare
HTTP stack (bench/bare_app.py); ordered delivery against the destination's own capacity; accept→delivered
latency at a steady offered load; a backlog drained against the destination's rate limit (a curve).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import datetime as dt
import json
import os
from pathlib import Path
import platform
import sqlite3
import statistics
import sys
import tempfile
import time

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import delivery_bench as db
import growth_bench
import hot_bench
import memory_bench
import peers_bench
import validate_bench as vb
from gateway.config import Config
from gateway.deliver.engine import Engine
from gateway.store import JobFilter, JobState, open_store
from gateway.validate.pipeline import Validator

PLOTS = HERE / "report"


@dataclass
class Figure:
    """One measured quantity over repeated runs."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def cell(self, digits: int = 0) -> str:
        if not self.values:
            return "—"
        return (f"{self.median:,.{digits}f} ({min(self.values):,.{digits}f}–{max(self.values):,.{digits}f})"
                .replace(",", " "))


def machine() -> list[str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return [f"- CPU: {model}, {os.cpu_count()} logical CPUs; memory {int(memory) / 1024 / 1024:.1f} GiB",
            f"- {platform.system()} {platform.release()}; Python {platform.python_version()}; "
            f"SQLite {sqlite3.sqlite_version}",
            f"- load average when the run began: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
            "(the machine is shared: rates move with its load, CPU per packet much less)"]


# --- 1. stage costs --------------------------------------------------------------------------

def cpu_ms(function: Callable[[], object], seconds: float) -> float:
    """CPU ms per call of ``function`` on this thread (time.thread_time): on a shared machine the wall
    clock measures the neighbours too, a thread's CPU time much less."""
    function()
    calls, began, wall = 0, time.thread_time(), time.perf_counter()
    while time.perf_counter() - wall < seconds or calls < 20:
        function()
        calls += 1
    return (time.thread_time() - began) * 1000 / calls


def stage_costs(rounds: int, seconds: float, store_packets: int) -> dict[str, Figure]:
    """CPU ms per ~5 KB XML HoSo: parse, schema, semantic rules (validate_bench's stages), XML signature
    verification (the gateway's verify_xml, warm chain cache), the store's commit per packet (SQLite, 32
    packets per durable transaction: this process's CPU; the fsync's wait is not CPU) — ``rounds`` times,
    the stages interleaved."""
    from signing.xml_sign import sign_xml
    from signing.xmldsig import verify_xml
    from tests.signing.pki import TestPKI

    xml, _, _ = vb.packets()
    validator = Validator(Config.load())
    steps = vb.stages(validator, xml, "xml")
    figures = {name: Figure(name, "ms") for name in ("parse", "schema", "semantic", "signature", "store commit")}
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPKI.create(Path(tmp))
        policy, signed = pki.policy(), sign_xml(xml, pki.signer())
        rows: dict[str, Callable[[], object]] = {
            "parse": steps["parse"], "schema": steps["schema"],
            "semantic": lambda: (steps["text"](), steps["semantic"]()),
            "signature": lambda: verify_xml(signed, policy)}
        for _ in range(rounds):
            for name, function in rows.items():
                figures[name].values.append(cpu_ms(function, seconds))
            with db.store_url("sqlite") as url:
                _, cpu = db.bench_accept_store(url, db.interleave(db.dossiers(max(1, store_packets // 10))), 32)
            figures["store commit"].values.append(cpu)
    return figures


def whole_intake(rounds: int, packets: int) -> tuple[Figure, Figure]:
    """The whole intake in-process (PacketIntake.receive, 8 threads, SQLite): packets/s and CPU ms per packet."""
    rate, cpu = Figure("in-process intake", "packets/s"), Figure("in-process intake CPU", "ms")
    for _ in range(rounds):
        with db.store_url("sqlite") as url:
            r, c = db.bench_accept_intake(url, db.interleave(db.dossiers(max(1, packets // 10))))
        rate.values.append(r)
        cpu.values.append(c)
    return rate, cpu


# --- 3. delivery -----------------------------------------------------------------------------

def delivery(base: str, rounds: int, packets: int) -> dict[str, Figure]:
    figures = {"peer": Figure("the peer alone, one packet per call", "calls/s"),
               "batch 1": Figure("ordered, concurrency 8, one packet per call", "jobs/s"),
               "batch 10": Figure("ordered, concurrency 8, up to 10 per call", "jobs/s")}
    for _ in range(rounds):
        figures["peer"].values.append(db.bench_peer(base, db.interleave(db.dossiers(max(1, packets // 10)))))
        for batch in (1, 10):
            with db.store_url("sqlite") as url:
                rate, order = db.bench_deliver(url, base, db.interleave(db.dossiers(max(1, packets // 10))),
                                               max_batch=batch)
            assert order == "order exact", order
            figures[f"batch {batch}"].values.append(rate)
    return figures


def latency(base: str, rounds: int, rate: float, seconds: float) -> dict[str, Figure]:
    figures = {"achieved": Figure("achieved", "packets/s"), "p50": Figure("p50", "ms"), "p99": Figure("p99", "ms")}
    for _ in range(rounds):
        with db.store_url("sqlite") as url:
            achieved, p50, p99, _, _ = db.bench_latency(url, base, rate, seconds, 1)
        figures["achieved"].values.append(achieved)
        figures["p50"].values.append(p50)
        figures["p99"].values.append(p99)
    return figures


def drain(base: str, backlog: int, limit: float) -> list[tuple[float, int]]:
    """A backlog (stored while the destination was away) drained against its rate limit: (seconds, delivered)."""
    packets = db.interleave(db.dossiers(max(1, backlog // 10)))
    with db.store_url("sqlite") as url:
        db.preload(url, packets)
        store = open_store(url, migrate=False)
        engine = Engine(store, {db.DEST: db.policy(base, rate_per_second=limit, burst=max(1, int(limit / 10)),
                                                   max_batch=1)}, poll_seconds=0.01)
        done, curve = JobFilter(destination=db.DEST, state=JobState.DELIVERED), [(0.0, 0)]
        began = time.perf_counter()
        engine.start()
        while curve[-1][1] < len(packets) and curve[-1][0] < 600:
            time.sleep(0.25)
            curve.append((time.perf_counter() - began, store.count_jobs(done)))
        engine.stop()
        store.close()
    return curve



# --- 4. peers on the same PostgreSQL ---------------------------------------------------------

PEER_NAMES = {("gateway", "deliver"): "cổng kết nối: deliver, ordered per dossier",
              ("pgqueuer", "deliver"): "PgQueuer: deliver (no per-dossier order)",
              ("procrastinate", "deliver"): "procrastinate: deliver, lock = dossier",
              ("pgqueuer", "noop"): "PgQueuer: no-op job (its own benchmark)",
              ("procrastinate", "noop"): "procrastinate: no-op job, lock = dossier"}


def peers(base: str, rounds: int, jobs: int) -> dict[tuple[str, str], dict[str, Figure]]:
    raw = peers_bench.measure(base, rounds, jobs)
    return {case: {"rate": Figure(PEER_NAMES[case], "jobs/s", r["rate"]),
                   "enqueue": Figure(PEER_NAMES[case], "jobs/s", r["enqueue"]),
                   "order": Figure("order", "runs", r["order"])} for case, r in raw.items()}


def order_cell(f: Figure) -> str:
    if not f.values:
        return "— (no destination)"
    exact = int(sum(f.values))
    return f"exact in {exact} of {len(f.values)} runs" if exact == len(f.values) else f"**broken in {len(f.values) - exact} of {len(f.values)} runs**"


# --- 5. memory -------------------------------------------------------------------------------

def memory(rounds: int, jobs: int) -> dict[str, dict[str, Figure]]:
    raw = memory_bench.measure(jobs, rounds)
    return {process: {k: Figure(k, "MiB", v) for k, v in figures.items()} for process, figures in raw.items()}


def growth_plot(path: Path, grown: dict[str, list[dict[str, float]]]) -> None:
    """Growth with the store: each store's line style (SQLite solid, PostgreSQL dashed), one colour per step."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, rows in grown.items():
        x, style = [r["stored"] for r in rows], "o-" if kind == "sqlite" else "s--"
        for key, colour in (("accept ms", "#4878a8"), ("claim+complete ms", "#48a878"), ("search ms", "#c08030"),
                            ("purge ms", "#c03030")):
            left.plot(x, [r[key] for r in rows], style, color=colour, label=f"{kind}: {key.replace(' ms', '')}")
        right.plot(x, [r["bytes per packet"] / 1024 for r in rows], style, color="#4878a8", label=kind)
    left.set(xscale="log", yscale="log", xlabel="packets stored", ylabel="wall ms per packet (search: per dossier)",
             title="growth with the store: cost per operation")
    left.legend(fontsize=7)
    right.set(xscale="log", xlabel="packets stored", ylabel="KiB per stored packet", title="store size per packet")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

# --- plots -----------------------------------------------------------------------------------

def bars(path: Path, title: str, unit: str, figures: list[Figure], reference: float | None = None,
         reference_label: str = "") -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    names = [f.name for f in figures]
    medians = [f.median for f in figures]
    low = [f.median - min(f.values) for f in figures]
    high = [max(f.values) - f.median for f in figures]
    ax.barh(names, medians, xerr=[low, high], color="#4878a8", capsize=4)
    if reference is not None:
        ax.axvline(reference, color="#c03030", linestyle="--", label=reference_label)
        ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rounds_plot(path: Path, runs: dict[str, list[float]]) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    x = range(1, len(runs["bare"]) + 1)
    for name, colour in (("bare", "#c03030"), ("intake", "#4878a8")):
        left.plot(x, runs[name], "o-", color=colour, label=name)
        right.plot(x, runs[f"{name} server CPU ms"], "o-", color=colour, label=name)
    left.set(title="requests/s, round by round", xlabel="round", ylabel="requests/s")
    right.set(title="server CPU per request", xlabel="round", ylabel="ms", yscale="log")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def drain_plot(path: Path, curve: list[tuple[float, int]], limit: float) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot([t for t, _ in curve], [n for _, n in curve], color="#4878a8", label="delivered")
    end = curve[-1][0]
    ax.plot([0, end], [0, limit * end], color="#c03030", linestyle="--", label=f"rate limit {limit:g}/s")
    ax.set(xlabel="seconds since the destination came back", ylabel="packets delivered",
           title=f"Draining a backlog of {curve[-1][1]} packets")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the report ------------------------------------------------------------------------------

def _cpu(row: dict[str, float], step: str) -> str:
    """``wall (CPU)`` ms of a growth step; rows measured before the CPU was kept show the wall alone."""
    cpu = row.get(f"{step} CPU ms")
    return f"{row[f'{step} ms']:.3f}" + (f" ({cpu:.3f})" if cpu is not None else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer packets and rounds: a few minutes")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tiny sizes: checks the script runs
    parser.add_argument("--full-growth", action="store_true", help="the growth section up to 1,000,000 stored packets")
    parser.add_argument("--growth-stores", default="sqlite", help="stores of the growth section (sqlite,postgres)")
    parser.add_argument("--growth-fast-fill", action="store_true", help="growth fills of 10,000+ packets in bulk")
    parser.add_argument("--growth-from", help="the growth section from `growth_bench.py --json FILE` (not run again)")
    args = parser.parse_args()
    quick = args.quick
    rounds = 3 if quick else 5
    packets = 1000 if quick else 4000
    rate, seconds = (300.0, 5.0) if quick else (500.0, 10.0)
    backlog, limit = (2000, 200.0) if quick else (20000, 500.0)
    if args.smoke:
        rounds, packets, rate, seconds, backlog = 1, 100, 100.0, 1.0, 100
    PLOTS.mkdir(exist_ok=True)
    began = time.time()
    header = machine()

    print("stage costs…")
    stages = stage_costs(rounds, 0.3 if quick else 1.0, packets)
    stage_sum = Figure("sum", "ms", [sum(v) for v in zip(*(f.values for f in stages.values()))])
    intake_rate, intake_cpu = whole_intake(rounds, packets)
    print("HTTP intake against the bare stack…")
    http = hot_bench.rounds(rounds, packets, None)
    bare, over_http = Figure("bare", "/s", http["bare"]), Figure("POST /v1/packets", "/s", http["intake"])
    bare_cpu = Figure("bare CPU", "ms", http["bare server CPU ms"])
    http_cpu = Figure("intake CPU", "ms", http["intake server CPU ms"])
    ratio = Figure("ratio", "%", [100 * i / b for i, b in zip(http["intake"], http["bare"])])
    with db.peer() as base:
        print("delivery…")
        deliver = delivery(base, rounds, packets)
        print("latency…")
        lat = latency(base, rounds, rate, seconds)
        print("drain…")
        curve = drain(base, backlog, limit)
        print("peers on the same PostgreSQL…")
        peer_jobs = 50 if args.smoke else 300 if quick else 1000
        peer = peers(base, rounds, peer_jobs)
    print("memory…")
    mem = memory(1 if quick else 3, packets)
    print("growth…")
    levels = [10, 300] if args.smoke else growth_bench.FULL_LEVELS if args.full_growth else growth_bench.QUICK_LEVELS
    if args.growth_from:
        saved = json.loads(Path(args.growth_from).read_text())
        grown = {k: v for k, v in saved.items() if k in ("sqlite", "postgres")}
        growth_how = f"measured earlier by `{saved['command']}` (load before {saved['load before']})"
    else:
        grown = {kind: growth_bench.grow(kind, levels, args.growth_fast_fill) for kind in args.growth_stores.split(",")}
        growth_how = "measured in this run"

    bars(PLOTS / "stages.png", "Stage costs per ~5 KB signed XML packet (median, range)", "ms per packet",
         list(stages.values()) + [stage_sum, intake_cpu])
    rounds_plot(PLOTS / "http.png", http)
    bars(PLOTS / "delivery.png", "Ordered delivery, SQLite (median, range)", "per second",
         [deliver["batch 1"], deliver["batch 10"]], deliver["peer"].median, "the peer alone (one per call)")
    bars(PLOTS / "latency.png", f"accept→delivered at {rate:g}/s offered, one worker", "ms", [lat["p50"], lat["p99"]])
    drain_plot(PLOTS / "drain.png", curve, limit)
    bars(PLOTS / "peers.png", f"Same PostgreSQL, same {peer_jobs} packets, concurrency 8 (median, range)", "jobs/s",
         [f["rate"] for f in peer.values()])
    bars(PLOTS / "memory.png", "Peak RSS (MiB), process and children", "MiB",
         [Figure(f"{process}: {k}", "MiB", f.values) for process in ("serve", "worker") for k, f in mem[process].items()])
    growth_plot(PLOTS / "growth.png", grown)
    commit_ms = peers_bench.commit_ms()

    drained = curve[-1][0]
    command = f".venv/bin/python bench/report.py{' --quick' if quick else ''}"
    lines = [
        "# Benchmark report", "",
        f"Written by `{command}` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC in {(time.time() - began) / 60:.1f} "
        f"min. Every figure: median of {rounds} runs (range in brackets), next to its ceiling or peer measured in "
        "the same run. SQLite store; the destination is the local no-op peer (demo.testpeer) in its own process.",
        "", "## Machine", "", *header, "",
        "## 1. Stage costs per packet and the per-core limit", "",
        "A ~5 KB `HoSo` (examples/HoSo.xml) signed with the test PKI; each stage alone, in-process, its CPU "
        "time (bench/validate_bench.py's stages, signing.xmldsig.verify_xml, the store's `accept_many` of 32 "
        "packets per durable transaction). The receipt (signing it) is not in the sum yet.", "",
        "| stage | CPU ms per packet |", "|---|---|",
        *(f"| {f.name} | {f.cell(3)} |" for f in stages.values()),
        f"| **sum: the per-core limit** | **{stage_sum.cell(3)}** → {1000 / stage_sum.median:,.0f} packets/s per core |",
        f"| the whole intake in-process (JSON packets, unsigned, 8 threads: CPU per packet) | {intake_cpu.cell(3)} "
        f"→ {intake_rate.cell()} packets/s |", "",
        "![stage costs](report/stages.png)", "",
        "## 2. Intake over HTTP against the bare HTTP stack", "",
        "One packet per request (~0.5–4 KB JSON), 8 kept-alive senders (http.client) on the same machine, one "
        "server process, SQLite. The ceiling: uvicorn + httptools + uvloop with an app that reads the body and "
        "answers 202 (bench/bare_app.py), alternating round by round with `gateway serve` (bench/hot_bench.py).", "",
        "| | requests/s | server CPU ms per request |", "|---|---|---|",
        f"| bare stack (the ceiling) | {bare.cell()} | {bare_cpu.cell(3)} |",
        f"| POST /v1/packets | {over_http.cell()} | {http_cpu.cell(3)} |",
        f"| intake / ceiling | {ratio.cell()} % | CPU-bound limit {100 * bare_cpu.median / http_cpu.median:.0f} % |",
        "",
        f"The server spends {http_cpu.median / bare_cpu.median:.0f}× the bare stack's CPU per packet; "
        f"50 % of the ceiling would need ≤ {2 * bare_cpu.median:.2f} ms per packet, less than parsing and "
        f"validating a packet costs alone (section 1). Of the {http_cpu.median:.2f} ms, the intake's own work "
        f"measured in-process is {intake_cpu.median:.2f} ms (section 1, last row, same kind of packets); the "
        "rest is the HTTP adapter, the framework and the threads' hand-offs (the profile: bench/README.md, "
        "hot path). Rates move with the shared machine's load; CPU per request much less.", "",
        "![HTTP rounds](report/http.png)", "",
        "## 3. Delivery", "",
        "| | per second |", "|---|---|",
        f"| the peer alone (8 threads, httpx, one packet per call, no store): the ceiling | {deliver['peer'].cell()} |",
        f"| ordered delivery, concurrency 8, one packet per call | {deliver['batch 1'].cell()} "
        f"({100 * deliver['batch 1'].median / deliver['peer'].median:.0f} % of the peer) |",
        f"| ordered delivery, concurrency 8, up to 10 packets per call | {deliver['batch 10'].cell()} |", "",
        "Each dossier's order at the peer was checked exact in every run.", "",
        "![delivery](report/delivery.png)", "",
        f"### accept→delivered at a steady {rate:g} packets/s offered (in-process accept, one `gateway worker`)", "",
        "| achieved packets/s | p50 ms | p99 ms |", "|---|---|---|",
        f"| {lat['achieved'].cell()} | {lat['p50'].cell(1)} | {lat['p99'].cell(1)} |", "",
        "![latency](report/latency.png)", "",
        f"### Draining a backlog of {curve[-1][1]} packets against a rate limit of {limit:g}/s", "",
        f"Delivered in {drained:.1f} s: {curve[-1][1] / drained:,.0f} packets/s against the limit's {limit:g}/s "
        "(one run).", "",
        "![drain](report/drain.png)", "",
        "## 4. Peers on the same PostgreSQL, same run", "",
        f"PostgreSQL at 127.0.0.1:5432 (db `test`), each run in a schema of its own, dropped afterwards; {peer_jobs} "
        "packets (10 per dossier, interleaved) per run, the cases interleaved round by round "
        f"(bench/peers_bench.py). One durable commit on this server took {commit_ms:.1f} ms, measured right after the section "
        "(synchronous_commit on; the machine shared with other work — load average in the header).", "",
        "| | done jobs/s | enqueue jobs/s | each dossier's order at the destination |", "|---|---|---|---|",
        *(f"| {f['rate'].name} | {f['rate'].cell()} | {f['enqueue'].cell()} | {order_cell(f['order'])} |"
          for f in peer.values()), "",
        "Configurations, each as its documentation recommends for throughput:", "",
        "- **cổng kết nối**: `accept_many` one transaction per dossier, then the delivery engine (ordered per dossier, "
        "concurrency 8, one packet per call, httpx), as in bench/delivery_bench.py.",
        f"- **PgQueuer** {peers_bench.version('pgqueuer')}: asyncpg driver (its faster one), enqueue in batches of 100 per "
        f"round trip, {peers_bench.PGQ_MANAGERS} QueueManagers each on its own connection with LISTEN/NOTIFY, "
        f"batch_size {peers_bench.PGQ_BATCH} (its tools/benchmark.py defaults: 5 dequeue tasks, batch 10), drain mode. "
        "Its ordering is weaker: no per-key order at all — jobs of a batch run concurrently and batches of several "
        "managers overlap, so a dossier's steps can reach the destination out of order (the order column says how "
        "often it happened). `concurrency_limit`/serialized dispatch serialise a whole entrypoint, not a dossier.",
        f"- **procrastinate** {peers_bench.version('procrastinate')}: PsycopgConnector (its async connector), worker "
        "`concurrency` 8, `listen_notify` on (its default), `lock = dossier` (its own per-key ordering: jobs sharing a "
        "lock run one at a time, in creation order), one `batch_defer` per dossier. `queueing_lock` is not used: "
        "it allows one waiting job per key, so it would refuse a dossier's second step.", "",
        "Published rates and this machine:", "",
        "- PgQueuer publishes ~6.4k–18k jobs/s (peak, no-op jobs, its own tool, \"depending on concurrency, driver "
        "and hardware\"; asyncpg 14.1k, psycopg 8.35k jobs/s in its reference run) — "
        "https://github.com/janbjorge/pgqueuer/blob/main/docs/comparisons/benchmarks.md. "
        f"Here its no-op jobs ran at {peer[('pgqueuer', 'noop')]['rate'].cell()} jobs/s: far below, because this "
        "PostgreSQL commits durably on a shared disk (the commit time above) and the 2 CPUs were shared with the "
        "load average shown — its published runs are on idle machines with a local database. Not reached: the "
        "ratio below is for this machine only.",
        "- procrastinate publishes no throughput figure (PgQueuer's comparison, checked 2026-08-20: \"Procrastinate "
        "fetches one job per query and publishes no benchmark figures\" — "
        "https://github.com/janbjorge/pgqueuer/blob/main/docs/comparisons/procrastinate-comparison.md; its issue "
        "#1286 asks for a benchmark). The 195–730 jobs/s quoted in issue 19 has no source found; its no-op rate "
        "here is the reference instead: one fetch and one finish per job, each a stored-procedure call and commit.",
        "", "![peers](report/peers.png)", "",
        "## 5. Memory", "",
        f"Peak RSS (MiB) of the process and its children, sampled every 20 ms (psutil), SQLite store "
        f"(bench/memory_bench.py, {packets} packets under load, one HoSo grown to "
        f"{mem['big packet MB']['size'].median:.1f} MiB with more `TaiLieuNop` records; the limit is 4 MiB).", "",
        "| process | after start-up | peak under load | peak with the ~4 MB packet |", "|---|---|---|---|",
        *(f"| `gateway {process}` | {mem[process]['idle'].cell(0)} | {mem[process]['load'].cell(0)} | "
          f"{mem[process]['big'].cell(0)} |" for process in ("serve", "worker")), "",
        "`serve`: 8 senders over HTTP then the big packet (accepted, 202). `worker`: one destination, concurrency 8, "
        "delivering the packets then the big one; its peak with the big packet is a fresh window after the load.",
        "", "![memory](report/memory.png)", "",
        f"## 6. Growth of the store ({', '.join(grown)})", "",
        f"The store filled as in service (accepted 500 per transaction, then delivered); at each level a fresh "
        f"sample of {growth_bench.SAMPLE_DOSSIERS * 10} packets ({growth_bench.SAMPLE_DOSSIERS} dossiers) timed "
        "through accept (32 per transaction), claim + complete, search by dossier (`dossier_packets`), purge "
        "(`purge_dossier`). One run per level (bench/growth_bench.py; `--full` or report.py `--full-growth` to "
        f"1,000,000; `--fast-fill`: fills of 10,000+ packets written in bulk, the rows the real paths write); "
        f"{growth_how}. Wall ms, and this process's CPU ms in brackets (on PostgreSQL the server's CPU is not in "
        "it).", "",
        "| store | packets stored | accept ms/packet | claim+complete ms/job | search ms/dossier | purge ms/packet | "
        "bytes per stored packet |", "|---|---|---|---|---|---|---|",
        *(f"| {kind} | {int(r['stored']):,} | {_cpu(r, 'accept')} | {_cpu(r, 'claim+complete')} | "
          f"{_cpu(r, 'search')} | {_cpu(r, 'purge')} | {r['bytes per packet']:,.0f} |".replace(",", " ")
          for kind, rows in grown.items() for r in rows), "",
        "![growth](report/growth.png)", "",
        "## Not measured yet", "",
        "- Redis-based peers (Dramatiq, Celery: no durability of the same kind); the peers on an idle machine.",
        "- PostgreSQL in sections 1–3, 5 (section 6 has it with `--growth-stores sqlite,postgres` or "
        "`--growth-from`); batched HTTP intake; p50/p99 at 25/50/75 % of the maximum; two server processes.",
        "- Scaling with 1, 2, 4 workers and 2 gateway nodes.",
        "- Signature verification against python-xmlsec and the xmlsec1 command (bench/verify_bench.py has the "
        "former); schema validation against xmlschema.",
        "- A 100,000-packet backlog (the drain here is smaller).", "",
    ]
    (Path(tempfile.gettempdir()) / "REPORT.smoke.md" if args.smoke else HERE / "REPORT.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {HERE / 'REPORT.md'} and {PLOTS}/*.png")


if __name__ == "__main__":
    main()
