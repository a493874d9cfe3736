"""Memory: peak RSS of ``gateway serve`` and ``gateway worker`` (the process and its children, sampled every
20 ms from /proc through psutil) idle, under load, and with one ~4 MB packet.

    .venv/bin/pip install -e '.[bench]'            # psutil
    .venv/bin/python bench/memory_bench.py --jobs 1000 --rounds 3

SQLite store; the destination is the local no-op peer (demo.testpeer).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
import copy
import hashlib
import http.client
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import delivery_bench as db
from gateway.deliver.traffic import Packet, Traffic
from gateway.store import JobFilter, JobState, open_store

MB = 1024 * 1024


class Peak:
    """The largest RSS (MiB) of a process tree, sampled on a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self.process, self.peak, self._stop = psutil.Process(pid), 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> float:
        total = 0
        for p in [self.process, *self.process.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / MB

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    @contextmanager
    def watch(self) -> Iterator[Peak]:
        self.peak, self._stop = self.rss(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def big_packet(target: int = 4_000_000) -> Packet:
    """One HoSo grown to ~``target`` bytes (under the default 4 MiB limit) with more submitted documents
    (TaiLieuNop), as a dossier with many attachments' records would be."""
    traffic = Traffic(seed=next(db.SEED))
    packet = traffic.dossier(1, 0, "json", prefix=f"{next(db.SEED) % 1000000:06d}")[0]
    document = json.loads(packet.raw)
    papers = document["NoiDung"]["HoSo"]["TaiLieuNop"]
    one = len(json.dumps(papers[0], ensure_ascii=False).encode())
    for n in range(max(1, (target - len(packet.raw)) // (one + 1))):
        paper = copy.deepcopy(papers[0])
        paper["TepDinhKemId"] = f"{n:09d}"
        papers.append(paper)
    raw = json.dumps(document, ensure_ascii=False).encode()
    return Packet(packet.packet_id, packet.dossier, packet.packet_type, "json", raw, packet.agency)


def serve(url: str, packets: list[Packet], big: Packet) -> dict[str, float]:
    """``gateway serve`` (one process): RSS after start-up, peak under 8 senders, peak with the big packet."""
    key = secrets.token_hex(16)
    client = f'[clients.bench]\nkey_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
    headers = {"Authorization": f"Bearer {key}"}
    with db.serving(url, 1, client) as port:
        peak = Peak(db.PIDS["server"])

        def post(connection: http.client.HTTPConnection, p: Packet) -> None:
            connection.request("POST", "/v1/packets", body=p.raw, headers={**headers, "Content-Type": p.content_type})
            answer = connection.getresponse()
            body = answer.read()
            assert answer.status == 202, (answer.status, body[:300])

        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        post(warm, db.dossiers(1, steps=0)[0][0])
        idle = peak.rss()

        def send(lane: list[Packet]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for p in lane:
                post(connection, p)
            connection.close()

        with peak.watch():
            db.timed_senders(send, db.lanes_of(packets, 8))
        loaded = peak.peak
        with peak.watch():
            post(warm, big)
        return {"idle": idle, "load": loaded, "big": peak.peak}


def worker(url: str, base: str, packets: list[Packet], big: Packet) -> dict[str, float]:
    """``gateway worker`` on a store holding ``packets`` then the big packet: RSS after start-up (nothing to
    do), peak while it delivers the packets, peak while it delivers the big one."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "worker.toml"
        cfg.write_text(f'[store]\nurl = "{url}"\n[destinations.{db.DEST}]\nconnector = "http"\nurl = "{base}/{db.DEST}"\n'
                       "concurrency = 8\nrate_per_second = 100000.0\nburst = 1000\nmax_batch = 1\n")
        store = open_store(url)
        done = JobFilter(destination=db.DEST, state=JobState.DELIVERED)

        def wait(count: int) -> None:
            deadline = time.monotonic() + 300
            while store.count_jobs(done) < count and time.monotonic() < deadline:
                time.sleep(0.05)

        with db.process([*db.GATEWAY, "worker", "--destination", db.DEST], {"GATEWAY_CONFIG": str(cfg)}) as proc:
            time.sleep(3)  # start-up
            peak = Peak(proc.pid)
            idle = peak.rss()
            with peak.watch():
                for start in range(0, len(packets), 500):
                    store.accept_many([(p.stored(), [db.DEST]) for p in packets[start:start + 500]])
                wait(len(packets))
            loaded = peak.peak
            with peak.watch():
                store.accept_many([(big.stored(), [db.DEST])])
                wait(len(packets) + 1)
            store.close()
            return {"idle": idle, "load": loaded, "big": peak.peak}


def measure(jobs: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {"serve": {}, "worker": {}}
    big = big_packet()
    out["big packet MB"] = {"size": [len(big.raw) / MB]}
    with db.peer() as base:
        for _ in range(rounds):
            with db.store_url("sqlite") as url:
                for k, v in serve(url, db.interleave(db.dossiers(max(1, jobs // 10))), big).items():
                    out["serve"].setdefault(k, []).append(v)
            with db.store_url("sqlite") as url:
                for k, v in worker(url, base, db.interleave(db.dossiers(max(1, jobs // 10))), big_packet()).items():
                    out["worker"].setdefault(k, []).append(v)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="each with fresh processes and a fresh store")
    args = parser.parse_args()
    for process, figures in measure(args.jobs, args.rounds).items():
        print(process, {k: [round(v, 1) for v in vs] for k, vs in figures.items()})
        print("  median (range) MiB:", ", ".join(f"{k} {statistics.median(vs):.0f} ({min(vs):.0f}–{max(vs):.0f})"
                                                   for k, vs in figures.items()))


if __name__ == "__main__":
    main()
