"""The receipts a bundle carries are the bytes the gateway answered (issue 17): accepted over real HTTP with
the gateway's key, kept by the intake, exported, and checked offline — signature included; a receipt
edited in the store is named by the verifier."""

import hashlib
import json
from pathlib import Path
import re
import uuid
import zipfile

from cryptography import x509
from fastapi.testclient import TestClient
import pytest
import sqlalchemy as sa

from gateway.api import create_app
from gateway.config import Config
from gateway.evidence.check import verify_bundle
from gateway.evidence.export import export_bundle
from gateway.store import open_store
from gateway.store.tables import receipts
from signing.signer import KeySigner
from tests.receive.test_signed_receipts import EXAMPLES, gateway_key

DOSSIER = "000.00.01.H22-241201-0001"
_ID = re.compile(rb"MaGoiTin(?:>|\":\s*\")([0-9a-f-]{36})")
API_KEY = "khoa-bien-nhan-goc"


def _accept(store_url: str, tmp_path: Path, signing: str = "") -> tuple[dict[str, bytes], KeySigner, x509.Certificate]:
    """Two packets (XML, JSON) of one dossier accepted over HTTP; returns packet id → receipt text answered.
    ``signing``: more lines of the ``[signing]`` section (a TSA)."""
    key_path, cert_path = gateway_key(tmp_path)
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(
        f'[store]\nurl = "{store_url}"\n[signing]\nkey = "{key_path}"\ncert = "{cert_path}"\n{signing}'
        f'[clients.portal]\nkey_sha256 = "{hashlib.sha256(API_KEY.encode()).hexdigest()}"\n', encoding="utf-8")
    answered: dict[str, bytes] = {}
    with TestClient(create_app(Config.load(config_file))) as client:
        for kind, media in (("xml", "application/xml"), ("json", "application/json")):
            packet_id = str(uuid.uuid4())
            data = (EXAMPLES / f"TienDoXuLy.{kind}").read_bytes()
            data = data.replace(_ID.search(data).group(1), packet_id.encode(), 1)
            answer = client.post("/v1/packets", content=data,
                                 headers={"content-type": media, "authorization": f"Bearer {API_KEY}"})
            assert answer.status_code == 202, answer.text
            body = answer.json()["BienNhan"]
            answered[packet_id] = (body if isinstance(body, str) else json.dumps(body)).encode()
    signer = KeySigner.from_pem(key_path, cert_path)
    return answered, signer, signer.certificate


def _bundle_receipts(bundle: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    with zipfile.ZipFile(bundle) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        origins = {p["packet_id"]: p["receipt"] for p in manifest["packets"]}
        by_stem = {p["stem"].replace("packets/", "receipts/", 1): p["packet_id"] for p in manifest["packets"]}
        found = {by_stem[name.rsplit(".", 1)[0]]: opened.read(name) for name in opened.namelist()
                 if name.startswith("receipts/")}
    return origins, found


@pytest.mark.postgres
def test_a_bundle_carries_the_receipts_as_answered_and_the_verifier_checks_them(store_url: str,
                                                                                 tmp_path: Path) -> None:
    answered, signer, cert = _accept(store_url, tmp_path)  # the app closed: the intake wrote its receipts
    store = open_store(store_url)
    try:
        bundle = tmp_path / "evidence.zip"
        export_bundle(store, DOSSIER, bundle, signer=signer, actor="auditor")
        origins, found = _bundle_receipts(bundle)
        assert set(origins.values()) == {"original"} and set(found) == set(answered)
        for packet_id, text in answered.items():
            kept = found[packet_id]
            if not kept.startswith(b"{"):
                assert kept == text  # the very bytes answered (XML-DSig, compact JWS)
            else:
                assert json.loads(kept) == json.loads(text)
            assert store.receipt_of(packet_id) == kept
        report = verify_bundle(bundle, [cert])
        assert report.ok, report.to_dict()
        assert sum("the receipt's signature holds (original)" in note for note in report.notes) == 2

        # Someone edits a kept receipt's signature in the store (its hash line left as it was):
        xml_id = next(pid for pid, text in answered.items() if text.startswith(b"<"))
        original = store.receipt_of(xml_id)
        assert original is not None
        value = re.search(rb"<(?:\w+:)?SignatureValue[^>]*>\s*(\S)", original)
        assert value is not None
        at = value.start(1)
        forged = original[:at] + (b"B" if original[at:at + 1] != b"B" else b"C") + original[at + 1:]
        with store.engine.begin() as connection:
            connection.execute(sa.update(receipts).where(receipts.c.packet_id == xml_id).values(document=forged))
        again = tmp_path / "again.zip"
        export_bundle(store, DOSSIER, again, signer=signer, actor="auditor")
        checked = verify_bundle(again, [cert])
        assert not checked.ok
        assert [p.place for p in checked.problems] == [
            n for n in zipfile.ZipFile(again).namelist() if n.startswith("receipts/") and n.endswith(".xml")]
        assert "receipt's signature fails" in checked.problems[0].message_en
    finally:
        store.close()


@pytest.mark.postgres
def test_a_packet_without_a_kept_receipt_gets_one_reissued_and_the_manifest_says_so(store_url: str,
                                                                                     tmp_path: Path) -> None:
    answered, signer, cert = _accept(store_url, tmp_path)
    store = open_store(store_url)
    try:
        lost = next(iter(answered))
        with store.engine.begin() as connection:
            connection.execute(sa.delete(receipts).where(receipts.c.packet_id == lost))
        kept = next(p for p in answered if p != lost)
        before = store.receipt_of(kept)
        store.keep_receipts([(kept, b"<later/>", "unsigned")])  # the first answer kept stays the evidence
        assert store.receipt_of(kept) == before is not None
        bundle = tmp_path / "evidence.zip"
        export_bundle(store, DOSSIER, bundle, signer=signer, actor="auditor")
        origins, found = _bundle_receipts(bundle)
        assert origins == {lost: "reissued", kept: "original"} and set(found) == {lost, kept}
        report = verify_bundle(bundle, [cert])
        assert report.ok, report.to_dict()
        assert any("(reissued)" in note for note in report.notes)
    finally:
        store.close()


def test_the_offline_check_reads_a_timestamped_json_receipt() -> None:
    """A JSON receipt with a TSA timestamp is a flattened JWS (the token in its unprotected header): the
    offline check reads its BamSHA256 from the payload, as it does for a compact JWS (found by ./run)."""
    import base64
    import json

    from gateway.evidence.check import _receipt_hash

    body = {"LoaiGoiTin": "BienNhan", "NoiDung": {"BienNhan": {"BamSHA256": "ab" * 32}}}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    flattened = {"payload": payload, "protected": "e30", "signature": "c2ln", "header": {"etsiU": []}}
    assert _receipt_hash(json.dumps(flattened).encode()) == "ab" * 32
    assert _receipt_hash(f"e30.{payload}.c2ln".encode()) == "ab" * 32
