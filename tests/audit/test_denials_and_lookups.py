"""401s and CLI look-ups in the audit chain (issue 17): a bad key leaves an entry with the caller's address
and a hash hint, never the key; ``gateway portal lookup`` is audited before it runs, and does not run when
it cannot be audited. Both stores, real HTTP (TestClient) and the real command in a subprocess."""

import hashlib
import json
from pathlib import Path
import subprocess
import sys

from fastapi.testclient import TestClient
import pytest

from gateway.api import create_app
from gateway.audit.verify import verify_store
from gateway.config import Config
from gateway.store import open_store

GATEWAY = str(Path(sys.executable).with_name("gateway"))
GOOD, BAD = "khoa-dung-cua-he-thong", "khoa-sai-0123456789abcdef"


def _config(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n'
                    f'[clients.portal]\nkey_sha256 = "{hashlib.sha256(GOOD.encode()).hexdigest()}"\n'
                    f'evidence = true\n', encoding="utf-8")
    return path


@pytest.mark.postgres
def test_refused_keys_are_audited_with_a_hint_never_the_key(store_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(Config.load(_config(tmp_path, store_url)))) as client:
        assert client.post("/v1/packets", content=b"<GoiTin/>", headers={
            "content-type": "application/xml", "authorization": f"Bearer {BAD}"}).status_code == 401
        assert client.post("/v1/packets", content=b"<GoiTin/>",
                           headers={"content-type": "application/xml"}).status_code == 401
        assert client.get("/v1/evidence/000.00.01.H22-241201-0001", headers={"x-api-key": BAD}).status_code == 401
        assert client.post("/v1/validate", content=b"<GoiTin/>", headers={
            "content-type": "application/xml", "x-api-key": BAD}).status_code == 401
    store = open_store(store_url)  # the app closed: the batched rows are written
    try:
        denied = [e for e in store.audit_entries() if e.action == "auth.denied"]
        assert [(e.detail["endpoint"], e.detail["rule"]) for e in denied] == [
            ("/v1/packets", "auth.invalid"), ("/v1/packets", "auth.missing"), ("/v1/evidence", "auth.invalid"),
            ("/v1/validate", "auth.invalid")]
        hint = "sha256:" + hashlib.sha256(BAD.encode()).hexdigest()[:12]
        assert [e.detail["key"] for e in denied] == [hint, None, hint, hint]
        assert all(e.subject.startswith("address:") for e in denied)
        everything = json.dumps([[e.subject, e.detail] for e in store.audit_entries()], default=str)
        assert BAD not in everything and hashlib.sha256(BAD.encode()).hexdigest() not in everything
        assert verify_store(store).broken is None
    finally:
        store.close()


@pytest.mark.postgres
def test_a_cli_lookup_is_audited_before_it_runs(store_url: str, tmp_path: Path) -> None:
    config = _config(tmp_path, store_url)
    code = "000.00.01.H22-241201-0009"
    # No portal address configured: the command stops (exit 2) — after the look-up was recorded.
    done = subprocess.run([GATEWAY, "portal", "lookup", code, "--config", str(config)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "adapter_url" in done.stderr, done.stderr
    store = open_store(store_url)
    try:
        [entry] = [e for e in store.audit_entries() if e.action == "cli.lookup"]
        assert entry.subject == code and entry.dossier == code and entry.actor.startswith("cli:")
        assert entry.detail == {"command": "portal lookup",
                                "args": {"code": "sha256:" + hashlib.sha256(code.encode()).hexdigest()[:16]}}
        assert [e.n for e in store.audit_about(code)] == [entry.n]  # it shows in the dossier's evidence
    finally:
        store.close()


def test_a_lookup_that_cannot_be_audited_does_not_run(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[store]\nurl = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"\n'
                      '[national_portal]\nadapter_url = "http://127.0.0.1:9"\n', encoding="utf-8")
    done = subprocess.run([GATEWAY, "portal", "lookup", "000.00.01.H22-241201-0009", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert "could not be audited, not run" in done.stderr and "portal could not answer" not in done.stderr
