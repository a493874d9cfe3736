"""The SQLite file on a full disk: a small tmpfs (mounting needs root; skipped with the reason
otherwise) holds the store; the API runs as its own process. Once the disk is full, new packets are
refused with 503 and Retry-After and nothing of them is stored; when space returns the same packets
are accepted, and a worker then delivers every one, each dossier in order."""

from collections import defaultdict
from collections.abc import Iterator
import os
from pathlib import Path
import sqlite3
import subprocess
import sys

import httpx
import pytest

from gateway.deliver.traffic import Traffic
from gateway.store.api import JobFilter, JobState, open_store

from tests.delivery.test_crash import (DEST, GATEWAY, Process, api_up, free_port, wait_until,
                                       write_config)

DISK = "6m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a {DISK} tmpfs here (needs root and mount rights): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Takes every free byte of ``disk``."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def post(client: httpx.Client, base: str, packet) -> httpx.Response:
    return client.post(f"{base}/v1/packets", content=packet.raw, headers={"Content-Type": packet.content_type})


def test_a_full_disk_refuses_new_work_clearly_and_loses_nothing(small_disk, peer, tmp_path):
    url = f"sqlite:///{small_disk / 'gateway.db'}"
    open_store(url).close()  # the schema, before the disk fills
    key = os.urandom(16).hex()
    config = write_config(tmp_path / "gateway.toml", url, peer, key)
    env = {**os.environ, "GATEWAY_CONFIG": str(config)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = Process("api", [sys.executable, "-m", "uvicorn", "--factory", "gateway.api:create_app",
                          "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env, tmp_path / "api.log")
    worker = Process("worker", [*GATEWAY, "worker", "--name", "disk"], env, tmp_path / "worker.log")
    traffic = Traffic(seed=6)
    dossiers = [traffic.dossier(n, steps=3, encoding="json" if n % 2 else "xml") for n in range(1, 41)]
    # dossier by dossier, so that what is refused is a dossier's tail and order can be checked after
    packets = [p for d in dossiers for p in d]
    api.start()
    try:
        wait_until(lambda: api_up(base), 60, "the API")
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {key}"}) as client:
            before = [post(client, base, p) for p in packets[:40]]
            assert {a.status_code for a in before} <= {200, 202}
            filler = fill(small_disk)
            refused, answers = [], []
            for packet in packets[40:]:
                answer = post(client, base, packet)
                answers.append(answer.status_code)
                if answer.status_code != 503:
                    assert answer.status_code in (200, 202), answer.text
                    assert not refused, "once refused, the disk stays full"
                    continue
                assert answer.headers.get("Retry-After"), "a full disk says when to try again"
                assert answer.json()["error"] == "store.unavailable"
                refused.append(packet)
            assert len(refused) >= 20, f"the full disk refused new packets: {answers}"
            with sqlite3.connect(f"file:{small_disk / 'gateway.db'}?mode=ro", uri=True) as db:
                assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
                stored = {row[0] for row in db.execute("SELECT packet_id FROM packets")}
                jobs = {row[0] for row in db.execute("SELECT packet_id FROM jobs")}
            assert stored == jobs, "every stored packet has its job: nothing half-stored"
            assert not stored & {p.packet_id for p in refused}, "nothing of a refused packet was stored"

            filler.unlink()  # space returns: the senders' resends go through
            again = [post(client, base, p) for p in refused]
            assert {a.status_code for a in again} <= {200, 202}, [a.text[:200] for a in again if a.status_code >= 300]
        worker.start()
        store = open_store(url, migrate=False)
        try:
            wait_until(lambda: store.count_jobs(JobFilter(destination=DEST, state=JobState.DELIVERED)) == len(packets),
                       120, "every packet delivered")
        finally:
            store.close()
    finally:
        worker.stop() if worker.proc else None
        api.stop()
    arrived: dict[str, list[str]] = defaultdict(list)
    for delivery in peer.deliveries():
        if delivery["key"] not in arrived[delivery["dossier"]]:
            arrived[delivery["dossier"]].append(delivery["key"])
    assert dict(arrived) == {d[0].dossier: [p.packet_id for p in d] for d in dossiers}
