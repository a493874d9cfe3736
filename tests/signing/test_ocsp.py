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
