"""Crash test: the API and two delivery workers as real processes, SIGKILLed at random moments while
thousands of packets over hundreds of dossiers flow through them, and restarted. Afterwards every
accepted packet is delivered, each dossier's packets reached the destination in acceptance order,
and every repeat the destination saw is the same packet under the same idempotency key.

Also: three workers on one PostgreSQL never send one job twice at once and keep each dossier's order.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
import hashlib
import os
from pathlib import Path
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from demo.testpeer import FaultyPeer
from gateway.deliver.traffic import Packet, Traffic
from gateway.store.api import JobFilter, JobState, open_store

DEST = "national_portal"  # where the default routes send HoSo and TienDoXuLy
GATEWAY = [sys.executable, "-c", "from gateway.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, store_url: str, peer: FaultyPeer, key: str, lease_seconds: float = 3.0,
                 extra: str = "") -> Path:
    path.write_text(f"""
[store]
url = "{store_url}"
batch_wait_ms = 2

[clients.crash_test]
key_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"

[delivery]
poll_seconds = 0.02
hold_check_seconds = 0.5

[destinations.{DEST}]
connector = "http"
url = "{peer.url}"
timeout_seconds = 2.0
lease_seconds = {lease_seconds}
concurrency = 8
rate_per_second = 5000.0
burst = 100
max_batch = 5
max_attempts = 1000
backoff_base_seconds = 0.05
backoff_cap_seconds = 0.5
{extra}""", encoding="utf-8")
    return path


class Process:
    """One gateway process, restartable; its output goes to a log file for post-mortems."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.log_offset = 0

    def started(self, banner: str) -> bool:
        """Whether the latest start got as far as logging ``banner`` (its signal handlers are in place)."""
        return banner.encode() in self.log.read_bytes()[self.log_offset:]

    def start(self) -> None:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -9
        return self.proc.returncode


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def api_up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


class Sender:
    """A one-stop system: sends each dossier's packets in order, resending (same bytes) until it has a receipt."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key
        self.accepted: list[str] = []
        self.resends = 0
        self.lock = threading.Lock()
        self.failures: list[str] = []

    def send_all(self, dossiers: list[list[Packet]], rng: random.Random) -> None:
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {self.key}"}) as client:
            queues = [list(d) for d in dossiers]
            while queues:
                queue = rng.choice(queues)
                self._send(client, queue.pop(0))
                if not queue:
                    queues.remove(queue)

    def _send(self, client: httpx.Client, packet: Packet) -> None:
        while True:
            try:
                answer = client.post(f"{self.base}/v1/packets", content=packet.raw,
                                     headers={"Content-Type": packet.content_type})
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code in (200, 202):
                with self.lock:
                    self.accepted.append(packet.packet_id)
                return
            if answer is not None and answer.status_code < 500 and answer.status_code != 429:  # 429: later
                with self.lock:
                    self.failures.append(f"{packet.packet_id}: {answer.status_code} {answer.text[:300]}")
                return
            with self.lock:
                self.resends += 1
            time.sleep(0.05)


@pytest.fixture
def peer() -> Iterator[FaultyPeer]:
    with FaultyPeer() as running:
        yield running


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_keeps_order(store, peer, tmp_path):
    key = os.urandom(16).hex()
    config = write_config(tmp_path / "gateway.toml", store.url, peer, key)
    env = {**os.environ, "GATEWAY_CONFIG": str(config)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = Process("api", [sys.executable, "-m", "uvicorn", "--factory", "gateway.api:create_app",
                          "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env, tmp_path / "api.log")
    workers = [Process(f"worker{i}", [*GATEWAY, "worker", "--name", f"w{i}"], env, tmp_path / f"worker{i}.log")
               for i in range(2)]
    processes = [api, *workers]
    peer.set_faults(error_rate=0.02, latency_ms=1, seed=5)  # a slightly unreliable destination too

    traffic = Traffic(seed=42)
    dossiers = [traffic.dossier(n, steps=6, encoding="json" if n % 3 else "xml") for n in range(1, 301)]
    total = sum(len(d) for d in dossiers)
    for process in processes:
        process.start()
    try:
        _run(store, peer, base, key, api, workers, dossiers, total)
    finally:
        for process in processes:
            process.stop()


def _run(store, peer, base, key, api, workers, dossiers, total,
         drain_seconds: float = 150) -> None:
    processes = [api, *workers]
    wait_until(lambda: api_up(base), 60, "the API")

    sender = Sender(base, key)
    lanes = [dossiers[i::6] for i in range(6)]  # six senders, each dossier always on one of them
    threads = [threading.Thread(target=sender.send_all, args=(lane, random.Random(i))) for i, lane in enumerate(lanes)]
    began = time.monotonic()
    for thread in threads:
        thread.start()

    chaos_rng = random.Random(7)
    kills_api = 0
    while any(t.is_alive() for t in threads):
        time.sleep(chaos_rng.uniform(0.6, 1.8))
        # the API first, then at random (an API restart costs the senders seconds, so workers more often)
        victim = chaos_rng.choice([api, *workers, *workers]) if kills_api else api
        victim.kill()
        time.sleep(chaos_rng.uniform(0.0, 0.4))
        victim.start()
        if victim is api:
            kills_api += 1
            wait_until(lambda: api_up(base), 60, "the API back")
    for thread in threads:
        thread.join()
    sent_in = time.monotonic() - began
    # one more kill of each worker while the backlog drains
    for process in workers:
        time.sleep(0.5)
        process.kill()
        process.start()

    assert not sender.failures, sender.failures[:5]
    assert len(sender.accepted) == total
    try:
        wait_until(lambda: store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED)) == total,
                   drain_seconds,
                   f"{total} jobs delivered")
    finally:
        wait_until(lambda: all(w.started("delivering to") for w in workers), 60, "workers up before SIGTERM")
        exit_codes = [p.stop() for p in processes]
    deliveries = peer.deliveries()
    expected = {d[0].dossier: [p.packet_id for p in d] for d in dossiers}
    hashes = {p.packet_id: hashlib.sha256(p.raw).hexdigest() for d in dossiers for p in d}
    seen: set[str] = set()
    arrived: dict[str, list[str]] = defaultdict(list)
    foreign = 0  # a delivery whose bytes are not the packet its key names (a repeat under another id)
    for delivery in deliveries:
        if delivery["sha256"] != hashes.get(delivery["key"]):
            foreign += 1
        elif delivery["key"] not in seen:
            seen.add(delivery["key"])
            arrived[delivery["dossier"]].append(delivery["key"])
    lost = len(set(hashes) - seen)
    order_breaks = sum(arrived.get(dossier) != ids for dossier, ids in expected.items())
    print(f"\n{total} packets, {len(dossiers)} dossiers: sent in {sent_in:.1f} s with {sender.resends} resends; "
          f"all delivered after {time.monotonic() - began:.1f} s; kills {[(p.name, p.kills) for p in processes]}; "
          f"accepted {len(sender.accepted)}, delivered {len(seen)}, lost {lost}, dossiers out of order "
          f"{order_breaks}, {len(deliveries) - total} repeated deliveries ({foreign} not the same packet under "
          f"its key); peer answers {peer.state.answered}")
    assert exit_codes[1:] == [0, 0], "workers stop cleanly on SIGTERM"
    assert sum(p.kills for p in processes) >= 5 and kills_api >= 1
    assert foreign == 0, "a repeat is the same packet under the same key"
    assert lost == 0 and seen == set(hashes), "every accepted packet reached the destination"
    assert order_breaks == 0 and dict(arrived) == expected, "each dossier's packets arrived in acceptance order"
    assert not store.find_jobs(JobFilter(state=JobState.DEAD))


@pytest.mark.slow
@pytest.mark.postgres
def test_three_workers_on_postgres_never_send_a_job_twice_at_once(postgres_url, peer, tmp_path):
    store = open_store(postgres_url)
    try:
        config = write_config(tmp_path / "gateway.toml", postgres_url, peer, "unused")
        env = {**os.environ, "GATEWAY_CONFIG": str(config)}
        peer.set_faults(latency_ms=5)
        traffic = Traffic(seed=3)
        packets = list(traffic.interleaved(dossiers=150, steps=5))
        for packet in packets:
            store.accept(packet.stored(), [DEST])
        workers = [Process(f"worker{i}", [*GATEWAY, "worker", "--name", f"pg{i}"], env, tmp_path / f"worker{i}.log")
                   for i in range(3)]
        for worker in workers:
            worker.start()
        try:
            wait_until(lambda: store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED)) == len(packets),
                       120, "every job delivered")
        finally:
            exit_codes = [w.stop() for w in workers]
        assert exit_codes == [0, 0, 0]
        deliveries = peer.deliveries()
        assert peer.state.key_overlaps == 0, "no job was in flight twice at once"
        assert peer.state.dossier_overlaps == 0, "one dossier is never in two calls at once"
        assert sorted(d["key"] for d in deliveries) == sorted(p.packet_id for p in packets), "each exactly once"
        expected: dict[str, list[str]] = defaultdict(list)
        for p in packets:
            expected[p.dossier].append(p.packet_id)
        arrived: dict[str, list[str]] = defaultdict(list)
        for d in deliveries:
            arrived[d["dossier"]].append(d["key"])
        assert arrived == expected
        assert {j.attempts for j in store.find_jobs(JobFilter(destination=DEST, limit=2000))} == {1}
        tallies = [re.search(r"stopped: DeliveryCounts\(delivered=(\d+)", w.log.read_text()) for w in workers]
        assert all(t and int(t.group(1)) > 0 for t in tallies), "all three workers took part"
    finally:
        store.close()


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def supervised(store, packets: list[Packet], config: Path, log: Path) -> Process:
    """``packets`` accepted, and ``gateway worker --processes 2`` started on them, both children delivering."""
    for packet in packets:
        store.accept(packet.stored(), [DEST])
    supervisor = Process("supervisor", [*GATEWAY, "worker", "--processes", "2", "--config", str(config)],
                         dict(os.environ), log)
    supervisor.start()
    assert supervisor.proc is not None
    pid, delivered = supervisor.proc.pid, JobFilter(destination=DEST, state=JobState.DELIVERED)
    try:
        wait_until(lambda: len(children_of(pid)) == 2 and store.count_jobs(delivered) > 20, 60, "two workers delivering")
    except AssertionError:
        supervisor.stop()
        raise
    return supervisor


def test_worker_processes_replace_a_killed_one_and_lose_nothing(store, peer, tmp_path):
    """``gateway worker --processes 2``: two delivering children; one SIGKILLed mid-run is replaced, every
    packet still arrives in its dossier's order, and SIGTERM stops the children with the supervisor."""
    config = write_config(tmp_path / "gateway.toml", store.url, peer, "unused")
    peer.set_faults(latency_ms=15)
    packets = list(Traffic(seed=5).interleaved(dossiers=40, steps=9))
    supervisor = supervised(store, packets, config, tmp_path / "supervisor.log")
    assert supervisor.proc is not None
    delivered = JobFilter(destination=DEST, state=JobState.DELIVERED)
    try:
        first, second = children_of(supervisor.proc.pid)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: first not in children_of(supervisor.proc.pid)
                   and len(children_of(supervisor.proc.pid)) == 2, 30, "a replacement")
        wait_until(lambda: store.count_jobs(delivered) == len(packets), 120, "every job delivered")
        survivors = children_of(supervisor.proc.pid)
    finally:
        exit_code = supervisor.stop()
    assert exit_code == 0 and second in survivors
    assert not any(Path(f"/proc/{pid}").exists() for pid in survivors), "the children stop with the supervisor"
    assert "started" in supervisor.log.read_text() and "in its place" in supervisor.log.read_text()
    seen: set[str] = set()
    arrived: dict[str, list[str]] = defaultdict(list)
    for delivery in peer.deliveries():
        if delivery["key"] not in seen:
            seen.add(delivery["key"])
            arrived[delivery["dossier"]].append(delivery["key"])
    expected: dict[str, list[str]] = defaultdict(list)
    for p in packets:
        expected[p.dossier].append(p.packet_id)
    assert dict(arrived) == dict(expected), "each dossier's packets arrived in acceptance order, all of them"
