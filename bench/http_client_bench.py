"""HTTP clients side by side: the CPU one POST costs the calling process, against the local no-op peer.

    .venv/bin/python bench/http_client_bench.py [--calls 400] [--rounds 2]

One thread, keep-alive, the same packets (JSON, 0.5–4 KB) with an Idempotency-Key, each answer read
whole: http.client (the floor), urllib3 (what gateway/deliver/http_client.py wraps), httpx, requests.
CPU is this process's user + system time; the peer runs in its own process.
"""

import argparse
import http.client
from pathlib import Path
import sys
import time
from collections.abc import Callable

import httpx
import requests
import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from delivery_bench import DEST, dossiers, interleave, peer
from gateway.deliver.http_client import HttpClient
from gateway.deliver.traffic import Packet


def headers(packet: Packet) -> dict[str, str]:
    return {"Idempotency-Key": packet.packet_id, "Content-Type": packet.content_type}


def clients(base: str) -> dict[str, Callable[[Packet], int]]:
    host, port = base.removeprefix("http://").split(":")
    url = f"{base}/{DEST}"
    plain = http.client.HTTPConnection(host, int(port), timeout=5)
    pool = urllib3.HTTPConnectionPool(host, int(port), maxsize=1, timeout=5)
    ours, hx, rq = HttpClient(timeout=5), httpx.Client(timeout=5), requests.Session()

    def with_http_client(p: Packet) -> int:
        plain.request("POST", f"/{DEST}", body=p.raw, headers=headers(p))
        answer = plain.getresponse()
        answer.read()
        return answer.status

    def with_urllib3(p: Packet) -> int:
        return pool.urlopen("POST", f"/{DEST}", body=p.raw, headers=headers(p)).status

    return {
        "http.client": with_http_client,
        "urllib3": with_urllib3,
        "gateway HttpClient (urllib3)": lambda p: ours.post(url, content=p.raw, headers=headers(p)).status_code,
        "httpx": lambda p: hx.post(url, content=p.raw, headers=headers(p)).status_code,
        "requests": lambda p: rq.post(url, data=p.raw, headers=headers(p)).status_code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    packets = interleave(dossiers(args.calls // 10 + 1))[:args.calls]
    with peer() as base:
        for round_ in range(1, args.rounds + 1):
            floor = None
            for name, post in clients(base).items():
                for p in packets[:20]:  # warm: connections open
                    post(p)
                cpu, wall = time.process_time(), time.perf_counter()
                for p in packets:
                    assert post(p) == 200
                cpu_ms = (time.process_time() - cpu) / len(packets) * 1000
                wall_ms = (time.perf_counter() - wall) / len(packets) * 1000
                floor = floor or cpu_ms
                print(f"round {round_}  {name:30} CPU {cpu_ms:.3f} ms/call ({cpu_ms / floor:.1f}× http.client)  "
                      f"wall {wall_ms:.3f} ms")


if __name__ == "__main__":
    main()
