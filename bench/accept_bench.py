"""Durable acceptance throughput, measured side by side in one run.

1. Store level, SQLite and PostgreSQL: one commit per packet vs group commit (the
   GroupCommitter the API uses), N packets submitted by 32 threads.
2. End to end over HTTP: ``gateway serve`` (SQLite, validation on, synchronous=FULL) driven by
   an async client with 64 requests in flight; accepted/s and latency p50/p99.

    .venv/bin/python bench/accept_bench.py [--packets 3000] [--skip-postgres]
"""

import argparse
import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
import hashlib
import os
from pathlib import Path
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx

from gateway.receive.committer import GroupCommitter
from gateway.store import NewPacket, open_store

ROOT = Path(__file__).parents[1]
TEMPLATE = (ROOT / "examples" / "TienDoXuLy.xml").read_bytes()
_ID = re.compile(rb"<MaGoiTin>([0-9a-f-]{36})</MaGoiTin>")
_DOSSIER = re.compile(rb"<MaHoSo>([^<]+)</MaHoSo>")


# One bench client sends what a province's many would: the per-client limits must not be what is measured.
UNTHROTTLED = "[limits]\nclient_rate = 1e9\nclient_burst = 1000000000\nclient_concurrent = 100000\n"


def packet_bytes(n: int) -> bytes:
    data = TEMPLATE.replace(_ID.search(TEMPLATE).group(1), str(uuid.uuid4()).encode(), 1)
    old = _DOSSIER.search(data).group(1)
    return data.replace(old, f"000.00.01.H22-241201-{n % 500:04d}".encode())


def new_packet(n: int) -> NewPacket:
    raw = packet_bytes(n)
    return NewPacket(_ID.search(raw).group(1).decode(), hashlib.sha256(raw).hexdigest(), raw, "xml",
                     "bench", datetime.now(UTC), "TienDoXuLy", f"D{n % 500}")


def store_level(url: str, count: int) -> tuple[float, float, int]:
    store = open_store(url)
    try:
        singles = [new_packet(n) for n in range(count // 4)]
        started = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda p: store.accept(p, ["national_portal"]), singles))
        one_by_one = len(singles) / (time.perf_counter() - started)

        grouped = [new_packet(n) for n in range(count)]
        committer = GroupCommitter(store, batch_max=128)
        started = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda p: committer.submit(p, ["national_portal"]).result(), grouped))
        group = len(grouped) / (time.perf_counter() - started)
        committer.close()
        return one_by_one, group, committer.commits
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _drive(port: int, key: str, count: int, connections: int,
                 rate: float | None = None) -> tuple[float, list[float], int]:
    """Keep-alive HTTP/1.1 over raw asyncio streams (httpx's async pool, not the server, was the
    bottleneck at 64 connections). With ``rate``, requests are scheduled open-loop at that pace
    and latency counts from the scheduled moment, so queueing shows."""
    bodies = [packet_bytes(n) for n in range(count)]
    latencies: list[float] = []
    refused = 0
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    started = time.perf_counter()
    for n, body in enumerate(bodies):
        queue.put_nowait((started + n / rate if rate else 0.0, body))

    async def connection() -> None:
        nonlocal refused
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not queue.empty():
            due, body = queue.get_nowait()
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            sent = time.perf_counter()
            writer.write(b"POST /v1/packets HTTP/1.1\r\nHost: bench\r\nContent-Type: application/xml\r\n"
                         + f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - (due if rate else sent))
            refused += status != 202
        writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return count / (time.perf_counter() - started), latencies, refused


def end_to_end(count: int, workers: int, tmp: Path) -> tuple[float, float, float, int]:
    key = "bench-key"
    config = tmp / f"bench-{workers}.toml"
    db = tmp / f"bench-{workers}.db"
    config.write_text(f'[store]\nurl = "sqlite:///{db}"\n{UNTHROTTLED}[clients.bench]\nkey_sha256 = '
                      f'"{hashlib.sha256(key.encode()).hexdigest()}"\n', encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("gateway")), "serve", "--config", str(config),
                               "--port", str(port), "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        asyncio.run(_drive(port, key, 200, 16))  # warm-up
        rate, _, refused = asyncio.run(_drive(port, key, count, 64))
        _, latencies, refused_steady = asyncio.run(_drive(port, key, min(count, 2500), 64, rate=500))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    cuts = statistics.quantiles(latencies, n=100)
    return rate, cuts[49] * 1000, cuts[98] * 1000, refused + refused_steady


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packets", type=int, default=3000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"packets: {args.packets} TienDoXuLy XML ({len(TEMPLATE)} bytes), 1 route each, 2-core machine\n")
        urls = {"sqlite (WAL, synchronous=FULL)": f"sqlite:///{tmp}/store.db"}
        if not args.skip_postgres:
            pg = os.environ.get("GATEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
            import psycopg

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(pg, autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
            urls["postgresql"] = f"{pg}?options=-csearch_path%3D{schema}"
        print("store level, 32 submitting threads          one commit each   group commit   ratio   commits")
        try:
            for name, url in urls.items():
                single, group, commits = store_level(url, args.packets)
                print(f"  {name:42} {single:10.0f}/s {group:12.0f}/s {group / single:7.1f}x {commits:8d}")
        finally:
            if "postgresql" in urls:
                with psycopg.connect(pg, autocommit=True) as connection:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        print("\nHTTP end to end (gateway serve, SQLite, validation on, client on the same machine):")
        print("max accepted/s with 64 connections; accept latency at a steady 500/s (open loop)")
        for workers in (1, 2):
            rate, p50, p99, refused = end_to_end(args.packets, workers, tmp)
            print(f"  {workers} API process(es): {rate:7.0f} accepted/s   at 500/s: p50 {p50:6.1f} ms  "
                  f"p99 {p99:6.1f} ms   not-202: {refused}")


if __name__ == "__main__":
    main()
