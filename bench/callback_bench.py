"""Payment callbacks: CONFIRM → GET_BILL → receipt verified (PAdES) → BienLaiThanhToan queued, at a fixed rate.

    .venv/bin/python bench/callback_bench.py --rate 100 --count 300 --runs 5 [--store postgresql://…]

Three processes: the gateway (uvicorn, the payment connector's callback route, the real intake storing the
originated packet with its job to the provincial portal), the payment platform's simulator (GET_BILL with
PDF receipts signed by a test bank under a test CA made now), and this script acting as the platform's
callback sender: open loop, one CONFIRM every 1/rate s whatever the answers, each latency counted from its
scheduled send time (no coordinated omission). Every reply must be MaLoi "00" and every payment end
"forwarded", or the run says so.

Alongside, in the same run (the peer and the ceiling): GET_BILL alone against the simulator (the peer's
share) and the PDF's verification alone in this process (the verification's share), sequentially.
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

    from connectors.payment import CONNECTOR
    from gateway.config import Config
    from gateway.api import create_app
    from tests.payment.conftest import Services  # the originate adapter, until PacketIntake.originate lands

    config = Config.load(config_file)
    app = create_app(config)
    CONNECTOR.routes(app, config, Services(app.state.intake))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


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
    parser.add_argument("--serve", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_gateway(args.serve[0], int(args.serve[1]))
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
""", encoding="utf-8")
    sim = subprocess.Popen([sys.executable, "-m", "connectors.payment.simulator", "--port", str(sim_port),
                            "--partner", PARTNER, "--bank-key", str(bank.key_path), "--bank-cert", str(bank.cert_path),
                            "--chain", str(pki["intermediate"].cert_path), "--pay-after", "1e9"], env=env, cwd=ROOT)
    gateways = [subprocess.Popen([sys.executable, __file__, "--serve", str(config), str(port)], env=env, cwd=ROOT)
                for port in gw_ports]
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
                results.append(one_run(client, store, sim_url, gw_urls, trust, verify_pdf, args, run))
        print_summary(results, args)
    finally:
        for process in (*gateways, sim):
            process.terminate()
            process.wait(10)


def one_run(client: httpx.Client, store, sim_url: str, gw_urls: list[str], trust, verify_pdf, args, run: int) -> dict:
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
    start = time.perf_counter() + 0.2

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
    forwarded = sum(1 for s in seeds if (store.payment(s["reference"]) or {}).get("state") == "forwarded")

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
        t0 = time.perf_counter()
        verdict = verify_pdf(document, trust).verdict.value
        verifies.append(time.perf_counter() - t0)
        assert verdict == "passed", verdict
    return {"p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99), "max": max(latencies),
            "achieved": args.count / elapsed, "failures": failures, "forwarded": forwarded,
            "bill_p50": statistics.median(bills), "verify_p50": statistics.median(verifies)}


def print_summary(results: list[dict], args) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    for n, r in enumerate(results, 1):
        print(f"run {n}: p50 {ms(r['p50'])}  p99 {ms(r['p99'])}  max {ms(r['max'])}  sent {r['achieved']:.0f}/s  "
              f"forwarded {r['forwarded']}/{args.count}  failures {len(r['failures'])}  |  "
              f"GET_BILL alone {ms(r['bill_p50'])}  verify_pdf alone {ms(r['verify_p50'])}")
        for failure in r["failures"][:3]:
            print("   ", failure)

    def spread(key: str) -> str:
        values = [r[key] for r in results]
        return f"median {ms(statistics.median(values))} (range {ms(min(values))}–{ms(max(values))})"
    print(f"\n{args.runs} runs × {args.count} callbacks at {args.rate:g}/s, {args.gateways} gateway process(es)")
    print(f"CONFIRM → verified → queued  p50 {spread('p50')}")
    print(f"                             p99 {spread('p99')}")
    print(f"peer GET_BILL alone          p50 {spread('bill_p50')}")
    print(f"verify_pdf alone             p50 {spread('verify_p50')}")


if __name__ == "__main__":
    main()
