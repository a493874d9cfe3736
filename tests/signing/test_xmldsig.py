"""XML-DSig verification: test-PKI outcomes, algorithm policy, tampering, parser attacks, reports."""

import copy
from datetime import timedelta

import pytest
import xmlsec
from lxml import etree

from gateway.config import Config
from gateway.validate.pipeline import Validator
from signing import xmldsig
from signing.report import Reason, Verdict, verdict_for
from signing.xml_sign import sign_xml
from signing.xmldsig import verify_xml
from tests.signing.pki import TestPKI
from tests.signing.xmltools import DS, NS, packet, packet_bytes, with_ed25519_certificate, xmlsec_sign

T = xmlsec.constants


@pytest.mark.parametrize("cover", ["packet", "body"])
@pytest.mark.parametrize("name", ["signer", "ec256", "ec384"])
def test_gateway_signed_packets_verify(pki: TestPKI, name: str, cover: str) -> None:
    signed = sign_xml(packet_bytes(), pki.signer(name), cover=cover)
    report, element = verify_xml(signed, pki.policy())
    assert report.verdict is Verdict.PASSED, report.to_dict()
    signature = report.signatures[0]
    assert signature.algorithms["signature"] == {"signer": "rsa-sha256", "ec256": "ecdsa-sha256",
                                                 "ec384": "ecdsa-sha384"}[name]
    assert signature.algorithms["c14n"] == "exc-c14n"
    assert element is not None
    if cover == "packet":
        assert element.tag == f"{{{NS}}}GoiTin" and element.getparent() is None
        assert "whole document" in signature.covered
    else:
        assert element.tag == f"{{{NS}}}NoiDung" and element.getparent().getparent() is None
        assert signature.covered.startswith("NoiDung")
    assert [note.partition(":")[0] for note in signature.checks_not_done] == ["signing time"]


def test_signed_packet_is_still_a_valid_packet(pki: TestPKI) -> None:
    signed = sign_xml(packet_bytes(), pki.signer())
    report = Validator(Config.load()).validate(signed, "xml")
    assert report.valid, [issue.message_en for issue in report.errors]


@pytest.mark.parametrize(("name", "verdict", "reason"), [
    ("expired", Verdict.INDETERMINATE, Reason.EXPIRED),
    ("not_yet_valid", Verdict.FAILED, Reason.NOT_YET_VALID),
    ("revoked", Verdict.INDETERMINATE, Reason.REVOKED),
    ("wrong_usage", Verdict.INDETERMINATE, Reason.KEY_USAGE_FAILURE),
    ("rsa1024", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ("sha1", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ("rogue_signer", Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND),
    ("self_signed", Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND),
    ("ec521", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),
])
def test_bad_certificates(pki: TestPKI, name: str, verdict: Verdict, reason: Reason) -> None:
    signer = pki.signer(name, chain=name not in ("rogue_signer", "self_signed"))
    report, _ = verify_xml(sign_xml(packet_bytes(), signer), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (verdict, reason), report.to_dict()


def test_forged_issuer_is_not_trusted(pki: TestPKI) -> None:
    """A certificate that names the trusted intermediate as its issuer, signed by another key."""
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer("forged_issuer")), pki.policy())
    assert report.verdict is not Verdict.PASSED
    assert report.signatures[0].reason is Reason.NO_CERTIFICATE_CHAIN_FOUND, report.to_dict()


def test_p521_allowed_when_configured(pki: TestPKI) -> None:
    from signing.trust import AlgorithmPolicy
    policy = pki.policy(algorithms=AlgorithmPolicy(curves=frozenset({"secp256r1", "secp384r1", "secp521r1"})))
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer("ec521")), policy)
    assert report.verdict is Verdict.PASSED, report.to_dict()
    assert report.signatures[0].algorithms["signature"] == "ecdsa-sha512"


def test_untrusted_root_with_same_subject_even_when_sent_along(pki: TestPKI) -> None:
    from signing.signer import KeySigner
    rogue = pki["rogue_signer"]
    signer = KeySigner(rogue.key, rogue.cert, (pki["rogue_root"].cert,))
    report, _ = verify_xml(sign_xml(packet_bytes(), signer), pki.policy())
    assert report.verdict is not Verdict.PASSED
    assert report.signatures[0].reason is Reason.NO_CERTIFICATE_CHAIN_FOUND


def test_revocation_not_configured_is_listed(pki: TestPKI) -> None:
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer()), pki.policy(with_crl=False))
    assert report.verdict is Verdict.PASSED
    assert any("revocation" in item for item in report.signatures[0].checks_not_done)


def test_signing_time_claimed_within_tolerance(pki: TestPKI) -> None:
    signed = sign_xml(packet_bytes(), pki.signer())  # ThoiGianGui 2024-12-16 15:30:05, far from now
    report, _ = verify_xml(signed, pki.policy())
    assert report.signatures[0].signing_time_source == "now"
    from datetime import datetime
    from signing.trust import ZONE
    claimed = datetime(2024, 12, 16, 15, 30, 5, tzinfo=ZONE)
    report, _ = verify_xml(signed, pki.policy(), now=claimed + timedelta(minutes=3))
    assert report.signatures[0].signing_time_source == "claimed"
    assert report.signatures[0].signing_time == claimed.isoformat()
    # The test signer did not exist in 2024: at the claimed time its certificate was not yet valid.
    assert report.signatures[0].reason is Reason.NOT_YET_VALID


def test_given_time(pki: TestPKI) -> None:
    signed = sign_xml(packet_bytes(), pki.signer("expired"))
    report, _ = verify_xml(signed, pki.policy(), at=pki.now - timedelta(days=100))
    assert report.verdict is Verdict.PASSED
    assert report.signatures[0].signing_time_source == "given"


def test_report_masks_subject_identifiers(pki: TestPKI) -> None:
    report, _ = verify_xml(sign_xml(packet_bytes(), pki.signer()), pki.policy())
    text = str(report.to_dict())
    assert "001099001234" not in text and "0010****1234" in text


# --- tampering -----------------------------------------------------------------------------

def test_changed_content_is_a_hash_failure(pki: TestPKI) -> None:
    signed = sign_xml(packet_bytes(), pki.signer())
    tampered = signed.replace(b"<MaTTHC>1.005129</MaTTHC>", b"<MaTTHC>1.005130</MaTTHC>")
    assert tampered != signed
    report, element = verify_xml(tampered, pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.HASH_FAILURE)
    assert element is None


def test_changed_signature_value_is_a_crypto_failure(pki: TestPKI) -> None:
    root = etree.fromstring(sign_xml(packet_bytes(), pki.signer()))
    value = root.find(f".//{{{DS}}}SignatureValue")
    value.text = ("B" if value.text[0] == "A" else "A") + value.text[1:]
    report, element = verify_xml(etree.tostring(root), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.SIG_CRYPTO_FAILURE)
    assert element is None


@pytest.mark.parametrize("c14n", [T.TransformInclC14N, T.TransformInclC14N11, T.TransformExclC14N])
def test_hash_and_signature_failures_told_apart(pki: TestPKI, c14n) -> None:
    signed = xmlsec_sign(packet(), pki["signer"], c14n=c14n, transforms=[T.TransformEnveloped, c14n])
    changed_content = signed.replace(b"<MaTTHC>1.005129", b"<MaTTHC>1.005130")
    assert verify_xml(changed_content, pki.policy())[0].signatures[0].reason is Reason.HASH_FAILURE
    root = etree.fromstring(signed)
    root.find(f".//{{{DS}}}DigestValue").text = "AAAA" + root.find(f".//{{{DS}}}DigestValue").text[4:]
    assert verify_xml(etree.tostring(root), pki.policy())[0].signatures[0].reason is Reason.SIG_CRYPTO_FAILURE


def test_unsigned_document(pki: TestPKI) -> None:
    report, element = verify_xml(packet_bytes(), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.INDETERMINATE, Reason.NO_SIGNATURE)
    assert element is None


# --- algorithm policy (signatures made by libxmlsec1, which would make them) --------------------

@pytest.mark.parametrize(("options", "reason"), [
    (dict(digest=T.TransformSha1), Reason.CRYPTO_CONSTRAINTS_FAILURE),
    (dict(method=T.TransformRsaSha1), Reason.CRYPTO_CONSTRAINTS_FAILURE),
    (dict(digest=T.TransformMd5), Reason.CRYPTO_CONSTRAINTS_FAILURE),
    (dict(method=T.TransformRsaSha224), Reason.CRYPTO_CONSTRAINTS_FAILURE),
])
def test_algorithm_refusals(pki: TestPKI, options: dict, reason: Reason) -> None:
    signed = xmlsec_sign(packet(), pki["signer"], **options)
    report, element = verify_xml(signed, pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (verdict_for(reason), reason), report.to_dict()
    assert element is None


XPATH = ('<ds:Transform xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
         'Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)'
         '</ds:XPath></ds:Transform>')
XSLT = ('<ds:Transform xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        'Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet version="1.0" '
        'xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/></ds:Transform>')
PARAMETER = ('<ds:Transform xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
             'Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><x:Other xmlns:x="urn:x"/></ds:Transform>')


@pytest.mark.parametrize(("uri", "extra_transform"), [
    (None, XPATH), (None, XSLT), (None, PARAMETER),
    ("http://127.0.0.1:9/evil.xml", None), ("#xpointer(/)", None), ("#xpointer(id('NoiDung'))", None),
    ("file:///etc/passwd", None),
])
def test_reference_policy_refusals(pki: TestPKI, no_crypto: None, uri: str | None, extra_transform: str | None) -> None:
    """Transforms and URIs that libxmlsec1 would follow: refused from SignedInfo, before any cryptography."""
    root = etree.fromstring(sign_xml(packet_bytes(), pki.signer()))
    reference = root.find(f".//{{{DS}}}Reference")
    if uri is not None:
        reference.set("URI", uri)
    if extra_transform is not None:
        reference.find(f"{{{DS}}}Transforms").append(etree.fromstring(extra_transform))
    report, element = verify_xml(etree.tostring(root), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.INDETERMINATE, Reason.POLICY_FAILURE), report.to_dict()
    assert element is None


def test_xmlsec_signature_with_good_algorithms_passes(pki: TestPKI) -> None:
    for method, digest, c14n in [(T.TransformRsaSha512, T.TransformSha512, T.TransformInclC14N),
                                 (T.TransformRsaSha384, T.TransformSha384, T.TransformInclC14N11)]:
        signed = xmlsec_sign(packet(), pki["signer"], method=method, digest=digest, c14n=c14n,
                             transforms=[T.TransformEnveloped, c14n])
        report, _ = verify_xml(signed, pki.policy())
        assert report.verdict is Verdict.PASSED, report.to_dict()


def test_hmac_is_refused(pki: TestPKI) -> None:
    signed = xmlsec_sign(packet(), None, method=T.TransformHmacSha256, hmac_key=b"secret", certificate=False)
    report, element = verify_xml(signed, pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE)
    assert "HMAC" in report.signatures[0].detail and element is None


def _rsa_key_value(public_key) -> etree._Element:
    import base64
    numbers = public_key.public_numbers()
    def b64(number: int) -> str:
        return base64.b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode()
    key_value = etree.Element(f"{{{DS}}}KeyValue")
    rsa_value = etree.SubElement(key_value, f"{{{DS}}}RSAKeyValue")
    etree.SubElement(rsa_value, f"{{{DS}}}Modulus").text = b64(numbers.n)
    etree.SubElement(rsa_value, f"{{{DS}}}Exponent").text = b64(numbers.e)
    return key_value


@pytest.mark.parametrize(("owner", "passes"), [("signer", True), ("revoked", False)])
def test_key_value_must_be_the_certificates(pki: TestPKI, owner: str, passes: bool) -> None:
    root = etree.fromstring(sign_xml(packet_bytes(), pki.signer()))
    root.find(f".//{{{DS}}}KeyInfo").append(_rsa_key_value(pki[owner].cert.public_key()))
    report, element = verify_xml(etree.tostring(root), pki.policy())
    if passes:
        assert report.verdict is Verdict.PASSED, report.to_dict()
    else:
        assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.SIG_CRYPTO_FAILURE)
        assert "KeyValue" in report.signatures[0].detail and element is None


def _ec_key_value(public_key) -> etree._Element:
    import base64
    from cryptography.hazmat.primitives import serialization
    dsig11 = "http://www.w3.org/2009/xmldsig11#"
    key_value = etree.Element(f"{{{DS}}}KeyValue")
    ec_value = etree.SubElement(key_value, f"{{{dsig11}}}ECKeyValue")
    etree.SubElement(ec_value, f"{{{dsig11}}}NamedCurve").set("URI", "urn:oid:1.2.840.10045.3.1.7")
    etree.SubElement(ec_value, f"{{{dsig11}}}PublicKey").text = base64.b64encode(public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)).decode()
    return key_value


@pytest.mark.parametrize(("owner", "passes"), [("ec256", True), ("bank_other", False)])
def test_ec_key_value_must_be_the_certificates(pki: TestPKI, owner: str, passes: bool) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    root = etree.fromstring(sign_xml(packet_bytes(), pki.signer("ec256")))
    public = pki["ec256"].cert.public_key() if passes else ec.generate_private_key(ec.SECP256R1()).public_key()
    root.find(f".//{{{DS}}}KeyInfo").append(_ec_key_value(public))
    report, _ = verify_xml(etree.tostring(root), pki.policy())
    if passes:
        assert report.verdict is Verdict.PASSED, report.to_dict()
    else:
        assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.SIG_CRYPTO_FAILURE)


def test_no_certificate_in_key_info(pki: TestPKI) -> None:
    signed = xmlsec_sign(packet(), pki["signer"], certificate=False, key_value=True)
    report, _ = verify_xml(signed, pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.FORMAT_FAILURE)


def test_two_signatures_refused_unless_configured(pki: TestPKI) -> None:
    root = etree.fromstring(sign_xml(packet_bytes(), pki.signer(), cover="body"))
    second = xmlsec_sign(root, pki["ec256"], method=T.TransformEcdsaSha256)
    report, _ = verify_xml(second, pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.INDETERMINATE, Reason.POLICY_FAILURE)
    # Allowed two: the first (over the body, made before) is covered by the second (over the packet)
    # — but the second's enveloped transform removes only itself, so the first still verifies.
    report, element = verify_xml(second, pki.policy(max_signatures=2))
    assert len(report.signatures) == 2
    assert report.verdict is Verdict.PASSED, report.to_dict()
    assert element.tag == f"{{{NS}}}GoiTin"


# --- parser attacks, rejected before any cryptography ------------------------------------------------

ATTACKS = {
    "doctype_xxe": b'<?xml version="1.0"?>\n<!DOCTYPE GoiTin [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    "billion_laughs": b'<?xml version="1.0"?>\n<!DOCTYPE GoiTin [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
                      b'&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n',
    "external_dtd": b'<?xml version="1.0"?>\n<!DOCTYPE GoiTin SYSTEM "http://127.0.0.1:9/x.dtd">\n',
}


@pytest.fixture
def no_crypto(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("cryptography reached for a document that should have been refused")
    monkeypatch.setattr(xmldsig, "_verify_crypto", refuse)
    monkeypatch.setattr(xmldsig, "validate_chain", refuse)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_parser_attacks_on_signed_packets(pki: TestPKI, attack: str, no_crypto: None) -> None:
    signed = sign_xml(packet_bytes(), pki.signer())
    body = signed.split(b"?>", 1)[1]
    if attack == "doctype_xxe":
        body = body.replace(b"<MaTTHC>1.005129", b"<MaTTHC>&x;1.005129")
    if attack == "billion_laughs":
        body = body.replace(b"<MaTTHC>1.005129", b"<MaTTHC>&c;1.005129")
    report, element = verify_xml(ATTACKS[attack] + body.lstrip(), pki.policy())
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.FORMAT_FAILURE)
    assert "DOCTYPE" in report.signatures[0].detail or "DTD" in report.signatures[0].detail
    assert element is None


def test_deep_nesting_huge_and_oversized_refused(pki: TestPKI, no_crypto: None) -> None:
    deep = b"<GoiTin xmlns='" + NS.encode() + b"'>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</GoiTin>"
    report, _ = verify_xml(deep, pki.policy())
    assert report.signatures[0].reason is Reason.FORMAT_FAILURE
    oversized = sign_xml(packet_bytes(), pki.signer())
    report, _ = verify_xml(oversized, pki.policy(), max_bytes=1000)
    assert report.signatures[0].reason is Reason.FORMAT_FAILURE
    utf16 = packet_bytes().decode().replace("UTF-8", "UTF-16").encode("utf-16")
    report, _ = verify_xml(utf16, pki.policy())
    assert report.signatures[0].reason is Reason.FORMAT_FAILURE


def test_too_many_certificates_refused(pki: TestPKI, no_crypto: None) -> None:
    root = etree.fromstring(sign_xml(packet_bytes(), pki.signer()))
    x509_data = root.find(f".//{{{DS}}}X509Data")
    for _ in range(12):
        x509_data.append(copy.deepcopy(x509_data[0]))
    report, _ = verify_xml(etree.tostring(root), pki.policy())
    assert report.signatures[0].reason is Reason.FORMAT_FAILURE and "certificates" in report.signatures[0].detail



def test_a_certificate_key_libxmlsec1_cannot_load_is_a_failure_not_an_error(pki: TestPKI) -> None:
    """KeyInfo carries an Ed25519 certificate (a key kind libxmlsec1 cannot load): refused with a report by the
    key policy, before any key is loaded — it used to raise out of verify_xml."""
    report, element = verify_xml(with_ed25519_certificate(sign_xml(packet_bytes(), pki.signer())), pki.policy())
    assert element is None
    assert (report.verdict, report.signatures[0].reason) == (Verdict.FAILED, Reason.SIG_CRYPTO_FAILURE), \
        report.to_dict()
    assert report.signatures[0].signer  # named in the report even though refused
