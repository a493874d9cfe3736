"""``gateway db upgrade|backup|restore``, ``gateway purge`` and ``gateway serve`` as real subprocesses."""

from datetime import UTC, datetime
import hashlib
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx

from gateway.store import AttemptRecord, JobFilter, JobState, NewPacket, Store, open_store

GATEWAY = str(Path(sys.executable).with_name("gateway"))
EXAMPLES = Path(__file__).parents[2] / "examples"


def run(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([GATEWAY, *args], capture_output=True, text=True, timeout=120, **kwargs)
    assert not check or done.returncode == 0, done.stderr
    return done


def packet(dossier: str) -> NewPacket:
    packet_id = str(uuid.uuid4())
    raw = f'{{"MaGoiTin": "{packet_id}", "ChuHoSo": "Lê Văn Tám"}}'.encode()
    return NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "json", "portal", datetime.now(UTC),
                     "HoSo", dossier)


WRITER = """
import sys, uuid, hashlib, time
from datetime import UTC, datetime
from gateway.store import NewPacket, open_store
store = open_store(sys.argv[1])
print("ready", flush=True)
while True:
    batch = []
    for _ in range(20):
        pid = str(uuid.uuid4()); raw = pid.encode() * 50
        batch.append((NewPacket(pid, hashlib.sha256(raw).hexdigest(), raw, "json", "w", datetime.now(UTC),
                                "TienDoXuLy", "D-" + pid[:2]), ["national_portal"]))
    store.accept_many(batch)
"""


def test_online_backup_while_writing_then_restore(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        backup_file = tmp_path / "backup.db"
        done = run("db", "backup", str(backup_file), "--store", url)
        assert "backed up" in done.stdout and backup_file.exists()
        assert "exists" in run("db", "backup", str(backup_file), "--store", url, check=False).stderr
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()

    live, copy = open_store(url), open_store(f"sqlite:///{backup_file}", migrate=False)
    try:
        copied = copy.find_jobs(JobFilter(limit=100_000))
        assert copied, "the backup holds the rows committed before it"
        assert len(live.find_jobs(JobFilter(limit=100_000))) >= len(copied)
        sample = copied[len(copied) // 2]
        assert copy.get_packet(sample.packet_id).raw == live.get_packet(sample.packet_id).raw
    finally:
        live.close()
        copy.close()

    target = tmp_path / "restored.db"
    restored_url = f"sqlite:///{target}"
    done = run("db", "restore", str(backup_file), "--store", restored_url)
    assert "restored" in done.stdout
    refused = run("db", "restore", str(backup_file), "--store", restored_url, check=False)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert run("db", "restore", str(backup_file), "--store", restored_url, "--force").returncode == 0
    again = open_store(restored_url)
    try:
        assert again.count_jobs(JobFilter()) == len(copied)
    finally:
        again.close()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert "not a gateway database" in run("db", "restore", str(junk), "--store", f"sqlite:///{tmp_path}/x.db",
                                           check=False).stderr


def test_backup_refuses_postgres_with_a_pointer_to_pg_dump(tmp_path: Path) -> None:
    done = run("db", "backup", str(tmp_path / "b.db"), "--store", "postgresql://postgres@127.0.0.1/test", check=False)
    assert done.returncode == 2 and "pg_dump" in done.stderr


def test_db_upgrade_reports_the_revision(store_url: str) -> None:
    from gateway.store import migrate

    assert f"→ {migrate.head()}" in run("db", "upgrade", "--store", store_url).stdout


def test_purge_commands(store: Store, store_url: str) -> None:
    mine, other = packet("D-person"), packet("D-other")
    store.accept(mine, ["national_portal"])
    store.accept(other, ["national_portal"])
    assert "exactly one of --dossier" in run("purge", "--store", store_url, check=False).stderr
    done = run("purge", "--store", store_url, "--dossier", "D-person", "--yes", "--actor", "dpo",
               "--reason", "đơn yêu cầu xoá 12/2026")
    assert "1" in done.stdout and store.get_packet(mine.packet_id).raw is None
    assert store.audit_log("D-person")[0]["actor"] == "dpo"
    (batch,) = store.claim("national_portal", "w", limit=5, max_batch=1, lease_seconds=30, now=datetime.now(UTC))
    store.complete(batch[0].job_id, "w", AttemptRecord(datetime.now(UTC), 1, "delivered"))
    run("purge", "--store", store_url, "--delivered-older-than", "retention")
    assert store.get_packet(other.packet_id).raw is not None  # delivered just now
    assert "invalid duration" in run("purge", "--store", store_url, "--delivered-older-than", "soon",
                                     check=False).stderr
    assert store.get_job(batch[0].job_id).state is JobState.DELIVERED


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_accepts_packets_in_a_real_process(store_url: str, tmp_path: Path) -> None:
    key = "khoa-thu-nghiem-serve"
    config = tmp_path / "gateway.toml"
    config.write_text(f'[clients.portal]\nkey_sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n',
                      encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen([GATEWAY, "serve", "--config", str(config), "--store", store_url, "--port", str(port),
                               "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "gateway serve did not start"
            time.sleep(0.2)
        data = (EXAMPLES / "TienDoXuLy.json").read_bytes()
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/packets", content=data, timeout=30,
                            headers={"content-type": "application/json", "authorization": f"Bearer {key}"})
        assert answer.status_code == 202, answer.text
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    store = open_store(store_url, migrate=False)
    try:
        assert store.get_packet(answer.json()["MaGoiTin"]).raw == data
    finally:
        store.close()
    assert "Lê" not in output and "001190012345" not in output  # no personal data in the server's log
