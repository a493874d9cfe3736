"""Isolation bench: one client's packet latency (POST /v1/packets, p50/p99) with and without a noisy client in
the same run — the noisy one floods classic look-ups that the portal answers slowly, and packets of its own.

The gateway runs as ``gateway serve`` (its default limits), the simulated portal as its own process with
``latency_ms`` on ``TraCuuHoSo``. Each repetition measures the quiet client alone, then beside the noisy one;
the figures are the medians and ranges of the repetitions.

    .venv/bin/python bench/isolation_bench.py [--runs 3] [--packets 200] [--lookups 80] [--floods 8]
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
import copy
from contextlib import ExitStack
import hashlib
import json
import multiprocessing
from pathlib import Path
import secrets
import statistics
import sys
import tempfile
import threading
import time
from typing import Any
import uuid

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delivery_bench import GATEWAY, ROOT, free_port, print, process

AGENCY, NOISY_AGENCY = "000.00.01.H22", "000.00.02.H22"
EXAMPLE = json.loads((ROOT / "examples" / "HoSo.json").read_text(encoding="utf-8"))


def packet(agency: str) -> bytes:
    """A new dossier (status 2) of ``agency``, under a fresh MaGoiTin and MaHoSo."""
    data = copy.deepcopy(EXAMPLE)
    data.update(MaGoiTin=str(uuid.uuid4()), NoiGui=agency)
    body = data["NoiDung"]["HoSo"]
    for later in ("NgayTra", "NgayKetThucXuLy", "DanhSachGiayToKetQua"):
        body.pop(later, None)
    body.update(MaHoSo=f"{agency}-241201-{uuid.uuid4().hex[:10]}", TrangThaiHoSo=2)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def quantiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def quiet_run(url: str, key: str, count: int) -> tuple[float, float]:
    """``count`` packets one after the other from the quiet client: (p50, p99) in ms."""
    latencies = []
    with httpx.Client(base_url=url, timeout=60, headers={"authorization": f"Bearer {key}",
                                                          "content-type": "application/json"}) as client:
        for _ in range(count):
            data = packet(AGENCY)
            began = time.perf_counter()
            status = client.post("/v1/packets", content=data).status_code
            latencies.append(time.perf_counter() - began)
            assert status == 202, status
    return quantiles(latencies)


class Noise:
    """``lookups`` threads of classic TraCuuHoSo and ``floods`` threads of packets, until stopped."""

    def __init__(self, url: str, password: str, key: str, lookups: int, floods: int) -> None:
        self.url, self.password, self.key = url, password, key
        self.stop = threading.Event()
        self.outcomes: dict[str, int] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(lookups + floods)
        self.session = httpx.post(f"{url}/adapter/auth", json={"username": "noisy", "password": password},
                                  timeout=30).json()["session"]
        self.futures = [self.pool.submit(self.look_up) for _ in range(lookups)]
        self.futures += [self.pool.submit(self.flood) for _ in range(floods)]

    def count(self, what: str) -> None:
        with self.lock:
            self.outcomes[what] = self.outcomes.get(what, 0) + 1

    def look_up(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self.stop.is_set():
                answer = client.post("/adapter/integration", json={
                    "session": self.session, "madonvi": NOISY_AGENCY, "service": "TraCuuHoSo",
                    "MaHoSo": f"{NOISY_AGENCY}-241201-{uuid.uuid4().hex[:8]}"})
                self.count(f"look-up {answer.status_code}")
                if answer.status_code == 429:
                    time.sleep(0.2)  # a client that retries soon, not one that honours Retry-After

    def flood(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60, headers={"authorization": f"Bearer {self.key}",
                                                                   "content-type": "application/json"}) as client:
            while not self.stop.is_set():
                self.count(f"packet {client.post('/v1/packets', content=packet(NOISY_AGENCY)).status_code}")

    def close(self) -> None:
        self.stop.set()
        for future in self.futures:
            future.result()
        self.pool.shutdown()


def make_noise(args: tuple[str, str, str, int, int], stop: Any, outcomes: Any) -> None:
    """The noisy client in a process of its own (its threads must not take the quiet client's GIL)."""
    noise = Noise(*args)
    stop.wait()
    noise.close()
    outcomes.put(noise.outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--packets", type=int, default=200, help="the quiet client's packets per measurement")
    parser.add_argument("--lookups", type=int, default=80, help="the noisy client's concurrent look-ups")
    parser.add_argument("--floods", type=int, default=8, help="the noisy client's concurrent packet senders")
    parser.add_argument("--portal-ms", type=float, default=3000, help="the portal's latency on TraCuuHoSo")
    args = parser.parse_args()
    quiet_key, noisy_key, password = secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16)
    portal = {"username": "gw-" + secrets.token_hex(4), "password": secrets.token_hex(16)}
    env = {"GATEWAY_PORTAL_USERNAME": portal["username"], "GATEWAY_PORTAL_PASSWORD": portal["password"],
           "GATEWAY_INBOUND_SESSION_SECRET": secrets.token_hex(32)}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        portal_port, port = free_port(), free_port()
        faults = json.dumps({"latency_ms": args.portal_ms, "services": ["TraCuuHoSo"]})
        stack.enter_context(process([sys.executable, "-m", "connectors.national_portal.simulator", "--port",
                                     str(portal_port), "--faults", faults], env, ready=f"http://127.0.0.1:{portal_port}/"))
        config = Path(tmp) / "isolation.toml"
        config.write_text(f"""[store]
url = "sqlite:///{tmp}/gateway.db"
[national_portal]
adapter_url = "http://127.0.0.1:{portal_port}"
read_timeout = {args.portal_ms / 1000 + 5}
[clients.quiet]
key_sha256 = "{hashlib.sha256(quiet_key.encode()).hexdigest()}"
agencies = ["{AGENCY}"]
[clients.noisy]
key_sha256 = "{hashlib.sha256(noisy_key.encode()).hexdigest()}"
agencies = ["{NOISY_AGENCY}"]
[inbound_classic.clients.noisy]
username = "noisy"
password_sha256 = "{hashlib.sha256(password.encode()).hexdigest()}"
madonvi = ["{NOISY_AGENCY}"]
""", encoding="utf-8")
        url = f"http://127.0.0.1:{port}"
        stack.enter_context(process([*GATEWAY, "serve", "--config", str(config), "--port", str(port)], env,
                                    ready=f"{url}/healthz"))
        quiet_run(url, quiet_key, 20)  # warm: the store opens and migrates on the first packet
        alone: list[tuple[float, float]] = []
        beside: list[tuple[float, float]] = []
        outcomes: dict[str, int] = {}
        for run in range(args.runs):
            alone.append(quiet_run(url, quiet_key, args.packets))
            stop, counted = multiprocessing.Event(), multiprocessing.Queue()
            noisy = multiprocessing.Process(target=make_noise, args=(
                (url, password, noisy_key, args.lookups, args.floods), stop, counted))
            noisy.start()
            time.sleep(2.0)  # the look-ups fill their bulkhead
            try:
                beside.append(quiet_run(url, quiet_key, args.packets))
            finally:
                stop.set()
            for what, n in counted.get(timeout=120).items():
                outcomes[what] = outcomes.get(what, 0) + n
            noisy.join(60)
            print(f"run {run + 1}: alone p50 {alone[-1][0]:.1f} p99 {alone[-1][1]:.1f} ms; "
                  f"beside the noisy client p50 {beside[-1][0]:.1f} p99 {beside[-1][1]:.1f} ms")

    def summary(name: str, figures: list[tuple[float, float]]) -> str:
        p50s, p99s = [f[0] for f in figures], [f[1] for f in figures]
        return (f"{name}: p50 median {statistics.median(p50s):.1f} ms ({min(p50s):.1f}–{max(p50s):.1f}), "
                f"p99 median {statistics.median(p99s):.1f} ms ({min(p99s):.1f}–{max(p99s):.1f})")

    print(f"\n{args.runs} runs × {args.packets} packets; noisy client: {args.lookups} look-ups at once "
          f"(portal {args.portal_ms:.0f} ms) + {args.floods} packet senders")
    print(summary("quiet client alone        ", alone))
    print(summary("quiet client, noisy beside", beside))
    print("noisy client's answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
