"""Signatures that hold for years (ETSI EN 319 102-1): XAdES signature timestamps on XML-DSig,
DSS-style cases built at test time — expired without a timestamp is INDETERMINATE, expired with a
timestamp from before the expiry passes, revoked after the timestamp passes with the revocation
noted — the gateway's timestamped receipts, and xmlsec1 side by side."""

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import Config
from gateway.receipt.biennhan import issue_receipt, sign_receipt
from gateway.receipt.build import SignedReceipts, receipt_signer
from signing.jws import sign_jws, timestamp_jws, verify_jws
from signing.report import Reason, Verdict
from signing.xml_sign import sign_xml, timestamp_signature
from signing.xmldsig import verify_xml
from signing.tsa_server import TSA, TSAKeys, serve_tsa, tsa_certificate
from tests.signing.pki import TestPKI
from tests.signing.xmltools import packet_bytes

XMLSEC1 = shutil.which("xmlsec1")


@pytest.fixture(scope="module")
def tsa_keys(pki: TestPKI) -> TSAKeys:
    return tsa_certificate(pki["intermediate"].cert, pki["intermediate"].key, not_before=pki.now - timedelta(days=365),
                           not_after=pki.now + timedelta(days=365))


@pytest.fixture(scope="module")
def tsa(tsa_keys: TSAKeys) -> Iterator[TSA]:
    with serve_tsa(tsa_keys) as served:
        yield served


def stamped(pki: TestPKI, keys: TSAKeys, signer: str, at: datetime | None) -> bytes:
    """A packet signed by ``signer``, with a signature timestamp saying ``at`` (a TSA's clock)."""
    with serve_tsa(keys, fixed_time=at) as tsa:
        return timestamp_signature(sign_xml(packet_bytes(), pki.signer(signer)), tsa.url)


def etsi(report) -> tuple[str, str, str | None, str | None]:
    signature = report.signatures[0].to_dict()
    return (signature["verdict"], signature["indication"], signature.get("sub_indication"),
            signature.get("signing_time_source"))


def test_expired_without_timestamp_is_indeterminate(pki: TestPKI) -> None:
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer("expired")), pki.policy(with_crl=False))
    assert etsi(report) == ("indeterminate", "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE", "now")
    assert report.signatures[0].reason is Reason.EXPIRED  # today's reason code, kept beside the indication


def test_expired_with_timestamp_before_expiry_passes(pki: TestPKI, tsa_keys: TSAKeys) -> None:
    data = stamped(pki, tsa_keys, "expired", pki.now - timedelta(days=100))
    report, covered = verify_xml(data, pki.policy())
    assert etsi(report) == ("passed", "TOTAL-PASSED", None, "timestamp"), report.to_dict()
    assert covered is not None and report.signatures[0].signing_time.startswith(
        (pki.now - timedelta(days=100)).astimezone(report_zone()).date().isoformat())


def test_expired_with_timestamp_after_expiry_fails(pki: TestPKI, tsa_keys: TSAKeys) -> None:
    report, _ = verify_xml(stamped(pki, tsa_keys, "expired", pki.now - timedelta(days=1)), pki.policy())
    assert etsi(report) == ("failed", "TOTAL-FAILED", "EXPIRED", "timestamp")


def test_revoked_after_timestamp_passes_with_the_revocation_noted(pki: TestPKI, tsa_keys: TSAKeys) -> None:
    report, _ = verify_xml(stamped(pki, tsa_keys, "revoked", pki.now - timedelta(days=2)), pki.policy())
    assert etsi(report) == ("passed", "TOTAL-PASSED", None, "timestamp"), report.to_dict()
    notes = report.signatures[0].to_dict()["notes"]
    assert len(notes) == 1 and "revoked after the proven signing time" in notes[0]
    # the same signature without the timestamp: nothing proves it older than the revocation
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer("revoked")), pki.policy())
    assert etsi(report)[:3] == ("indeterminate", "INDETERMINATE", "REVOKED_NO_POE")


def test_a_timestamp_from_an_untrusted_tsa_or_over_other_bytes_proves_nothing(pki: TestPKI, tsa: TSA) -> None:
    other = TestPKI.create(pki.directory / "other-tsa-pki")
    foreign = tsa_certificate(other["intermediate"].cert, other["intermediate"].key,
                              not_before=pki.now - timedelta(days=365), not_after=pki.now + timedelta(days=365))
    data = stamped(pki, foreign, "expired", pki.now - timedelta(days=100))
    report, _ = verify_xml(data, pki.policy(with_crl=False))
    assert etsi(report)[:3] == ("indeterminate", "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    assert any("XAdES signature timestamp not used" in note for note in report.signatures[0].checks_not_done)
    # a token moved onto another signature (its imprint is the first one's SignatureValue)
    first = timestamp_signature(sign_xml(packet_bytes(), pki.signer()), tsa.url)
    second = sign_xml(packet_bytes(), pki.signer("ec256"))  # another SignatureValue
    token = first[first.index(b"<ds:Object>"):first.index(b"</ds:Signature>")]
    moved = second.replace(b"</ds:Signature>", token + b"</ds:Signature>")
    report, _ = verify_xml(moved, pki.policy())
    assert report.signatures[0].signing_time_source != "timestamp"
    assert any("imprint" in note for note in report.signatures[0].checks_not_done)


def report_zone():
    from signing.trust import ZONE
    return ZONE


# --- the gateway's own receipts ------------------------------------------------------------------

def receipt(signature_verdict: str = "passed"):
    return issue_receipt(packet_bytes(), "3f2b6c1e-8a4d-4b7e-9c21-5d0e7f9a1b23", sender="000.00.01.H22",
                         recipient="000.00.01.H22", signature_verdict=signature_verdict)


@pytest.mark.parametrize("encoding", ["xml", "json"])
def test_timestamped_receipt_outlives_the_gateway_certificate(pki: TestPKI, tsa_keys: TSAKeys,
                                                              encoding: str) -> None:
    """A receipt signed while the gateway's certificate held stays verifiable once it has expired."""
    verify = verify_xml if encoding == "xml" else verify_jws
    with serve_tsa(tsa_keys, fixed_time=pki.now - timedelta(days=100)) as old_tsa:
        signed = sign_receipt(receipt(), pki.signer("expired"), encoding, tsa_url=old_tsa.url)
    report, covered = verify(signed, pki.policy("gateway"))
    assert etsi(report) == ("passed", "TOTAL-PASSED", None, "timestamp") and covered is not None
    plain = sign_receipt(receipt(), pki.signer("expired"), encoding)
    assert verify(plain, pki.policy("gateway"))[0].verdict is Verdict.INDETERMINATE


def test_a_jws_timestamp_over_another_signature_proves_nothing(pki: TestPKI, tsa: TSA) -> None:
    packet = receipt_json()
    stamped_jws = json.loads(timestamp_jws(sign_jws(packet, pki.signer()), tsa.url))
    other = sign_jws(packet, pki.signer("ec256")).split(".")
    stamped_jws["signature"], stamped_jws["protected"] = other[2], other[0]  # the token stays, the signature changes
    report, _ = verify_jws(json.dumps(stamped_jws), pki.policy())
    assert report.verdict is Verdict.PASSED and report.signatures[0].signing_time_source != "timestamp"
    assert any("JAdES signature timestamp not used" in note for note in report.signatures[0].checks_not_done)


def receipt_json() -> bytes:
    from gateway.packets import json_codec
    return json_codec.encode(receipt())


@pytest.mark.parametrize("encoding", ["xml", "json"])
def test_receipt_signer_from_configuration(pki: TestPKI, tsa: TSA, tmp_path: Path, encoding: str) -> None:
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(f'[signing]\nkey = "{pki["signer"].key_path}"\ncert = "{pki["signer"].cert_path}"\n'
                           f'tsa_url = "{tsa.url}"\n', encoding="utf-8")
    config = Config.load(config_file)
    signer = receipt_signer(config)
    assert isinstance(signer, SignedReceipts) and signer.tsa_url == tsa.url
    report, _ = (verify_xml if encoding == "xml" else verify_jws)(signer.sign(receipt(), encoding),
                                                                   pki.policy("gateway"))
    assert etsi(report) == ("passed", "TOTAL-PASSED", None, "timestamp")


def test_a_failing_tsa_costs_the_timestamp_not_the_receipt(pki: TestPKI) -> None:
    signer = SignedReceipts(pki.signer(), tsa_url="http://127.0.0.1:9/tsa", tsa_timeout=2)
    report, covered = verify_xml(signer.sign(receipt(), "xml"), pki.policy("gateway"))
    assert report.verdict is Verdict.PASSED and report.signatures[0].signing_time_source != "timestamp"


# --- xmlsec1 side by side -------------------------------------------------------------------------

@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (scripts/system-deps installs it)")
def test_xmlsec1_side_by_side_on_timestamped_files(pki: TestPKI, tsa_keys: TSAKeys, tmp_path: Path) -> None:
    """xmlsec1 verifies the signature of a timestamped file (the XAdES property is an unsigned ds:Object);
    it does not read timestamps, so on an expired certificate it needs to be told the time by hand."""
    past = pki.now - timedelta(days=100)
    path = tmp_path / "expired-stamped.xml"
    path.write_bytes(stamped(pki, tsa_keys, "expired", past))
    base = [XMLSEC1, "--verify", "--enabled-key-data", "x509", "--trusted-pem", str(pki["root"].cert_path),
            "--untrusted-pem", str(pki["intermediate"].cert_path)]
    now = subprocess.run([*base, str(path)], capture_output=True, text=True, timeout=60)
    assert now.returncode != 0  # xmlsec1 checks the certificate now: expired
    told = subprocess.run([*base, "--verification-time", past.strftime("%Y-%m-%d %H:%M:%S"), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert told.returncode == 0, told.stderr
    assert verify_xml(path.read_bytes(), pki.policy())[0].verdict is Verdict.PASSED  # the gateway reads the token


# --- the intake's decisions follow the classification --------------------------------------------

def intake(pki: TestPKI):
    from gateway.verify import IntakeSettings, Rule, SignatureVerifier
    settings = IntakeSettings(Rule("optional", "partner", frozenset({"packet"})), {}, retry_after_seconds=7)
    return SignatureVerifier(settings, {"partner": pki.policy()}, max_bytes=4_194_304)


def test_intake_refuses_expired_without_proof_as_indeterminate_and_accepts_it_with_one(
        pki: TestPKI, tsa_keys: TSAKeys) -> None:
    verifier = intake(pki)
    unproven = verifier("partner", sign_xml(packet_bytes(), pki.signer("expired")), "xml")
    assert (unproven.verdict, unproven.refuse, unproven.retry_after) == ("indeterminate", True, None)
    assert unproven.report["indication"] == "INDETERMINATE"
    assert unproven.report["signatures"][0]["sub_indication"] == "OUT_OF_BOUNDS_NOT_REVOKED"
    assert unproven.report["signatures"][0]["reason"] == "EXPIRED"  # the reason code answers still carry
    proven = verifier("partner", stamped(pki, tsa_keys, "expired", pki.now - timedelta(days=100)), "xml")
    assert (proven.verdict, proven.refuse) == ("passed", False) and proven.content is not None
    assert proven.report["signatures"][0]["signing_time_source"] == "timestamp"


def test_intake_accepts_revoked_after_the_proof_with_the_revocation_noted(pki: TestPKI, tsa_keys: TSAKeys) -> None:
    check = intake(pki)("partner", stamped(pki, tsa_keys, "revoked", pki.now - timedelta(days=2)), "xml")
    assert (check.verdict, check.refuse) == ("passed", False)
    assert "revoked after the proven signing time" in check.report["signatures"][0]["notes"][0]
    # the signed content handed on leaves the unsigned timestamp property out with the signature
    assert b"EncapsulatedTimeStamp" not in check.content
