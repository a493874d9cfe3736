"""Audit bench: what the tamper-evident audit log costs the intake, and how long a dossier's evidence
bundle takes — on SQLite and PostgreSQL.

    .venv/bin/python bench/audit_bench.py            # [--stores sqlite,postgres] [--jobs 2000] [--repeats 5]

Intake: the same packets accepted with the audit entries on and off (``SqlStore(audit_packets=…)``: one chained
entry per committed batch listing each packet, ``gateway.audit.chain.BATCH``),
in alternating runs of one process, each on a fresh store: (1) the whole intake in-process
(``PacketIntake.receive``: signature seam, validation, routing, group commit with the status check, receipt),
8 sender threads, as ``bench/delivery_bench.py --parts accept`` measures it; (2) the store alone,
``accept_many`` of 32 packets per transaction, one thread — where the audit's cost is least hidden.
Evidence: a dossier of 50 packets (a HoSo and 49 progress steps, JSON), each delivered with one attempt,
among 20 other dossiers' packets; ``export_bundle`` signed with a P-256 key made at run time, then the
offline ``verify_bundle``. Medians and ranges of ``--repeats`` runs.
"""

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import functools
from pathlib import Path
import statistics
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from delivery_bench import (DEST, bench_accept_intake, bench_accept_store, dossiers, interleave,
                             store_url)
from gateway.deliver.traffic import Packet
from gateway.evidence.check import verify_bundle
from gateway.evidence.export import export_bundle
from gateway.store import AttemptRecord
from gateway.store.sql import SqlStore
from signing.signer import KeySigner


def intake_rate(url: str, packets: list[Packet], audit: bool) -> tuple[float, float]:
    return bench_accept_intake(url, packets, opener=functools.partial(SqlStore, audit_packets=audit))


def store_rate(url: str, packets: list[Packet], audit: bool) -> tuple[float, float]:
    return bench_accept_store(url, packets, 32, opener=functools.partial(SqlStore, audit_packets=audit))


def bench_signer() -> KeySigner:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cổng kết nối — bench")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return KeySigner(key, cert)


def evidence_times(url: str, signer: KeySigner, repeats: int) -> tuple[list[float], list[float], int]:
    """(export seconds, verify seconds, bundle bytes) for a 50-packet dossier among others."""
    store = SqlStore(url)
    ours = dossiers(1, steps=49)[0]
    others = interleave(dossiers(20))
    for start in range(0, len(others), 64):
        store.accept_many([(p.stored(), [DEST]) for p in others[start:start + 64]])
    store.accept_many([(p.stored(), [DEST]) for p in ours])
    now = datetime.now(UTC)
    while batches := store.claim(DEST, "bench", limit=100, max_batch=1, lease_seconds=60, now=now):
        store.complete_each([(b[0].job_id, AttemptRecord(now, 15, "delivered", "200", "ok")) for b in batches], "bench")
    exports, verifies, size = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(repeats):
            target = Path(tmp) / f"bundle-{n}.zip"
            began = time.perf_counter()
            export_bundle(store, ours[0].dossier, target, signer=signer, actor="bench")
            exports.append(time.perf_counter() - began)
            began = time.perf_counter()
            report = verify_bundle(target, [signer.certificate])
            verifies.append(time.perf_counter() - began)
            assert report.ok, report.problems
            size = target.stat().st_size
    store.close()
    return exports, verifies, size


def spread(values: list[float], scale: float = 1.0, fmt: str = "{:.0f}") -> str:
    low, mid, high = (fmt.format(v * scale) for v in (min(values), statistics.median(values), max(values)))
    return f"{mid} ({low}–{high})"


def paired(kind: str, repeats: int, run: Callable[[str, list[Packet], bool], tuple[float, float]],
           count: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Alternating runs, audit on then off (the order flipped every repeat), each on a fresh store."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    cpus: dict[bool, list[float]] = {True: [], False: []}
    for n in range(repeats):
        for audit in ((True, False) if n % 2 == 0 else (False, True)):
            with store_url(kind) as url:
                rate, cpu = run(url, interleave(dossiers(max(1, count // 10))), audit)
            rates[audit].append(rate)
            cpus[audit].append(cpu)
    return rates[True], rates[False], cpus[True], cpus[False]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--jobs", type=int, default=2000, help="packets per intake run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    signer = bench_signer()
    print(f"{args.jobs} packets per intake run, {args.repeats} runs each (median (min–max))", flush=True)
    for kind in args.stores.split(","):
        print(f"== {kind} ==", flush=True)
        for label, run in (("whole intake, in-process, 8 senders", intake_rate),
                           ("store alone, accept_many of 32", store_rate)):
            on, off, cpu_on, cpu_off = paired(kind, args.repeats, run, args.jobs)
            ratios = [a / b for a, b in zip(on, off)]
            print(f"{label}: audit on {spread(on)} /s, off {spread(off)} /s; on/off {spread(ratios, 100)} % "
                  f"(median cost {100 - statistics.median(ratios) * 100:.1f} %); CPU per packet on "
                  f"{spread(cpu_on, 1, '{:.3f}')} ms, off {spread(cpu_off, 1, '{:.3f}')} ms", flush=True)
        with store_url(kind) as url:
            exports, verifies, size = evidence_times(url, signer, args.repeats)
        print(f"evidence bundle, dossier of 50 packets (50 jobs delivered): export {spread(exports, 1000)} ms, "
              f"offline verify {spread(verifies, 1000)} ms, {size / 1024:.0f} KiB", flush=True)


if __name__ == "__main__":
    main()
