"""Revocation by OCSP, against a real responder on 127.0.0.1: responders the certificate names
(fetched by the chain engine) and responders the trust configuration names (fetched by the gateway)."""

from datetime import datetime, timedelta, UTC

import pytest

from signing.report import Reason, Verdict
from signing.trust import TrustPolicy, load_certificates, validate_chain
from signing.xml_sign import sign_xml
from signing.xmldsig import verify_xml
from tests.signing.ocsp_responder import OcspResponder
from tests.signing.pki import TestPKI
from tests.signing.xmltools import packet_bytes


@pytest.fixture
def responder(pki: TestPKI):
    with OcspResponder(pki["intermediate"]) as running:
        yield running


def policy(pki: TestPKI, **options) -> TrustPolicy:
    # The root's CRL speaks for the intermediate; OCSP for the end entities.
    return TrustPolicy.from_paths("test", anchors=[pki["root"].cert_path], intermediates=[pki["intermediate"].cert_path],
                                  crls=[pki.root_crl_path], **options)


def cert(issued):
    return load_certificates(issued.cert_pem)[0]


@pytest.mark.parametrize("source", ["certificate", "configuration"])
def test_good_and_revoked(pki: TestPKI, responder: OcspResponder, source: str) -> None:
    # The certificates name the responder; the "configuration" case names it only in the trust policy.
    url = responder.url if source == "certificate" else responder.url.replace("/ocsp", "/unused")
    good = pki.issue_signer(f"ocsp-good-{source}", ocsp_url=url)
    bad = pki.issue_signer(f"ocsp-revoked-{source}", ocsp_url=url)
    responder.know(good)
    responder.know(bad, revoked_at=datetime.now(UTC) - timedelta(hours=1))
    options = {"fetch_revocation": True} if source == "certificate" else {"ocsp_urls": (responder.url,)}
    trust = policy(pki, **options)

    result = validate_chain(trust, cert(good))
    assert result.verdict is Verdict.PASSED, result.detail
    assert not [item for item in result.checks_not_done if item.startswith("revocation")]
    result = validate_chain(trust, cert(bad))
    assert (result.verdict, result.reason) == (Verdict.INDETERMINATE, Reason.REVOKED), result.detail
    assert responder.requests >= 2


def test_signature_made_before_revocation(pki: TestPKI, responder: OcspResponder) -> None:
    """Signed two days before an OCSP-reported revocation: not failed — but the chain engine does
    not take "revoked later" as proof of "good then", so the honest verdict is indeterminate
    (with a CRL, whose entry carries the date, the same case passes: test_trust)."""
    bad = pki.issue_signer("ocsp-revoked-later", ocsp_url=responder.url)
    responder.know(bad, revoked_at=datetime.now(UTC) - timedelta(hours=1))
    trust = policy(pki, ocsp_urls=(responder.url,))
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer("ocsp-revoked-later")), trust,
                           at=datetime.now(UTC) - timedelta(days=2))
    assert (report.verdict, report.signatures[0].reason) == (Verdict.INDETERMINATE, Reason.REVOCATION_UNKNOWN)
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer("ocsp-revoked-later")), trust)
    assert report.signatures[0].reason is Reason.REVOKED


def test_unreachable_responder(pki: TestPKI, responder: OcspResponder) -> None:
    issued = pki.issue_signer("ocsp-unreachable", ocsp_url=responder.url)
    responder.know(issued)
    dead = "http://127.0.0.1:9/ocsp"  # discard port: nothing listens
    soft = validate_chain(policy(pki, ocsp_urls=(dead,)), cert(issued))
    assert soft.verdict is Verdict.PASSED
    assert any("unreachable" in item for item in soft.checks_not_done)
    hard = validate_chain(policy(pki, ocsp_urls=(dead,), revocation_mode="require"), cert(issued))
    assert (hard.verdict, hard.reason) == (Verdict.INDETERMINATE, Reason.REVOCATION_UNKNOWN), hard.detail


def test_unknown_to_responder_is_not_good(pki: TestPKI, responder: OcspResponder) -> None:
    issued = pki.issue_signer("ocsp-unknown", ocsp_url=responder.url)  # never told to the responder
    result = validate_chain(policy(pki, ocsp_urls=(responder.url,), revocation_mode="require"), cert(issued))
    assert result.verdict is not Verdict.PASSED


@pytest.fixture(scope="module")
def tsa_keys(pki: TestPKI):
    from signing.tsa_server import tsa_certificate

    return tsa_certificate(pki["intermediate"].cert, pki["intermediate"].key,
                           not_before=pki.now - timedelta(days=365), not_after=pki.now + timedelta(days=365))


def _stamped(pki: TestPKI, tsa_keys, signer: str, at: datetime) -> bytes:
    from signing.xml_sign import timestamp_signature
    from signing.tsa_server import serve_tsa

    with serve_tsa(tsa_keys, fixed_time=at) as tsa:
        return timestamp_signature(sign_xml(packet_bytes(), pki.signer(signer)), tsa.url)


@pytest.mark.parametrize("source", ["responder", "held"])
def test_revoked_by_ocsp_after_the_timestamp_passes_with_the_revocation_noted(
        pki: TestPKI, responder: OcspResponder, tsa_keys, source: str) -> None:
    """Issue 17: an OCSP answer dating the revocation after the proof of existence leaves the signature good
    (noted); one dating it before fails it. Asked of the responder, or held (stored answers, no network)."""
    from signing import ocsp

    now = datetime.now(UTC)
    later = pki.issue_signer(f"ocsp-revoked-after-poe-{source}", ocsp_url=responder.url)
    earlier = pki.issue_signer(f"ocsp-revoked-before-poe-{source}", ocsp_url=responder.url)
    responder.know(later, revoked_at=now - timedelta(hours=1))
    responder.know(earlier, revoked_at=now - timedelta(days=3))
    proof = now - timedelta(days=2)
    stamped_later = _stamped(pki, tsa_keys, f"ocsp-revoked-after-poe-{source}", proof)
    stamped_earlier = _stamped(pki, tsa_keys, f"ocsp-revoked-before-poe-{source}", proof)
    if source == "responder":
        trust = policy(pki, ocsp_urls=(responder.url,))
    else:
        held = tuple(ocsp.fetch(responder.url, cert(i), cert(pki["intermediate"])) for i in (later, earlier))
        trust = policy(pki, ocsps=held)
        responder.server.shutdown()  # nothing to ask any more: the stored answers decide

    report, covered = verify_xml(stamped_later, trust)
    signature = report.signatures[0].to_dict()
    assert (report.verdict, signature["signing_time_source"]) == (Verdict.PASSED, "timestamp"), signature
    assert covered is not None
    assert len(signature["notes"]) == 1 and "(OCSP)" in signature["notes"][0] \
        and "revoked after the proven signing time" in signature["notes"][0]
    report, _ = verify_xml(stamped_earlier, trust)
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.REVOKED), report.to_dict()
    # without the timestamp nothing proves the later one older than its revocation
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer(f"ocsp-revoked-after-poe-{source}")), trust)
    assert report.verdict is not Verdict.PASSED
