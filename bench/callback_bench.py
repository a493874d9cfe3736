"""Payment callbacks at a fixed rate: the callback's answer (CONFIRM checked and recorded), and CONFIRM →
GET_BILL → receipt verified (PAdES) → BienLaiThanhToan queued, done by the worker's settler tasks.

    .venv/bin/python bench/callback_bench.py --rate 100 --count 200 --runs 5 [--workers 1] [--store postgresql://…]

Processes: the gateway API (uvicorn, the payment connector's callback route: checks the CONFIRM, records it,
answers), the worker(s) (the payment connector's tasks only: settlers claim confirmed payments by lease, fetch
the receipt, verify it, originate the packet through the real intake, stored with its job to the provincial
portal), the payment platform's simulator (GET_BILL with PDF receipts signed by a test bank under a test CA
made now), and this script acting as the platform's callback sender: open loop, one CONFIRM every 1/rate s
whatever the answers, each latency counted from its scheduled send time (no coordinated omission).

Two figures per run: the callback's answer (scheduled send → reply) and CONFIRM → queued (scheduled send →
the payment recorded forwarded, its packet stored). Beside them, from the same run: the CPU the worker
processes and the API process spent per receipt / per callback (/proc), the settled throughput, and
GET_BILL (wall) and verify_pdf (CPU) alone, sequential, in this process. Every reply must be MaLoi "00" and every
payment end "forwarded", or the run says so.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.payment.checksum import CONFIRM_FIELDS, QUERY_FIELDS, ma_xac_thuc
from connectors.payment.transform import stamp

SECRET, PARTNER, AGENCY = "bench-secret", "000.00.00.H22", "000.00.01.H22"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def serve_gateway(config_file: str, port: int) -> None:
    """The gateway process: the API with the payment connector's routes, originating through the intake."""
    import uvicorn

    from gateway.config import Config
    from gateway.api import create_app

    config = Config.load(config_file)
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, log_level="warning")  # the registry adds the route


def run_worker(config_file: str) -> None:
    """A worker process running the payment connector's tasks only (settlers, reconciler)."""
    import signal
    import threading

    from gateway import registry
    from gateway.config import Config
    from gateway.receive.intake import PacketIntake
    from gateway.store.api import open_store

    config = Config.load(config_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    tasks = registry.start_tasks(config, PacketIntake(config, store=open_store(str(config.section("store")["url"]))),
                                 only=["payment"])
    stop.wait()
    tasks.stop()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def confirm(reference: str, transaction: str, amount: int) -> dict[str, str]:
    message = {"LoaiBanTin": "CONFIRM", "MaLoi": "00", "MaDoiTac": PARTNER, "MaThamChieu": reference,
               "SoTien": str(amount), "MaTienTe": "VND", "MaGiaoDich": transaction, "MaNganHang": "VCB",
               "ThoiGianGD": stamp(), "ThongTinGiaoDich": f"Thanh toan {reference}"}
    return {**message, "MaXacThuc": ma_xac_thuc(message, CONFIRM_FIELDS, SECRET)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--count", type=int, default=300, help="callbacks per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", default="", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--gateways", type=int, default=1,
                        help="gateway API processes sharing the store; callbacks spread round-robin")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (settlers) sharing the store")
    parser.add_argument("--settlers", type=int, default=2, help="settler tasks (threads) per worker process")
    parser.add_argument("--serve", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--work", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_gateway(args.serve[0], int(args.serve[1]))
        return
    if args.work:
        run_worker(args.work)
        return

    from gateway.store.api import open_store
    from signing.pades import verify_pdf
    from signing.trust import TrustPolicy
    from tests.signing.pki import TestPKI

    work = Path(tempfile.mkdtemp(prefix="callback-bench-"))
    pki = TestPKI.create(work / "pki")
    bank = pki["ec256"]
    store_url = args.store or f"sqlite:///{work}/gateway.db"
    sim_port, gw_ports = free_port(), [free_port() for _ in range(args.gateways)]
    env = {**os.environ, "PAYMENT_SIM_SECRET": SECRET, "BENCH_PAYMENT_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    config = work / "gateway.toml"
    config.write_text(f"""
[store]
url = "{store_url}"
[console]
enabled = false
[signing.purposes.bank]
anchors = ["{pki['root'].cert_path}"]
intermediates = ["{pki['intermediate'].cert_path}"]
crls = ["{pki.crl_path}", "{pki.root_crl_path}"]
[payment]
url = "http://127.0.0.1:{sim_port}"
partner_code = "{PARTNER}"
secret_env = "BENCH_PAYMENT_SECRET"
settle_tasks = {args.settlers}
reconcile_after_seconds = 1e9
""", encoding="utf-8")
    sim = subprocess.Popen([sys.executable, "-m", "connectors.payment.simulator", "--port", str(sim_port),
                            "--partner", PARTNER, "--bank-key", str(bank.key_path), "--bank-cert", str(bank.cert_path),
                            "--chain", str(pki["intermediate"].cert_path), "--pay-after", "1e9"], env=env, cwd=ROOT)
    gateways = [subprocess.Popen([sys.executable, __file__, "--serve", str(config), str(port)], env=env, cwd=ROOT)
                for port in gw_ports]
    workers = [subprocess.Popen([sys.executable, __file__, "--work", str(config)], env=env, cwd=ROOT)
               for _ in range(args.workers)]
    try:
        sim_url, gw_urls = f"http://127.0.0.1:{sim_port}", [f"http://127.0.0.1:{port}" for port in gw_ports]
        wait_up(f"{sim_url}/_admin/record")
        for gw_url in gw_urls:
            wait_up(f"{gw_url}/healthz")
        store = open_store(store_url)
        trust = TrustPolicy.from_config(__import__("gateway.config", fromlist=["Config"]).Config.load(config), "bank")
        results = []
        with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=256)) as client:
            for run in range(args.runs):
                pids = ([w.pid for w in workers], [g.pid for g in gateways])
                results.append(one_run(client, store, sim_url, gw_urls, trust, verify_pdf, args, run, pids))
        print_summary(results, args)
    finally:
        for process in (*workers, *gateways, sim):
            process.terminate()
            process.wait(10)


def one_run(client: httpx.Client, store, sim_url: str, gw_urls: list[str], trust, verify_pdf, args, run: int,
            pids: tuple[list[int], list[int]]) -> dict:
    seeds = []
    for i in range(args.count):
        reference, dossier = f"GWBENCH{uuid.uuid4().hex[:20].upper()}", f"{AGENCY}-2412{run:02d}-{i:05d}"
        amount = 50_000 + i
        store.open_payment(reference, dossier, str(uuid.uuid4()), AGENCY, amount, "national",
                           {"receipt_info": {"MaHoSo": dossier, "NoiDungThanhToan": f"Nộp lệ phí hồ sơ {dossier}"}})
        store.update_payment(reference, "initiated")
        seeds.append({"reference": reference, "amount": amount, "transaction": f"FT{uuid.uuid4().hex[:14].upper()}",
                      "info": {"MaHoSo": dossier}})
    client.post(f"{sim_url}/_admin/paid", json=seeds, timeout=300).raise_for_status()  # receipts issued before the clock runs

    latencies: list[float] = []
    failures: list[str] = []
    worker_cpu, api_cpu = cpu_seconds(pids[0]), cpu_seconds(pids[1])
    start = time.perf_counter() + 0.2
    start_wall = time.time() + (start - time.perf_counter())

    def send(index: int) -> None:
        due = start + index / args.rate
        time.sleep(max(0.0, due - time.perf_counter()))
        seed = seeds[index]
        reply = client.post(f"{gw_urls[index % len(gw_urls)]}/v1/payment/confirm", json=confirm(seed["reference"], seed["transaction"],
                                                                            seed["amount"]))
        latencies.append(time.perf_counter() - due)
        if reply.status_code != 200 or reply.json().get("MaLoi") != "00":
            failures.append(f"{reply.status_code} {reply.text[:120]}")

    with ThreadPoolExecutor(max_workers=128) as pool:
        list(pool.map(send, range(args.count)))
    elapsed = time.perf_counter() - start
    api_cpu = cpu_seconds(pids[1]) - api_cpu
    deadline, settled = time.monotonic() + (600 if args.workers else 0), {}  # --workers 0: the callback alone
    while len(settled) < len(seeds) and time.monotonic() < deadline:  # the worker's backlog drained
        for index, seed in enumerate(seeds):
            if index not in settled:
                row = store.payment(seed["reference"]) or {}
                if row.get("state") in ("forwarded", "receipt_rejected", "forward_refused"):
                    settled[index] = row
        time.sleep(0.2)
    drained = time.perf_counter() - start
    worker_cpu = cpu_seconds(pids[0]) - worker_cpu
    forwarded = sum(1 for row in settled.values() if row["state"] == "forwarded")
    queued = [row["updated_at"].timestamp() - (start_wall + index / args.rate) for index, row in settled.items()
              if row["state"] == "forwarded"]

    # The peer's and the verification's shares, alone, in the same run.
    bills, verifies = [], []
    for seed in seeds[:30]:
        message = {"LoaiBanTin": "GET_BILL", "PhienBan": "1.0.6", "MaDoiTac": PARTNER,
                   "MaThamChieu": seed["reference"], "ThoiGianGD": stamp()}
        t0 = time.perf_counter()
        answer = client.post(f"{sim_url}/api/thanhtoan",
                             json={**message, "MaXacThuc": ma_xac_thuc(message, QUERY_FIELDS, SECRET)}).json()
        bills.append(time.perf_counter() - t0)
        import base64
        document = base64.b64decode(answer["NoiDungBienLai"])
        t0 = time.thread_time()  # CPU, not wall: the machine is shared
        verdict = verify_pdf(document, trust).verdict.value
        verifies.append(time.thread_time() - t0)
        assert verdict == "passed", verdict
    return {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99), "max": max(latencies),
            "achieved": args.count / elapsed, "failures": failures, "forwarded": forwarded,
            "queued_p50": percentile(queued, 0.5) if queued else float("nan"),
            "queued_p99": percentile(queued, 0.99) if queued else float("nan"),
            "settled_rate": forwarded / drained, "worker_cpu": worker_cpu / max(1, forwarded),
            "api_cpu": api_cpu / args.count,
            "bill_p50": statistics.median(bills), "verify_p50": statistics.median(verifies)}


def print_summary(results: list[dict], args) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    for n, r in enumerate(results, 1):
        print(f"run {n}: answer p50 {ms(r['p50'])} p99 {ms(r['p99'])} max {ms(r['max'])}  sent {r['achieved']:.0f}/s  "
              f"failures {len(r['failures'])}  |  queued p50 {ms(r['queued_p50'])} p99 {ms(r['queued_p99'])}  "
              f"forwarded {r['forwarded']}/{args.count} at {r['settled_rate']:.0f}/s  |  worker CPU "
              f"{ms(r['worker_cpu'])}/receipt  API CPU {ms(r['api_cpu'])}/callback  |  GET_BILL alone "
              f"{ms(r['bill_p50'])}  verify_pdf alone {ms(r['verify_p50'])} CPU")
        for failure in r["failures"][:3]:
            print("   ", failure)

    def spread(key: str, unit=ms) -> str:
        values = [r[key] for r in results]
        return f"median {unit(statistics.median(values))} (range {unit(min(values))}–{unit(max(values))})"
    def rate(value: float) -> str:
        return f"{value:.0f}/s"

    print(f"\n{args.runs} runs × {args.count} callbacks at {args.rate:g}/s offered, {args.gateways} API process(es), "
          f"{args.workers} worker process(es) × {args.settlers} settlers, load {os.getloadavg()[0]:.1f}")
    print(f"callback answered            p50 {spread('p50')}")
    print(f"                             p99 {spread('p99')}")
    print(f"CONFIRM → packet queued      p50 {spread('queued_p50')}")
    print(f"                             p99 {spread('queued_p99')}")
    print(f"receipts settled             {spread('settled_rate', rate)}")
    print(f"worker CPU per receipt       {spread('worker_cpu')}")
    print(f"API CPU per callback         {spread('api_cpu')}")
    print(f"peer GET_BILL alone          p50 {spread('bill_p50')}")
    print(f"verify_pdf alone (CPU)       p50 {spread('verify_p50')}")


if __name__ == "__main__":
    main()
