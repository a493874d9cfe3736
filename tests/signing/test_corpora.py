"""The public corpora in ../shared/corpora (W3C XML-DSig interop vectors via signxml; published SAML
signature-wrapping attacks) with the outcomes their README gives. Old vectors are verified at a fixed
time within their certificates' validity, with certificates pinned where the README says so.

Two policies: the gateway's own (SHA-2 only, RSA ≥ 2048, root-or-body coverage), under which the
old vectors are refused; and, to exercise the cryptography of those vectors too, a *legacy* test
policy (SHA-1, RSA ≥ 512, P-521 allowed). For enveloping vectors the coverage rule is relaxed in a
test seam (``xmldsig._target`` patched), as the gateway itself refuses them — asserted first.
"""

import base64
import json
from datetime import datetime, UTC
from pathlib import Path

import pytest

from signing import xmldsig
from signing.report import Reason, Verdict
from signing.trust import TrustPolicy
from signing.xmldsig import verify_xml
from tests.signing.conftest import CORPORA

INTEROP = CORPORA / "xmldsig-interop"
XSW = CORPORA / "xsw"
pytestmark = pytest.mark.skipif(not INTEROP.is_dir(), reason=f"corpora not found at {CORPORA}")

LEGACY = dict(digests=["sha1", "sha224", "sha256", "sha384", "sha512"], curves=["P-256", "P-384", "P-521"],
              min_rsa_bits=512)


def at(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def legacy(**table) -> TrustPolicy:
    return TrustPolicy.from_table("corpus", {**LEGACY, **table})


def interop_files() -> list[Path]:
    return sorted(INTEROP.rglob("*.xml")) if INTEROP.is_dir() else []


MUST_FAIL = ["aleksey-xmldsig-01/enveloping-expired-cert.xml", "xml-crypto/wsfederation_metadata.xml",
             "aleksey-xmldsig-01-enveloped/invalid_enveloped_transform.xml",
             "phaos-xmldsig-three/signature-rsa-enveloped-bad-sig.xml",
             "phaos-xmldsig-three/signature-rsa-enveloped-bad-digest-val.xml",
             "merlin-xmldsig-twenty-three/signature-x509-crt.xml",
             "merlin-xmldsig-twenty-three/signature-x509-crt-crl.xml",
             "ws-security/ws.js/test/unit/client/files/invalid wss resp - changed content.xml"]


CONSTRAINTS = {Reason.NO_CERTIFICATE_CHAIN_FOUND, Reason.CRYPTO_CONSTRAINTS_FAILURE, Reason.POLICY_FAILURE,
               Reason.KEY_USAGE_FAILURE, Reason.EXPIRED, Reason.REVOKED, Reason.REVOCATION_UNKNOWN, Reason.NO_SIGNATURE}


@pytest.mark.parametrize("path", interop_files(), ids=lambda p: str(p.relative_to(INTEROP)))
def test_gateway_policy_refuses_the_interop_vectors(path: Path) -> None:
    """No old vector passes the gateway's policy; each refusal names the right cause."""
    name = str(path.relative_to(INTEROP))
    report, element = verify_xml(path.read_bytes(), TrustPolicy("corpus"), at=at(2019))
    signature = report.signatures[0]
    assert report.verdict is not Verdict.PASSED
    if name in MUST_FAIL or "hmac" in name or "md5" in name or "ripemd160" in name:
        # ETSI EN 319 102-1: a broken digest or signature fails; a policy constraint (weak algorithm,
        # enveloping reference, expired certificate without proof of time) is indeterminate.
        assert report.verdict is Verdict.FAILED or signature.reason in CONSTRAINTS, name
    if "hmac" in name.lower() and b"<!DOCTYPE" not in path.read_bytes():
        assert signature.reason is Reason.CRYPTO_CONSTRAINTS_FAILURE and "HMAC" in signature.detail
    if b"<!DOCTYPE" in path.read_bytes():
        assert signature.reason is Reason.FORMAT_FAILURE
    if "-sha1" in name or "_sha1" in name or "md5" in name or "ripemd160" in name:
        assert signature.reason is Reason.CRYPTO_CONSTRAINTS_FAILURE
    if name.startswith("TR2012/") and "hmac" not in name and "sha1" not in name and "sha224" not in name:
        assert signature.reason is Reason.POLICY_FAILURE  # enveloping: covers an Object, not the document
    if report.verdict is Verdict.INDETERMINATE:  # a constraint or a missing anchor: never a broken signature
        assert signature.reason in CONSTRAINTS, name
        assert signature.to_dict()["indication"] == "INDETERMINATE"
        if signature.reason is Reason.NO_CERTIFICATE_CHAIN_FOUND:  # the cryptography held: only trust is missing
            assert element is not None
    else:
        assert signature.to_dict()["indication"] == "TOTAL-FAILED"
        assert signature.reason in (Reason.HASH_FAILURE, Reason.SIG_CRYPTO_FAILURE, Reason.FORMAT_FAILURE), name


ENVELOPED = sorted((INTEROP / "aleksey-xmldsig-01-enveloped").glob("enveloped-*.xml"))


@pytest.mark.parametrize("path", ENVELOPED, ids=lambda p: p.name)
def test_aleksey_enveloped_vectors_pass_with_pinned_certificate(path: Path) -> None:
    raw = path.read_bytes().replace(b' xmlns=""', b"")  # as the README says
    policy = TrustPolicy.from_paths("corpus", pinned=[INTEROP / "aleksey-xmldsig-01-enveloped" / "cacert.pem"])
    report, element = verify_xml(raw, policy, at=at(2019))
    assert report.verdict is Verdict.PASSED, report.to_dict()
    assert element is not None and element.getparent() is None
    assert "whole document" in report.signatures[0].covered


def test_aleksey_invalid_enveloped_transform_fails() -> None:
    path = INTEROP / "aleksey-xmldsig-01-enveloped" / "invalid_enveloped_transform.xml"
    policy = TrustPolicy.from_paths("corpus", pinned=[INTEROP / "aleksey-xmldsig-01-enveloped" / "cacert.pem"])
    signature = verify_xml(path.read_bytes(), policy, at=at(2019))[0].signatures[0]
    # a transform outside the policy: a constraint not met (INDETERMINATE), or a digest that fails
    assert (signature.verdict, signature.reason) in ((Verdict.INDETERMINATE, Reason.POLICY_FAILURE),
                                                     (Verdict.FAILED, Reason.HASH_FAILURE)), signature


@pytest.fixture
def relaxed_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test seam: accept a reference to any single element with that Id (enveloping vectors)."""
    def any_element(root, uri):
        if not uri:
            return root, "document", None
        matches = xmldsig._elements_with_id(root, uri[1:])
        if len(matches) != 1:
            raise xmldsig._fail(Reason.FORMAT_FAILURE, "duplicate or missing Id")
        return matches[0][0], f"element {uri}", (matches[0][1], uri[1:])
    monkeypatch.setattr(xmldsig, "_target", any_element)


TR2012_RSA = sorted((INTEROP / "TR2012").glob("*rsa*.xml"))


@pytest.mark.parametrize("path", TR2012_RSA, ids=lambda p: p.name)
def test_tr2012_rsa_vectors_cryptography(path: Path, relaxed_coverage: None) -> None:
    report, _ = verify_xml(path.read_bytes(), legacy(pinned=[str(INTEROP / "TR2012" / "rsa-cert.der")]), at=at(2010))
    assert report.verdict is Verdict.PASSED, report.to_dict()


@pytest.mark.parametrize(("name", "verdict", "reason"), [
    ("enveloping-sha256-rsa-sha256.xml", Verdict.PASSED, Reason.OK),
    ("enveloping-sha384-rsa-sha384.xml", Verdict.PASSED, Reason.OK),
    ("enveloping-sha512-rsa-sha512.xml", Verdict.PASSED, Reason.OK),
    ("enveloping-sha224-rsa-sha224.xml", Verdict.PASSED, Reason.OK),
    ("enveloping-sha1-rsa-sha1.xml", Verdict.PASSED, Reason.OK),
    ("enveloping-rsa-x509chain.xml", Verdict.PASSED, Reason.OK),
    ("enveloping-expired-cert.xml", Verdict.INDETERMINATE, Reason.EXPIRED),
])
def test_aleksey_chain_vectors(name: str, verdict: Verdict, reason: Reason, relaxed_coverage: None) -> None:
    """Chains built by pyhanko-certvalidator to the aleksey test root, at a time the root was valid."""
    policy = legacy(anchors=[str(INTEROP / "aleksey-xmldsig-01" / "cacert.pem")])
    report, _ = verify_xml((INTEROP / "aleksey-xmldsig-01" / name).read_bytes(), policy, at=at(2015))
    assert (report.verdict, report.signatures[0].reason) == (verdict, reason), report.to_dict()


@pytest.mark.parametrize(("name", "verdict"), [
    ("signature-rsa-enveloped.xml", Verdict.PASSED),
    ("signature-rsa-enveloped-bad-digest-val.xml", Verdict.FAILED),
])
def test_phaos_enveloped(name: str, verdict: Verdict) -> None:
    """Enveloped over the whole document: the gateway's own coverage rule, legacy algorithms."""
    policy = legacy(pinned=[str(INTEROP / "phaos-xmldsig-three" / "certs" / "rsa-cert.pem")])
    report, element = verify_xml((INTEROP / "phaos-xmldsig-three" / name).read_bytes(), policy, at=at(2005))
    assert report.verdict is verdict, report.to_dict()
    if verdict is Verdict.FAILED:
        assert report.signatures[0].reason in (Reason.HASH_FAILURE, Reason.SIG_CRYPTO_FAILURE) and element is None


@pytest.mark.parametrize(("name", "pem", "when", "verdict"), [
    ("xml-crypto/signature_with_inclusivenamespaces.xml", "xml-crypto/signature_with_inclusivenamespaces.pem",
     at(2019), Verdict.PASSED),
    ("xml-crypto/windows_store_signature.xml", "xml-crypto/windows_store_certificate.pem", at(2019), Verdict.PASSED),
    ("pyXMLSecurity/SAML_assertion_sha256.xml", "pyXMLSecurity/test.pem", at(2009, 10, 20), Verdict.PASSED),
    ("pyXMLSecurity/SAML_assertion1.xml", "pyXMLSecurity/test.pem", at(2009, 10, 20), Verdict.PASSED),
    # The README's "expected to fail (certificate)": its certificate expired in 2016 and nothing proves
    # the signature older, so ETSI EN 319 102-1 says INDETERMINATE (OUT_OF_BOUNDS_NO_POE).
    ("xml-crypto/wsfederation_metadata.xml", "xml-crypto/wsfederation_metadata.pem", None, Verdict.INDETERMINATE),
])
def test_pinned_vectors_cryptography(name: str, pem: str, when: datetime | None, verdict: Verdict,
                                     relaxed_coverage: None) -> None:
    report, _ = verify_xml((INTEROP / name).read_bytes(), legacy(pinned=[str(INTEROP / pem)]), at=when)
    assert report.verdict is verdict, report.to_dict()
    if verdict is Verdict.INDETERMINATE:
        assert report.signatures[0].reason is Reason.EXPIRED
        assert report.signatures[0].to_dict()["sub_indication"] == "OUT_OF_BOUNDS_NO_POE"


# --- signature wrapping: published SAML attacks ----------------------------------------------------

PYSAML2 = sorted((XSW / "pysaml2").glob("*.xml"))


def _python3_saml() -> dict[str, bytes]:
    return {path.name.removesuffix(".base64"): base64.b64decode(path.read_bytes())
            for path in sorted((XSW / "python3-saml").glob("*.base64"))}


def _idp_pem(tmp_path: Path) -> Path:
    settings = json.loads((XSW / "python3-saml" / "settings1.json").read_text())
    pem = tmp_path / "idp.pem"
    pem.write_text(f"-----BEGIN CERTIFICATE-----\n{settings['idp']['x509cert']}\n-----END CERTIFICATE-----\n")
    return pem


@pytest.mark.parametrize("path", PYSAML2, ids=lambda p: p.name)
def test_pysaml2_wrapping_attacks_rejected(path: Path) -> None:
    """Rejected by the coverage rule itself (legacy algorithms, so SHA-1 is not what stops them)."""
    policy = legacy(pinned=[str(XSW / "pysaml2" / "test.pem")])
    report, element = verify_xml(path.read_bytes(), policy, at=at(2009, 10, 20))
    assert report.verdict is not Verdict.PASSED and element is None
    assert report.signatures[0].reason in (Reason.POLICY_FAILURE, Reason.FORMAT_FAILURE), report.to_dict()


@pytest.mark.parametrize("path", [p for p in PYSAML2 if "first-sig" not in p.name], ids=lambda p: p.name)
def test_pysaml2_attack_signatures_are_cryptographically_valid(path: Path, relaxed_coverage: None) -> None:
    """…while their signatures do verify: a verifier that checks only the cryptography accepts them."""
    policy = legacy(pinned=[str(XSW / "pysaml2" / "test.pem")])
    assert verify_xml(path.read_bytes(), policy, at=at(2009, 10, 20))[0].verdict is Verdict.PASSED


@pytest.mark.parametrize("name", ["signature_wrapping_attack.xml", "signature_wrapping_attack2.xml",
                                  "wrapped_response_2.xml", "response4.xml"])
def test_python3_saml_wrapping_attacks_rejected(name: str, tmp_path: Path) -> None:
    report, element = verify_xml(_python3_saml()[name], legacy(pinned=[str(_idp_pem(tmp_path))]), at=at(2007, 7, 1))
    assert report.verdict is not Verdict.PASSED and element is None
    assert report.signatures[0].reason in (Reason.POLICY_FAILURE, Reason.FORMAT_FAILURE), report.to_dict()


def test_python3_saml_controls(tmp_path: Path) -> None:
    policy = legacy(pinned=[str(_idp_pem(tmp_path))])
    documents = _python3_saml()
    # The signature over the whole Response (by ID): accepted, and the Response root is returned.
    report, element = verify_xml(documents["signed_message_response.xml"], policy, at=at(2007, 7, 1))
    assert report.verdict is Verdict.PASSED and element.getparent() is None
    # The signature over an inner Assertion verifies, but is not the document: refused by coverage.
    report, element = verify_xml(documents["signed_assertion_response.xml"], policy, at=at(2007, 7, 1))
    assert report.signatures[0].reason is Reason.POLICY_FAILURE and element is None


def test_python3_saml_assertion_control_signature_is_valid(tmp_path: Path, relaxed_coverage: None) -> None:
    policy = legacy(pinned=[str(_idp_pem(tmp_path))])
    report, _ = verify_xml(_python3_saml()["signed_assertion_response.xml"], policy, at=at(2007, 7, 1))
    assert report.verdict is Verdict.PASSED
