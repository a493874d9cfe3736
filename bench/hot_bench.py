"""The hot path: POST /v1/packets (one packet per request, 8 kept-alive senders, one server process, SQLite)
next to the bare HTTP ceiling (bench/bare_app.py) in the same round — and, with ``--base``, the same bench
against another checkout's code (e.g. the commit before a change), the three alternating round by round.

    git worktree add /tmp/hot-base <commit>
    .venv/bin/python bench/hot_bench.py --rounds 3 --base /tmp/hot-base    # [--packets 2000] [--json out.json]
    .venv/bin/python bench/hot_bench.py --rounds 5 --signed-split          # what signing costs, in-process
"""

import argparse
from contextlib import nullcontext
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parent))

import delivery_bench as db


INTAKE_PG, CLASSIC = "intake, PostgreSQL", "classic, 100 per call"
SIGNED, SIGNED_PG = "signed XML", "signed XML, PostgreSQL"


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):6.0f}  range {min(values):.0f}–{max(values):.0f}"


def rounds(count: int, packets: int, base: Path | None, workers: int = 1, more: bool = False) -> dict[str, list[float]]:
    """Alternating rounds: bare, [base,] this checkout — each on a fresh SQLite store, fresh packets (JSON,
    unsigned); with ``more``, also this checkout on PostgreSQL, signed XML packets (signatures required,
    receipts signed) on both stores, and the classic protocol's batched calls (100 items per call, SQLite),
    rates in packets/s."""
    runs: dict[str, list[float]] = {"bare": [], **({"base": []} if base else {}), "intake": []}
    if more:
        runs.update({name: [] for name in (INTAKE_PG, SIGNED, SIGNED_PG, CLASSIC)})
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    with db.signed_intake() if more else nullcontext() as signed:
        for n in range(count):
            for name in runs:
                signing = signed if name in (SIGNED, SIGNED_PG) else None
                groups = max(1, packets // 10)
                sample = db.interleave(signing.packets(groups) if signing else db.dossiers(groups))
                if name == "bare":
                    rate, _ = db.bench_bare_http(sample)
                elif name == CLASSIC:
                    with db.store_url("sqlite") as url:
                        rate, _ = db.bench_accept_classic(url, sample, 100, workers=workers)
                else:
                    db.SERVER_ROOT = base if name == "base" else None
                    with db.store_url("postgres" if name in (INTAKE_PG, SIGNED_PG) else "sqlite") as url:
                        rate, _ = db.bench_accept_http(url, sample, workers=workers, signed=signing)
                    db.SERVER_ROOT = None
                runs[name].append(rate)
                cpu[name].append(db.LAST["server_cpu_ms"])
            line = "  ".join(f"{k} {v[-1]:5.0f}/s ({cpu[k][-1]:.2f} ms CPU)" for k, v in runs.items())
            print(f"round {n + 1}: {line}  → intake {runs['intake'][-1] / runs['bare'][-1]:.0%} of the ceiling"
                  + (f" (base {runs['base'][-1] / runs['bare'][-1]:.0%})" if base else ""))
    return {**runs, **{f"{name} server CPU ms": values for name, values in cpu.items()}}


def signed_split(count: int, packets: int) -> dict[str, list[float]]:
    """In-process, one thread: CPU ms per packet of ``PacketIntake.receive`` and the answer made of it, for JSON
    and XML packets unsigned, XML signed (signatures required) with and without a receipt key, and JSON with
    one — the kinds alternating round by round, each on a fresh SQLite store. The group committer's thread
    (the store's commit) is not in it: the same for every kind."""
    from gateway.config import Config
    from gateway.receive.auth import Client
    from gateway.receive.intake import PacketIntake
    from gateway.receive.packets import response
    from gateway.store import open_store

    runs: dict[str, list[float]] = {}
    with db.signed_intake() as signed, tempfile.TemporaryDirectory() as tmp:
        kinds = {"JSON": ("", db.dossiers), "XML": ("", lambda n: db.dossiers(n, encoding="xml")),
                 "signed XML, receipt unsigned": (signed.required, signed.packets),
                 "signed XML, receipt signed": (signed.config, signed.packets),
                 "JSON, receipt signed": (signed.receipt_key, db.dossiers)}
        for n in range(count):
            for index, (kind, (extra, make)) in enumerate(kinds.items()):
                url = f"sqlite:///{tmp}/{n}-{index}.db"
                config_file = Path(tmp) / "split.toml"
                config_file.write_text(f'[store]\nurl = "{url}"\n{db.UNTHROTTLED}{extra}')
                intake = PacketIntake(Config.load(config_file), store=open_store(url))
                client, sample = Client("bench"), db.interleave(make(max(3, packets // 10)))
                for p in sample[:20]:  # the store opened, the chain cached: start-up, not the packet's cost
                    assert response(intake.receive(client, p.raw, p.encoding), intake.config.zone).status_code == 202
                began = time.thread_time()
                for p in sample[20:]:
                    answer = response(intake.receive(client, p.raw, p.encoding), intake.config.zone)
                    assert answer.status_code == 202, bytes(answer.body)[:300]
                runs.setdefault(kind, []).append((time.thread_time() - began) * 1000 / (len(sample) - 20))
                intake.close()
            print(f"round {n + 1}: " + "  ".join(f"{k} {v[-1]:.3f} ms" for k, v in runs.items()))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packets", type=int, default=2000, help="packets per run")
    parser.add_argument("--base", type=Path, help="another checkout to measure alongside (its gateway/ is served)")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--json", type=Path, help="write the runs here")
    parser.add_argument("--signed-split", action="store_true",
                        help="instead: what signatures and signed receipts cost in-process (CPU ms per packet)")
    args = parser.parse_args()
    if args.signed_split:
        for kind, values in signed_split(args.rounds, min(args.packets, 600)).items():
            print(f"{kind:30} CPU ms per packet median {statistics.median(values):.3f} "
                  f"(range {min(values):.3f}–{max(values):.3f})")
        return
    runs = rounds(args.rounds, args.packets, args.base, args.workers)
    for name in ("bare", "base", "intake") if args.base else ("bare", "intake"):
        values, cpu = runs[name], runs[f"{name} server CPU ms"]
        ratios = [v / b for v, b in zip(values, runs["bare"])]
        cpu_ratios = [b / c for c, b in zip(cpu, runs["bare server CPU ms"])]
        print(f"{name:7} {spread(values)} /s   {statistics.median(ratios):.0%} of the same round's ceiling "
              f"({min(ratios):.0%}–{max(ratios):.0%});  server CPU per packet median {statistics.median(cpu):.3f} ms "
              f"(range {min(cpu):.3f}–{max(cpu):.3f}) → CPU-bound limit {statistics.median(cpu_ratios):.0%} of the "
              "bare stack's")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
