"""Data at rest: payloads sealed (AES-GCM) under a key ring with key ids, rotation by ``gateway db rekey``,
hashes and receipts unchanged, delivery, replay and purge working with sealing on (both stores); store
files, backups and folders created for their owner only."""

from datetime import UTC, datetime, timedelta
import hashlib
import os
from pathlib import Path
import stat

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.console.accounts import ALL_AGENCIES, Operator
from gateway.console.data import packet_raw
from gateway.receive.ownership import Ownership
from gateway.store import AttemptRecord, NewPacket, open_store
from gateway.store.sealing import KEY_FILE_ENV, KEYS_ENV, MAGIC, KeyRing, SealingError, key_id_of, new_key_line
from gateway.store.sql import SqlStore
from gateway.store.tables import packets

RAW = '{"GoiTin": {"HoTen": "Nguyễn Thị Thu Hương", "SoCCCD": "001190012345"}}'.encode()
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def packet(packet_id: str, raw: bytes = RAW, dossier: str = "D1") -> NewPacket:
    return NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "json", "test", NOW, "HoSo", dossier)


def ring(*ids: str) -> KeyRing:
    return KeyRing.parse(",".join(new_key_line(key_id) for key_id in ids))


def stored_bytes(store: SqlStore, packet_id: str) -> bytes:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(packets.c.raw).where(packets.c.packet_id == packet_id)).scalar_one()


def attempt() -> AttemptRecord:
    return AttemptRecord(NOW, 5, "permanent", "422", "refused")


def test_sealed_payloads_read_back_exactly_and_every_operation_works(store_url: str) -> None:
    keys = ring("k1")
    store = SqlStore(store_url, keys=keys)
    try:
        result = store.accept(packet("p1"), ["dest"])
        assert result.sha256 == hashlib.sha256(RAW).hexdigest()  # the receipt's hash: of the bytes received
        at_rest = stored_bytes(store, "p1")
        assert at_rest.startswith(MAGIC) and key_id_of(at_rest) == "k1"
        assert b"Nguy" not in at_rest and b"001190012345" not in at_rest and "Hương".encode() not in at_rest
        view = store.get_packet("p1")
        assert view is not None and view.raw == RAW and view.sha256 == hashlib.sha256(view.raw).hexdigest()
        assert store.stored_raw(["p1"]) == {"p1": RAW}
        # every other reader of payloads opens them too: evidence bundles, the A→B→A check, the console
        assert [view.raw for view in store.dossier_packets("D1")] == [RAW]
        assert store.latest_changes(["D1"]) == {} or store.latest_changes(["D1"])["D1"][2] == RAW
        everyone = Operator("t", "admin", (ALL_AGENCIES,), False)
        assert packet_raw(store.engine, "p1", everyone, Ownership({}), store.keys) == (RAW, "json", "D1")
        (batch,) = store.claim("dest", "w", limit=1, max_batch=1, lease_seconds=5, now=NOW)
        assert batch[0].raw == RAW
        assert store.dead_letter(batch[0].job_id, "w", attempt(), "refused")
        assert store.replay([batch[0].job_id], "op", "fixed", now=NOW) == 1
        (again,) = store.claim("dest", "w", limit=1, max_batch=1, lease_seconds=5, now=NOW + timedelta(seconds=1))
        assert again[0].raw == RAW
        assert store.purge_dossier("D1", "op", "deletion request") == 1
        purged = store.get_packet("p1")
        assert purged is not None and purged.raw is None and purged.sha256 == result.sha256
    finally:
        store.close()


def test_a_moved_payload_does_not_open(store_url: str) -> None:
    store = SqlStore(store_url, keys=ring("k1"))
    try:
        store.accept(packet("p1"), ["dest"])
        store.accept(packet("p2", b'{"other": 1}', "D2"), ["dest"])
        moved = stored_bytes(store, "p1")
        with store.engine.begin() as connection:  # someone with the database but not the key swaps rows
            connection.execute(packets.update().where(packets.c.packet_id == "p2").values(raw=moved))
        with pytest.raises(Exception):  # noqa: B017 - the packet id is the associated data: authentication fails
            store.get_packet("p2")
    finally:
        store.close()


def test_rotation_old_keys_keep_opening_until_rekey_moves_everything(store_url: str) -> None:
    first, later = ring("k1"), ring("k2")
    plain = SqlStore(store_url, keys=None)
    plain.accept(packet("p0", b'{"before": "encryption"}', "D0"), ["dest"])
    plain.close()
    old = SqlStore(store_url, keys=first, migrate=False)
    old.accept(packet("p1"), ["dest"])
    old.close()
    both = KeyRing({**later.keys, **first.keys}, "k2")  # the new key first: it seals; the old one still opens
    store = SqlStore(store_url, keys=both, migrate=False)
    try:
        store.accept(packet("p2", b'{"after": "rotation"}', "D2"), ["dest"])
        assert [key_id_of(stored_bytes(store, p)) for p in ("p0", "p1", "p2")] == [None, "k1", "k2"]
        assert store.get_packet("p0").raw == b'{"before": "encryption"}'
        assert store.get_packet("p1").raw == RAW
        assert store.rekey("op", batch=2) == {"changed": 2, "kept": 1}
        assert [key_id_of(stored_bytes(store, p)) for p in ("p0", "p1", "p2")] == ["k2", "k2", "k2"]
        assert store.rekey("op") == {"changed": 0, "kept": 3}
        assert store.audit_log("packets")[0]["action"] == "store.rekey"
    finally:
        store.close()
    only_new = SqlStore(store_url, keys=later, migrate=False)  # the old key may leave the ring now
    try:
        assert only_new.get_packet("p1").raw == RAW
    finally:
        only_new.close()
    only_old = SqlStore(store_url, keys=first, migrate=False)
    try:
        with pytest.raises(SealingError, match="k2"):
            only_old.get_packet("p1")
    finally:
        only_old.close()


def test_the_key_ring_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    line_1, line_2 = new_key_line("2026-12"), new_key_line("2026-06")
    keys = KeyRing.from_environment({KEYS_ENV: f"{line_1},{line_2}"})
    assert keys is not None and keys.current == "2026-12" and set(keys.keys) == {"2026-12", "2026-06"}
    assert KeyRing.from_environment({}) is None
    key_file = tmp_path / "store.keys"
    key_file.write_text(f"# newest first\n{line_2}\n{line_1}\n", encoding="utf-8")
    key_file.chmod(0o644)
    with pytest.raises(SealingError, match="chmod 600"):
        KeyRing.from_environment({KEY_FILE_ENV: str(key_file)})
    key_file.chmod(0o600)
    assert KeyRing.from_environment({KEY_FILE_ENV: str(key_file)}).current == "2026-06"
    for wrong in ("k1:c2hvcnQ=", "k 1:" + line_1.split(":")[1], f"{line_1},{line_1}", "k1:not base64!"):
        with pytest.raises(SealingError):
            KeyRing.parse(wrong)


def test_db_rekey_and_new_key_commands(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["db", "new-key", "tinh-2026"])
    assert made.exit_code == 0 and made.output.startswith("tinh-2026:")
    plain = open_store(store_url)
    plain.accept(packet("p1"), ["dest"])
    plain.close()
    monkeypatch.setenv(KEYS_ENV, made.output.strip())
    result = runner.invoke(cli, ["db", "rekey", "--store", store_url, "--actor", "op"])
    assert result.exit_code == 0, result.output
    assert "1 gói tin" in result.output
    store = open_store(store_url)
    try:
        assert key_id_of(stored_bytes(store, "p1")) == "tinh-2026"
        assert store.get_packet("p1").raw == RAW
    finally:
        store.close()
    monkeypatch.delenv(KEYS_ENV)
    refused = runner.invoke(cli, ["db", "rekey", "--store", store_url])
    assert refused.exit_code == 2 and KEYS_ENV in refused.output


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_backups_and_folders_are_their_owners_only(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "store"
    url = f"sqlite:///{folder}/gateway.db"
    store = open_store(url)
    try:
        store.accept(packet("p1"), ["dest"])
        files = [folder / name for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm")]
        assert all(f.exists() for f in files)
        assert [mode(f) for f in files] == [0o600] * 3 and mode(folder) == 0o700
        backup = tmp_path / "backups" / "gateway-backup.db"
        backup.parent.mkdir()
        result = CliRunner().invoke(cli, ["db", "backup", str(backup), "--store", url])
        assert result.exit_code == 0, result.output
        assert mode(backup) == 0o600
    finally:
        store.close()
    # A store left world-readable by an older version is narrowed when it is opened.
    for each in folder.iterdir():
        each.chmod(0o644)
    open_store(url).close()
    assert {each.name: mode(each) for each in folder.iterdir()} == {each.name: 0o600 for each in folder.iterdir()}
    restored = tmp_path / "restored" / "gateway.db"
    result = CliRunner().invoke(cli, ["db", "restore", str(backup), "--store", f"sqlite:///{restored}"])
    assert result.exit_code == 0, result.output
    assert mode(restored) == 0o600 and mode(restored.parent) == 0o700
    assert os.stat(restored).st_size > 0
