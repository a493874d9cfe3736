"""Events at the door, through the real API: a packet refused by validation is audited by its hash and
the rules it broke (never its values), an accepted one by its hash and verdicts, in one verifiable chain."""

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.audit.verify import verify_store
from gateway.config import Config
from gateway.api import create_app
from gateway.store import open_store

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_refused_and_accepted_packets_are_audited_without_their_values(store_url: str) -> None:
    key = "khoa-kiem-toan"
    base = Config.load()
    config = Config({**base.raw, "store": {**base.section("store"), "url": store_url},
                     "clients": {"portal": {"key_sha256": hashlib.sha256(key.encode()).hexdigest()}}}, "test")
    wrong = (EXAMPLES / "invalid" / "bad-date.xml").read_bytes()
    right = (EXAMPLES / "HoSo.xml").read_bytes()
    headers = {"content-type": "application/xml", "authorization": f"Bearer {key}"}
    with TestClient(create_app(config)) as client:
        refused = client.post("/v1/packets", content=wrong, headers=headers)
        accepted = client.post("/v1/packets", content=right, headers=headers)
    assert refused.status_code == 422 and accepted.status_code == 202, accepted.text
    store = open_store(store_url)
    try:
        entries = store.audit_entries()
        assert verify_store(store).ok
    finally:
        store.close()
    (refusal,) = [e for e in entries if e.action == "packet.refused"]
    assert refusal.actor == "portal" and refusal.subject == hashlib.sha256(wrong).hexdigest()
    assert refusal.detail is not None and refusal.detail["status"] == 422 and refusal.detail["rules"]
    assert set(refusal.detail) == {"status", "rules", "signature"}
    (acceptance,) = [item for e in entries for item in e.accepted()]
    assert acceptance["sha256"] == hashlib.sha256(right).hexdigest()
    assert acceptance["valid"] is True and acceptance["dossier"]
