"""Signatures at the door: POST /v1/packets verifies XML-DSig and JWS with a test PKI made at test time.

The gateway runs in-process (FastAPI TestClient over the real app, real SQLite store); delivery
runs the real engine against the local test destination over HTTP; the signed receipt is checked
by the real ``gateway verify`` command.
"""

from collections.abc import Iterator
from dataclasses import dataclass
import hashlib
import itertools
import json
import os
from pathlib import Path
import subprocess
import sys
import time
import uuid

from fastapi.testclient import TestClient
from lxml import etree
import pytest

from gateway.config import Config
from gateway.deliver.engine import Engine
from gateway.deliver.policy import policy_from
from demo.testpeer import FaultyPeer
from gateway.packets.stored import load_packet
from gateway.api import create_app
from gateway.store.api import JobFilter, JobState
from signing.jws import b64url, canonical, sign_jws
from signing.xml_sign import sign_xml
from tests.signing.pki import TestPKI
from tests.signing.xmltools import with_ed25519_certificate

REPO = Path(__file__).resolve().parents[2]
NS = "{urn:congketnoi:qcvn120:v1}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
GATEWAY = Path(sys.executable).with_name("gateway")
KEYS = {name: f"khoa-{name}-{uuid.uuid4().hex[:8]}" for name in ("portal", "partner", "strict", "later", "nocheck")}
XML, JSON, JOSE = "application/xml", "application/json", "application/jose"
_serial = itertools.count(1)


def sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def fresh(kind: str = "TienDoXuLy", encoding: str = "xml") -> bytes:
    """An example packet with a new MaGoiTin and a dossier of its own (no status history in the way)."""
    data = (REPO / "examples" / f"{kind}.{encoding}").read_bytes()
    data = data.replace(b"8c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e", str(uuid.uuid4()).encode())
    return data.replace(b"000.00.01.H22-241201-0001", f"000.00.01.H22-241201-{next(_serial):04d}".encode())


def trust(pki: TestPKI, *, crls: bool = True) -> str:
    files = f'anchors = ["{pki["root"].cert_path}"]\nintermediates = ["{pki["intermediate"].cert_path}"]\n'
    return files + (f'crls = ["{pki.crl_path}", "{pki.root_crl_path}"]\n' if crls else "crls = []\n")


@dataclass
class Door:
    client: TestClient
    config: Config
    config_file: Path

    def post(self, data: bytes, media: str, who: str = "partner"):
        return self.client.post("/v1/packets", content=data,
                                headers={"content-type": media, "authorization": f"Bearer {KEYS[who]}"})

    def stored(self, data: bytes):
        store = self.client.app.state.intake.store
        return store.get_packet(load_packet(data, "json" if not data.startswith(b"<") else "xml").MaGoiTin)


@pytest.fixture
def door(pki: TestPKI, tmp_path: Path) -> Iterator[Door]:
    chain = tmp_path / "gateway-chain.pem"  # the gateway's own key signs receipts, with its chain
    chain.write_bytes(pki["ec256"].cert_pem + pki["intermediate"].cert_pem)
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(f"""
[store]
url = "sqlite:///{tmp_path}/gateway.db"
[signing]
key = "{pki['ec256'].key_path}"
cert = "{chain}"
[signing.intake]
signatures = "optional"
purpose = "t_partner"
retry_after_seconds = 7
[signing.purposes.t_partner]
{trust(pki)}cover = ["packet"]
[signing.purposes.t_citizen]
{trust(pki)}cover = ["packet", "body"]
[signing.purposes.t_require]
{trust(pki, crls=False)}revocation_mode = "require"
[signing.purposes.gateway]
{trust(pki)}
[clients.portal]
key_sha256 = "{sha(KEYS['portal'])}"
signature_purpose = "t_citizen"
[clients.partner]
key_sha256 = "{sha(KEYS['partner'])}"
[clients.strict]
key_sha256 = "{sha(KEYS['strict'])}"
signatures = "required"
signature_purpose = "t_citizen"
[clients.later]
key_sha256 = "{sha(KEYS['later'])}"
signature_purpose = "t_require"
[clients.nocheck]
key_sha256 = "{sha(KEYS['nocheck'])}"
signatures = "off"
""", encoding="utf-8")
    config = Config.load(config_file)
    with TestClient(create_app(config)) as client:
        yield Door(client, config, config_file)


def reasons(answer) -> list[str]:
    return [s["reason"] for s in answer.json()["signature"]["signatures"]]


# --- XML-DSig -----------------------------------------------------------------------------------

def test_whole_packet_signature_passes_into_receipt_and_store(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer())
    answer = door.post(signed, XML)
    assert answer.status_code == 202, answer.text
    assert answer.json()["KetQuaChuKy"] == "passed"
    assert "<KetQuaChuKy>passed</KetQuaChuKy>" in answer.json()["BienNhan"]
    kept = door.stored(signed)
    assert kept.raw == signed and kept.sha256 == sha(signed)  # the exact bytes received, for audit
    verdict = kept.verdicts["signature"]
    assert verdict["verdict"] == "passed" and verdict["covers"] == "packet" and verdict["purpose"] == "t_partner"
    assert "001099001234" not in json.dumps(verdict) and "0010****1234" in verdict["signatures"][0]["signer"]


def test_body_signature_by_id_passes_where_the_purpose_allows_it(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer(), cover="body")
    assert b'Id="NoiDung"' in signed and b'URI="#NoiDung"' in signed
    answer = door.post(signed, XML, who="portal")  # citizen purpose: the form alone may be signed
    assert answer.status_code == 202, answer.text
    assert answer.json()["KetQuaChuKy"] == "passed"
    verdict = door.stored(signed).verdicts["signature"]
    assert verdict["covers"] == "body" and "not signed" in verdict["note_en"]


def test_body_signature_is_refused_where_the_whole_packet_must_be_signed(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer(), cover="body")
    answer = door.post(signed, XML, who="partner")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "signature.refused" and "POLICY_FAILURE" in reasons(answer)
    assert answer.json()["message_vi"] and answer.json()["message_en"]
    assert door.stored(signed) is None


def test_a_signers_key_the_verifier_cannot_load_is_refused_not_a_server_error(door: Door, pki: TestPKI) -> None:
    """An Ed25519 certificate in KeyInfo: 422 with the reason, not 500 (libxmlsec1 cannot load such a key)."""
    answer = door.post(with_ed25519_certificate(sign_xml(fresh(), pki.signer())), XML)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "signature.refused" and reasons(answer) == ["SIG_CRYPTO_FAILURE"]


def test_tampered_after_signing_is_refused_with_hash_failure(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer())
    tampered = signed.replace(b"<TrangThai>10</TrangThai>", b"<TrangThai>9</TrangThai>")
    assert tampered != signed
    answer = door.post(tampered, XML)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "signature.refused" and body["signature"]["verdict"] == "failed"
    assert reasons(answer) == ["HASH_FAILURE"]
    detail = body["signature"]["signatures"][0]["detail"]
    assert "dữ liệu đã ký bị thay đổi" in detail and "does not match" in detail  # Vietnamese, then English


def _wrapped(signed: bytes, *, same_id: bool) -> bytes:
    """The signed NoiDung hidden in ds:Object, a forged NoiDung where the application reads."""
    root = etree.fromstring(signed)
    genuine = root.find(f"{NS}NoiDung")
    forged = etree.fromstring(etree.tostring(genuine))
    forged.find(f".//{NS}TrangThai").text = "9"
    if not same_id:
        del forged.attrib["Id"]
    root.replace(genuine, forged)
    etree.SubElement(root.find(f"{DS}Signature"), f"{DS}Object").append(genuine)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("same_id, reason", [(False, "POLICY_FAILURE"), (True, "FORMAT_FAILURE")])
def test_wrapping_the_signed_body_is_refused(door: Door, pki: TestPKI, same_id: bool, reason: str) -> None:
    attack = _wrapped(sign_xml(fresh(), pki.signer(), cover="body"), same_id=same_id)
    answer = door.post(attack, XML, who="portal")
    assert answer.status_code == 422, answer.text
    assert reasons(answer) == [reason]


def test_a_second_body_beside_the_signed_one_is_refused(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer(), cover="body")
    root = etree.fromstring(signed)
    genuine = root.find(f"{NS}NoiDung")
    forged = etree.fromstring(etree.tostring(genuine))
    del forged.attrib["Id"]
    forged.find(f".//{NS}TrangThai").text = "9"
    genuine.addnext(forged)  # a reader taking the last NoiDung would act on the forged one
    answer = door.post(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), XML, who="portal")
    assert answer.status_code == 422, answer.text
    assert reasons(answer)[-1] == "FORMAT_FAILURE" and answer.json()["signature"]["verdict"] == "failed"


@pytest.mark.parametrize("signer", ["rogue_signer", "self_signed"])
def test_an_untrusted_signer_is_refused(door: Door, pki: TestPKI, signer: str) -> None:
    signed = sign_xml(fresh(), pki.signer(signer, chain=signer != "self_signed"))
    answer = door.post(signed, XML)
    assert answer.status_code == 422, answer.text
    assert answer.json()["signature"]["verdict"] == "indeterminate"
    assert reasons(answer) == ["NO_CERTIFICATE_CHAIN_FOUND"]


def test_revoked_signer_is_refused(door: Door, pki: TestPKI) -> None:
    answer = door.post(sign_xml(fresh(), pki.signer("revoked")), XML)
    assert answer.status_code == 422 and reasons(answer) == ["REVOKED"], answer.text


def test_unknown_revocation_asks_for_a_resend_later(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer())
    answer = door.post(signed, XML, who="later")
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "7" and answer.json()["error"] == "signature.try_later"
    assert reasons(answer) == ["REVOCATION_UNKNOWN"]
    assert door.stored(signed) is None  # nothing kept: the sender sends the same bytes again


def test_required_signature_refuses_unsigned_and_accepts_signed(door: Door, pki: TestPKI) -> None:
    unsigned = fresh()
    answer = door.post(unsigned, XML, who="strict")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "signature.required" and answer.json()["signature"]["reason"] == "NO_SIGNATURE"
    answer = door.post(fresh("TienDoXuLy", "json"), JSON, who="strict")
    assert answer.status_code == 422 and answer.json()["error"] == "signature.required", answer.text
    answer = door.post(sign_xml(unsigned, pki.signer()), XML, who="strict")
    assert answer.status_code == 202 and answer.json()["KetQuaChuKy"] == "passed", answer.text


def test_optional_lets_unsigned_packets_pass_as_unsigned(door: Door) -> None:
    data = fresh()
    answer = door.post(data, XML)
    assert answer.status_code == 202 and answer.json()["KetQuaChuKy"] == "unsigned", answer.text
    assert door.stored(data).verdicts["signature"]["verdict"] == "unsigned"


def test_parse_attacks_are_refused_by_the_parser_before_any_cryptography(door: Door, pki: TestPKI) -> None:
    signed = sign_xml(fresh(), pki.signer())
    attack = signed.replace(b"?>", b'?>\n<!DOCTYPE GoiTin [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
    answer = door.post(attack, XML)
    assert answer.status_code == 422, answer.text
    assert "signature" not in answer.json()  # the hardened reader's refusal, not a verification
    assert [e["rule"] for e in answer.json()["errors"]] == ["xml.doctype"]


# --- JWS --------------------------------------------------------------------------------------

def _deliver(door: Door, packet_id: str, peer: FaultyPeer) -> None:
    """Runs the real engine for the packet's destinations against the local test destination."""
    store = door.client.app.state.intake.store
    destinations = store.get_packet(packet_id).destinations
    policies = {name: policy_from(name, {"url": peer.url, "connector": "http", "timeout_seconds": 5.0,
                                         "backoff_base_seconds": 0.02, "backoff_cap_seconds": 0.1})
                for name in destinations}
    engine = Engine(store, policies, poll_seconds=0.01, hold_check_seconds=0.05).start()
    try:
        deadline = time.monotonic() + 30
        while store.count_jobs(JobFilter(state=JobState.DELIVERED)) < len(destinations):
            assert time.monotonic() < deadline, "not delivered"
            time.sleep(0.02)
    finally:
        engine.stop()


@pytest.mark.parametrize("form, media", [("compact", JOSE), ("json", JSON)])
def test_jws_is_accepted_and_the_signed_payload_is_what_is_delivered(door: Door, pki: TestPKI, form: str,
                                                                     media: str) -> None:
    packet = json.loads(fresh("TienDoXuLy", "json"))
    jws = sign_jws(packet, pki.signer("ec384"), serialization_form=form).encode()
    answer = door.post(jws, media)
    assert answer.status_code == 202, answer.text
    assert answer.json()["KetQuaChuKy"] == "passed"
    kept = door.stored(jws)
    assert kept.raw == jws and answer.json()["BamSHA256"] == sha(jws)  # the received bytes, for audit
    assert kept.verdicts["signature"]["format"] == "jws" and kept.verdicts["signature"]["verdict"] == "passed"
    assert load_packet(kept.raw, kept.encoding).model_dump(exclude_none=True) == packet
    with FaultyPeer() as peer:
        _deliver(door, packet["MaGoiTin"], peer)
        delivered = peer.deliveries()
    assert delivered and all(d["sha256"] == sha(canonical(packet)) for d in delivered)  # exactly the payload signed


@pytest.mark.parametrize("form, media", [("compact", JOSE), ("json", JSON)])
def test_validate_endpoint_reads_a_jws_by_its_payload(door: Door, pki: TestPKI, form: str, media: str) -> None:
    packet = json.loads(fresh("TienDoXuLy", "json"))
    packet["NoiDung"]["TienDoXuLy"]["TrangThai"] = 42  # not a national status: the payload's fault is reported
    jws = sign_jws(packet, pki.signer(), serialization_form=form).encode()
    report = door.client.post("/v1/validate", content=jws,
                              headers={"content-type": media, "authorization": f"Bearer {KEYS['partner']}"}).json()
    assert report["valid"] is False
    assert [e["path"] for e in report["errors"]] == ["NoiDung/TienDoXuLy/TrangThai"]


def test_tampered_jws_is_refused(door: Door, pki: TestPKI) -> None:
    packet = json.loads(fresh("TienDoXuLy", "json"))
    protected, _, signature = sign_jws(packet, pki.signer()).split(".")
    packet["NoiDung"]["TienDoXuLy"]["TrangThai"] = 9
    forged = f"{protected}.{b64url(canonical(packet))}.{signature}".encode()
    answer = door.post(forged, JOSE)
    assert answer.status_code == 422, answer.text
    assert reasons(answer) == ["SIG_CRYPTO_FAILURE"]


def test_signatures_off_unwraps_the_jws_without_checking(door: Door, pki: TestPKI) -> None:
    packet = json.loads(fresh("TienDoXuLy", "json"))
    jws = sign_jws(packet, pki.signer("rogue_signer")).encode()  # untrusted, but nobody asks
    answer = door.post(jws, JOSE, who="nocheck")
    assert answer.status_code == 202, answer.text
    assert answer.json()["KetQuaChuKy"] == "unsigned"
    assert door.stored(jws).verdicts["signature"]["checked"] is False


# --- the gateway's own signature -------------------------------------------------------------

def test_signed_receipt_verifies_back_with_the_gateway_purpose(door: Door, pki: TestPKI, tmp_path: Path) -> None:
    answer = door.post(sign_xml(fresh(), pki.signer()), XML)
    assert answer.status_code == 202, answer.text
    assert answer.json()["ChuKyBienNhan"] == "xmldsig/jws"
    receipt = tmp_path / "receipt.xml"
    receipt.write_text(answer.json()["BienNhan"], encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "GATEWAY_CONFIG"}
    result = subprocess.run([str(GATEWAY), "verify", str(receipt), "--purpose", "gateway", "--config",
                             str(door.config_file), "--json"], capture_output=True, text=True, timeout=120,
                            env=environment, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["verdict"] == "passed"
