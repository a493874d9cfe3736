"""Evidence bundles on both stores: exported, copied to another folder and verified there in a
subprocess with only the zip and the gateway's certificate; one byte changed, a re-sealed zip with a
packet altered, a wrong certificate — each fails with the place named."""

from dataclasses import replace
import hashlib
import json
from pathlib import Path
import shutil
import subprocess
import sys
import zipfile

from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
import pytest

from gateway.config import Config
from gateway.evidence.check import verify_bundle
from gateway.evidence.export import NoSuchDossier, export_bundle
from gateway.api import create_app
from gateway.store import Store, open_store
from signing.signer import KeySigner
from tests.audit.conftest import history, packet
from tests.receive.test_signed_receipts import gateway_key

DOSSIER = "000.00.01.H22-241203-0001"
GATEWAY = [str(Path(sys.executable).with_name("gateway"))]


def offline_verify(bundle: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``gateway evidence verify`` in another folder, with no configuration or store to lean on."""
    elsewhere = bundle.parent
    return subprocess.run([*GATEWAY, "evidence", "verify", bundle.name, *options], cwd=elsewhere,
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "GATEWAY_CONFIG": str(elsewhere / "absent.toml")})


@pytest.fixture
def exported(store: Store, signer: KeySigner, tmp_path: Path) -> tuple[Path, Path, list]:
    """A bundle exported, then copied with the gateway's certificate to a folder of its own."""
    ours = history(store)
    bundle = tmp_path / "export" / "evidence.zip"
    bundle.parent.mkdir()
    result = export_bundle(store, DOSSIER, bundle, signer=signer, actor="auditor")
    assert (result.packets, result.jobs, result.signed) == (3, 3, True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(bundle, elsewhere / "evidence.zip")
    (elsewhere / "gateway.pem").write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    return elsewhere / "evidence.zip", elsewhere / "gateway.pem", ours


def test_a_bundle_holds_the_whole_dossier_and_nothing_of_others(exported: tuple[Path, Path, list]) -> None:
    bundle, _, ours = exported
    with zipfile.ZipFile(bundle) as opened:
        names = opened.namelist()
        raws = [opened.read(n) for n in names if n.startswith("packets/") and n.endswith(".xml")]
        manifest = json.loads(opened.read("manifest.json"))
        entries = [json.loads(line) for line in opened.read("audit/entries.jsonl").splitlines()]
        deliveries = [json.loads(opened.read(n)) for n in names if n.startswith("deliveries/")]
    assert sorted(raws) == sorted(p.raw for p in ours)  # exactly as received
    assert len([n for n in names if n.startswith("receipts/")]) == 3
    assert len([n for n in names if n.endswith(".report.json")]) == 3
    assert {d["state"] for d in deliveries} >= {"delivered"}
    assert any(a["peer_status"] == "503" and a["message"] == "busy" for d in deliveries for a in d["attempt_log"])
    whole = [e for e in entries if "action" in e]
    assert {e["action"] for e in whole} >= {"packets.accepted", "delivery.delivered", "evidence.export"}
    other = "000.00.01.H22-241203-0002"
    assert other not in json.dumps(entries)  # the other dossier's entries are there by digest only
    # the batch entries that accepted the dossier's packets: its items in clear, the other dossier's by hash
    items = [item for e in whole if e["action"] == "packets.accepted" for item in e["detail"]["items"]]
    assert sorted(i["packet_id"] for i in items if isinstance(i, dict)) == sorted(p.packet_id for p in ours)
    assert len([i for i in items if isinstance(i, str)]) == len(ours)
    assert any("action" not in e for e in entries)
    assert manifest["audit"]["checkpoint"] == entries[-1]["n"]
    assert manifest["files"]["audit/entries.jsonl"] == hashlib.sha256(
        zipfile.ZipFile(bundle).read("audit/entries.jsonl")).hexdigest()


def test_a_copied_bundle_verifies_offline_with_the_gateway_certificate(exported: tuple[Path, Path, list]) -> None:
    bundle, certificate, _ = exported
    answer = offline_verify(bundle, "--cert", certificate.name)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "intact" in answer.stdout and DOSSIER in answer.stdout


def test_one_byte_changed_fails_with_the_member_named(exported: tuple[Path, Path, list]) -> None:
    bundle, certificate, _ = exported
    with zipfile.ZipFile(bundle) as opened:
        target = next(i for i in opened.infolist() if i.filename.startswith("packets/") and i.filename.endswith(".xml"))
    data = bytearray(bundle.read_bytes())
    # The member's data starts after its local header (30 bytes, its name, its extra field).
    start = target.header_offset + 30 + len(target.filename.encode()) + len(target.extra)
    data[start + target.compress_size // 2] ^= 0x01
    bundle.write_bytes(bytes(data))
    answer = offline_verify(bundle, "--cert", certificate.name)
    assert answer.returncode == 1
    assert target.filename in answer.stdout, answer.stdout


def test_a_resealed_zip_with_a_packet_altered_fails_with_the_member_named(exported: tuple[Path, Path, list]) -> None:
    bundle, certificate, _ = exported
    with zipfile.ZipFile(bundle) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    name = next(n for n in members if n.startswith("packets/") and n.endswith(".xml"))
    members[name] = members[name].replace("Trần".encode(), "Trân".encode())
    with zipfile.ZipFile(bundle, "w") as resealed:  # valid CRCs: only the manifest's hashes know
        for member, data in members.items():
            resealed.writestr(member, data)
    report = verify_bundle(bundle, [])
    assert not report.ok and name in {p.place for p in report.problems}
    answer = offline_verify(bundle, "--cert", certificate.name)
    assert answer.returncode == 1 and name in answer.stdout


def test_an_edited_manifest_or_audit_entry_is_named(exported: tuple[Path, Path, list], signer: KeySigner) -> None:
    bundle, _, _ = exported
    with zipfile.ZipFile(bundle) as opened:
        members = {name: opened.read(name) for name in opened.namelist()}
    lines = members["audit/entries.jsonl"].decode().splitlines()
    index = next(i for i, line in enumerate(lines) if '"packets.accepted"' in line)
    entry = json.loads(lines[index])
    shown = next(item for item in entry["detail"]["items"] if isinstance(item, dict))
    shown["sha256"] = "0" * 64  # one item of the batch entry: its hash is no longer the one the digest covers
    lines[index] = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    members["audit/entries.jsonl"] = ("\n".join(lines) + "\n").encode()
    manifest = json.loads(members["manifest.json"])
    manifest["files"]["audit/entries.jsonl"] = hashlib.sha256(members["audit/entries.jsonl"]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()  # without the key: the old signature stays
    with zipfile.ZipFile(bundle, "w") as resealed:
        for member, data in members.items():
            resealed.writestr(member, data)
    places = {p.place for p in verify_bundle(bundle, [signer.certificate]).problems}
    assert "manifest.json" in places
    assert f"audit/entries.jsonl (mục / entry {entry['n']})" in places


def test_a_bundle_signed_by_another_key_is_refused(exported: tuple[Path, Path, list], tmp_path: Path) -> None:
    bundle, _, _ = exported
    (tmp_path / "other").mkdir()
    other = KeySigner.from_pem(*gateway_key(tmp_path / "other"))
    report = verify_bundle(bundle, [other.certificate])
    assert {p.place for p in report.problems} >= {"manifest.jws", "audit/checkpoint.json"}
    assert verify_bundle(bundle).ok  # no certificate given: intact, and the note says the signer is unchecked
    assert any("no trusted certificate" in note for note in verify_bundle(bundle).notes)


def test_after_a_purge_the_bundle_still_verifies_without_the_payloads(store: Store, signer: KeySigner,
                                                                     tmp_path: Path) -> None:
    history(store)
    store.purge_dossier(DOSSIER, "dpo", "yêu cầu của công dân")
    bundle = tmp_path / "purged.zip"
    export_bundle(store, DOSSIER, bundle, signer=signer, actor="auditor")
    names = zipfile.ZipFile(bundle).namelist()
    assert not [n for n in names if n.startswith("packets/") and n.endswith(".xml")]
    report = verify_bundle(bundle, [signer.certificate])
    assert report.ok, report.problems


def test_without_a_key_the_bundle_is_unsigned_and_says_so(store: Store, tmp_path: Path) -> None:
    history(store)
    bundle = tmp_path / "unsigned.zip"
    assert not export_bundle(store, DOSSIER, bundle, signer=None, actor="auditor").signed
    report = verify_bundle(bundle)
    assert report.ok and any("unsigned" in note for note in report.notes)
    with pytest.raises(NoSuchDossier):
        export_bundle(store, "no-such-dossier", tmp_path / "none.zip", signer=None, actor="auditor")


def test_the_api_gives_bundles_only_to_clients_allowed_and_only_of_their_agencies(
        store_url: str, signer: KeySigner, tmp_path: Path) -> None:
    keys = {"auditor": "k-auditor", "portal": "k-portal", "elsewhere": "k-elsewhere"}
    clients = {name: {"key_sha256": hashlib.sha256(key.encode()).hexdigest()} for name, key in keys.items()}
    clients["auditor"]["evidence"] = True
    clients["elsewhere"] |= {"evidence": True, "agencies": ["000.00.09.H99"]}
    cert = tmp_path / "cert.pem"
    cert.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    key = tmp_path / "key.pem"
    key.write_bytes(signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    base = Config.load()
    config = Config({**base.raw, "clients": clients, "store": {**base.section("store"), "url": store_url},
                     "signing": {**base.section("signing"), "key": str(key), "cert": str(cert)}}, "test")
    seeded = open_store(store_url)
    try:
        history(seeded)
    finally:
        seeded.close()
    with TestClient(create_app(config)) as client:
        assert client.get(f"/v1/evidence/{DOSSIER}").status_code == 401
        assert client.get(f"/v1/evidence/{DOSSIER}", headers={"X-API-Key": keys["portal"]}).status_code == 403
        assert client.get(f"/v1/evidence/{DOSSIER}", headers={"X-API-Key": keys["elsewhere"]}).status_code == 404
        answer = client.get(f"/v1/evidence/{DOSSIER}", headers={"Authorization": f"Bearer {keys['auditor']}"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    (tmp_path / "api.zip").write_bytes(answer.content)
    assert verify_bundle(tmp_path / "api.zip", [signer.certificate]).ok
    check = open_store(store_url)
    try:
        actions = [(e.actor, e.action) for e in check.audit_entries()]
    finally:
        check.close()
    assert ("portal", "evidence.denied") in actions and ("elsewhere", "evidence.denied") in actions
    assert ("auditor", "evidence.export") in actions and ("gateway", "config.loaded") in actions


@pytest.mark.postgres
def test_a_bundle_goes_to_the_recorded_owner_and_its_handover_not_to_the_packets_noigui(
        store_url: str, signer: KeySigner, tmp_path: Path) -> None:
    """An any-agency client created a dossier under agency H05's code while its packets say NoiGui H99: the
    store recorded H05 as the owner, so H05's client (and H07, to whom H05 hands over) get the bundle and
    H99's client is answered as for an unknown dossier — the same decision as look-ups and the console."""
    dossier = "000.00.05.H22-241203-0007"
    keys = {"fifth": "k-fifth", "seventh": "k-seventh", "ninth": "k-ninth"}
    agencies = {"fifth": "000.00.05.H22", "seventh": "000.00.07.H22", "ninth": "000.00.09.H99"}
    clients = {name: {"key_sha256": hashlib.sha256(key.encode()).hexdigest(), "evidence": True,
                      "agencies": [agencies[name]]} for name, key in keys.items()}
    base = Config.load()
    config = Config({**base.raw, "clients": clients, "store": {**base.section("store"), "url": store_url},
                     "ownership": {"handover": {"000.00.05.H22": ["000.00.07.H22"]}}}, "test")
    seeded = open_store(store_url)
    try:
        created = replace(packet(dossier, 1), agency="000.00.09.H99", owner="000.00.05.H22")
        seeded.accept_many([(created, ["postal"])])
        assert seeded.dossier_owner(dossier) == "000.00.05.H22"
    finally:
        seeded.close()
    with TestClient(create_app(config)) as client:
        def get(name: str) -> int:
            return client.get(f"/v1/evidence/{dossier}", headers={"X-API-Key": keys[name]}).status_code
        assert get("fifth") == 200 and get("seventh") == 200
        assert get("ninth") == 404
        unknown = client.get("/v1/evidence/000.00.09.H99-241203-0099", headers={"X-API-Key": keys["ninth"]})
        assert unknown.status_code == 404  # the unknown dossier and another agency's: the same answer
