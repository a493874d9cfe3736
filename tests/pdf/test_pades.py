"""verify_pdf on PDFs signed at test time with pyhanko under the test PKI: the good cases pass,
every kind of bad signer gets its verdict and reason, updates after signing are classified."""

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings, strategies as st

from signing.pades import verify_pdf
from signing.report import Reason, Verdict
from signing.trust import TrustPolicy
from tests.pdf.helpers import (TSA, TSAKeys, add_document_timestamp, add_revocation_evidence, add_text_note,
                               blank_pdf, encrypted, issue_tsa, replace_page_text, serve_tsa, sign)
from tests.signing.pki import Issued, TestPKI


def outcome(report) -> list[tuple[Verdict, Reason]]:
    return [(signature.verdict, signature.reason) for signature in report.signatures]


def test_good_signature_passes_with_a_full_report(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    signed = sign(document, pki["signer"], pki)
    report = verify_pdf(signed, policy)
    assert report.verdict is Verdict.PASSED and report.format == "pades"
    [signature] = report.signatures
    assert (signature.verdict, signature.reason) == (Verdict.PASSED, Reason.OK)
    assert signature.signer == "C=VN, O=Công dân, CN=Nguyễn Văn An, UID=0010****1234"
    assert "CN=Test Intermediate CA" in signature.issuer
    assert signature.algorithms == {"digest": "sha256", "signature": "sha256_rsa", "key": "rsa-2048"}
    assert signature.signing_time_source == "claimed" and signature.signing_time.endswith("+07:00")
    assert signature.covered.endswith(f"of {len(signed)}; revision 2 of 2 (whole file)")
    assert signature.checks_not_done == []  # the policy has both CRLs: revocation was checked


def test_no_identifier_leaks_into_report_or_logs(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("signer", "rogue_signer"):  # one passes, one fails chain building (cv quotes subjects)
        report = verify_pdf(sign(document, pki[name], pki), policy)
        text = json.dumps(report.to_dict(), ensure_ascii=False)
        assert "001099001234" not in text and "0010****1234" in text
    assert "001099001234" not in caplog.text and "Nguyễn Văn An" not in caplog.text


@pytest.mark.parametrize("name", ["ec256", "ec384"])
def test_ecdsa_signers_pass(pki: TestPKI, policy: TrustPolicy, document: bytes, name: str) -> None:
    report = verify_pdf(sign(document, pki[name], pki, md="sha384" if name == "ec384" else "sha256"), policy)
    assert report.verdict is Verdict.PASSED
    assert report.signatures[0].algorithms["key"] == {"ec256": "ec-secp256r1", "ec384": "ec-secp384r1"}[name]


@pytest.mark.parametrize(("name", "verdict", "reason"), [
    ("expired", Verdict.INDETERMINATE, Reason.EXPIRED),
    ("not_yet_valid", Verdict.FAILED, Reason.NOT_YET_VALID),
    ("revoked", Verdict.INDETERMINATE, Reason.REVOKED),
    ("wrong_usage", Verdict.INDETERMINATE, Reason.KEY_USAGE_FAILURE),
    ("rsa1024", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),
    ("sha1", Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE),  # certificate signed with SHA-1
    ("rogue_signer", Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND),  # look-alike root
])
def test_bad_signers(pki: TestPKI, policy: TrustPolicy, document: bytes, name: str, verdict: Verdict,
                     reason: Reason) -> None:
    report = verify_pdf(sign(document, pki[name], pki), policy)
    assert outcome(report) == [(verdict, reason)]
    assert report.verdict is verdict


def test_key_algorithm_outside_the_policy_is_refused(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                     tmp_path: Path) -> None:
    """Ed25519: a sound algorithm, but not one the Vietnamese profile (RSA, ECDSA P-256/P-384) allows."""
    key = ed25519.Ed25519PrivateKey.generate()
    issuer = pki["intermediate"]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ed25519")]))
            .issuer_name(issuer.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(pki.now - timedelta(days=1)).not_valid_after(pki.now + timedelta(days=30))
            .sign(issuer.key, hashes.SHA256()))
    issued = Issued("ed25519", key, cert, tmp_path / "ed.key.pem", tmp_path / "ed.cert.pem", tmp_path / "unused.p12")
    issued.key_path.write_bytes(issued.key_pem)
    issued.cert_path.write_bytes(issued.cert_pem)
    report = verify_pdf(sign(document, issued, pki, md="sha512"), policy)
    assert outcome(report) == [(Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE)]
    assert report.signatures[0].algorithms["key"] == "ed25519"


def test_sha1_digest_is_refused(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    report = verify_pdf(sign(document, pki["signer"], pki, md="sha1"), policy)
    assert outcome(report) == [(Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE)]
    assert "sha1" in report.signatures[0].detail


def test_untrusted_when_the_purpose_has_other_anchors(pki: TestPKI, document: bytes) -> None:
    other = TrustPolicy.from_paths("bank", anchors=[pki["rogue_root"].cert_path])
    report = verify_pdf(sign(document, pki["signer"], pki), other)
    assert outcome(report) == [(Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND)]
    assert verify_pdf(sign(document, pki["signer"], pki), TrustPolicy("empty")).verdict is Verdict.INDETERMINATE


def test_revocation_not_checkable_is_said(pki: TestPKI, document: bytes) -> None:
    """Without the CRLs, a revoked signer cannot be caught — and the report says revocation was not checked."""
    report = verify_pdf(sign(document, pki["revoked"], pki), pki.policy(with_crl=False))
    [signature] = report.signatures
    assert signature.reason is not Reason.REVOKED
    assert any(note.startswith("revocation:") for note in signature.checks_not_done)


def test_crls_embedded_in_the_dss_are_used(pki: TestPKI, document: bytes) -> None:
    """A PAdES-LT file brings its own CRLs: revocation is checked without any configured."""
    offline = pki.policy(with_crl=False)
    crls = (pki.crl_path, pki.root_crl_path)
    good = verify_pdf(add_revocation_evidence(sign(document, pki["signer"], pki), *crls), offline)
    assert outcome(good) == [(Verdict.PASSED, Reason.OK)]
    assert good.signatures[0].checks_not_done == []
    revoked = verify_pdf(add_revocation_evidence(sign(document, pki["revoked"], pki), *crls), offline)
    assert outcome(revoked) == [(Verdict.INDETERMINATE, Reason.REVOKED)]
    # The evidence of one file does not linger in the policy for the next.
    assert verify_pdf(sign(document, pki["signer"], pki), offline).signatures[0].checks_not_done


def test_dss_crl_from_an_untrusted_issuer_does_not_count(pki: TestPKI, document: bytes, tmp_path: Path) -> None:
    """A CRL claiming to be the intermediate's but signed by the look-alike root proves nothing."""
    forged = tmp_path / "forged.crl"
    forged.write_bytes(x509.CertificateRevocationListBuilder().issuer_name(pki["intermediate"].cert.subject)
                       .last_update(pki.now - timedelta(days=1)).next_update(pki.now + timedelta(days=30))
                       .sign(pki["rogue_root"].key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    report = verify_pdf(add_revocation_evidence(sign(document, pki["signer"], pki), forged), pki.policy(with_crl=False))
    assert outcome(report) == [(Verdict.INDETERMINATE, Reason.REVOCATION_UNKNOWN)]


def test_validation_time_is_honoured(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    """Verified two years on, the signer's certificate has expired and no timestamp proves the signing time."""
    report = verify_pdf(sign(document, pki["signer"], pki), policy, at=pki.now + timedelta(days=730))
    assert outcome(report) == [(Verdict.INDETERMINATE, Reason.EXPIRED)]
    assert report.signatures[0].signing_time_source == "now"


# --- updates after signing -------------------------------------------------------------------

def test_content_changed_after_signing_is_caught(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    tampered = replace_page_text(sign(document, pki["signer"], pki), "Giay to GIA MAO")
    report = verify_pdf(tampered, policy)
    assert outcome(report) == [(Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)]
    assert "revision 2 of 3" in report.signatures[0].covered


def test_every_update_after_signing_is_classified(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                  tsa: TSA) -> None:
    """Signed, countersigned, timestamped, then the content swapped: each later revision is named."""
    countersigned = sign(sign(document, pki["signer"], pki), pki["ec256"], pki, field="Signature2")
    history = replace_page_text(add_document_timestamp(countersigned, tsa.client()), "Giay to GIA MAO")
    report = verify_pdf(history, policy)
    first = next(s for s in report.signatures if "'Signature1'" in s.detail)
    assert first.covered.endswith("; revision 2 of 5"
                                  "; revision 3: thêm chữ ký hoặc điền trường biểu mẫu — signatures added or form "
                                  "fields filled"
                                  "; revision 4: chỉ thêm chữ ký số, dấu thời gian, dữ liệu xác thực — only "
                                  "signatures, timestamps, validation data added"
                                  "; revision 5: nội dung bị thay đổi — content changed")
    assert {(s.verdict, s.reason) for s in report.signatures} == {(Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)}
    assert len(report.signatures) == 3  # two signatures and the document timestamp, all before the change


def test_byte_changed_inside_the_signed_range_is_a_hash_failure(pki: TestPKI, policy: TrustPolicy,
                                                                document: bytes) -> None:
    signed = sign(document, pki["signer"], pki)
    forged = signed.replace(b"so 123/QD-UBND", b"so 999/QD-UBND")
    assert forged != signed
    assert outcome(verify_pdf(forged, policy)) == [(Verdict.FAILED, Reason.HASH_FAILURE)]


def test_second_signature_keeps_the_first_intact(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    twice = sign(sign(document, pki["signer"], pki), pki["ec256"], pki, field="Signature2")
    report = verify_pdf(twice, policy)
    assert outcome(report) == [(Verdict.PASSED, Reason.OK)] * 2
    first = next(s for s in report.signatures if "'Signature1'" in s.detail)
    assert "revision 2 of 3" in first.covered and "signatures added or form fields filled" in first.covered


def test_stricter_policy_rejects_even_a_second_signature(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    from pyhanko.sign.diff_analysis import ModificationLevel

    twice = sign(sign(document, pki["signer"], pki), pki["signer"], pki, field="Signature2")
    report = verify_pdf(twice, policy, allowed_changes=ModificationLevel.NONE)
    assert sorted(outcome(report)) == sorted([(Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING),
                                              (Verdict.PASSED, Reason.OK)])


# --- timestamps (a TSA answering over HTTP) ------------------------------------------------------

def test_signature_timestamp_gives_the_signing_time(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                    tsa: TSA) -> None:
    report = verify_pdf(sign(document, pki["signer"], pki, timestamper=tsa.client()), policy)
    assert outcome(report) == [(Verdict.PASSED, Reason.OK)]
    assert report.signatures[0].signing_time_source == "timestamp"


def test_timestamp_proves_signing_while_the_certificate_was_valid(pki: TestPKI, policy: TrustPolicy,
                                                                  document: bytes, tsa_keys: TSAKeys) -> None:
    """Signed (and timestamped) 100 days ago by a certificate that expired 10 days ago: still good."""
    with serve_tsa(tsa_keys, fixed_time=pki.now - timedelta(days=100)) as past:
        signed = sign(document, pki["expired"], pki, timestamper=past.client())
    report = verify_pdf(signed, policy)
    assert outcome(report) == [(Verdict.PASSED, Reason.OK)]
    signature = report.signatures[0]
    assert signature.signing_time_source == "timestamp"
    assert datetime.fromisoformat(signature.signing_time) == pki.now - timedelta(days=100)
    # Without the timestamp the same certificate is simply expired.
    assert outcome(verify_pdf(sign(document, pki["expired"], pki), policy)) == [(Verdict.INDETERMINATE, Reason.EXPIRED)]


def test_untrusted_timestamp_does_not_set_the_time(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    rogue = issue_tsa(pki, issuer_name="rogue_root", common_name="Rogue TSA")
    with serve_tsa(rogue, fixed_time=pki.now - timedelta(days=100)) as untrusted:
        signed = sign(document, pki["expired"], pki, timestamper=untrusted.client())
    [signature] = verify_pdf(signed, policy).signatures
    assert signature.signing_time_source != "timestamp"
    assert (signature.verdict, signature.reason) == (Verdict.INDETERMINATE, Reason.EXPIRED)
    assert any("TSA not trusted" in note for note in signature.checks_not_done)


def test_document_timestamp_after_signing_is_accepted_and_reported(pki: TestPKI, policy: TrustPolicy,
                                                                   document: bytes, tsa: TSA) -> None:
    stamped = add_document_timestamp(sign(document, pki["signer"], pki), tsa.client())
    report = verify_pdf(stamped, policy)
    assert outcome(report) == [(Verdict.PASSED, Reason.OK)] * 2
    signature, timestamp = sorted(report.signatures, key=lambda s: "timestamp" in s.detail)
    assert "only signatures, timestamps, validation data added" in signature.covered
    assert "document timestamp" in timestamp.detail and timestamp.signer == "C=VN, CN=Test TSA"
    assert timestamp.signing_time_source == "timestamp"


# --- malformed input never raises -------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF\n", b"%PDF-1.4\n1 0 obj\n<<" * 1000],
                         ids=["empty", "text", "header-only", "unterminated"])
def test_garbage_is_a_format_failure(policy: TrustPolicy, data: bytes) -> None:
    assert outcome(verify_pdf(data, policy)) == [(Verdict.FAILED, Reason.FORMAT_FAILURE)]


def test_truncated_signed_pdf_never_raises(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    signed = sign(document, pki["signer"], pki)
    for cut in range(0, len(signed), max(1, len(signed) // 40)):
        report = verify_pdf(signed[:cut], policy)
        assert report.verdict is not Verdict.PASSED


def test_encrypted_pdf_verifies_when_it_opens_without_a_password(pki: TestPKI, policy: TrustPolicy,
                                                                  document: bytes) -> None:
    open_to_all = sign(encrypted(document, ""), pki["signer"], pki, password="owner-secret")
    assert outcome(verify_pdf(open_to_all, policy)) == [(Verdict.PASSED, Reason.OK)]
    locked = sign(encrypted(document, "mat-khau"), pki["signer"], pki, password="mat-khau")
    report = verify_pdf(locked, policy)
    assert outcome(report) == [(Verdict.FAILED, Reason.FORMAT_FAILURE)]
    assert "encrypted with a password" in report.signatures[0].detail


def test_unsigned_pdf_is_indeterminate(policy: TrustPolicy) -> None:
    report = verify_pdf(blank_pdf(), policy)
    assert outcome(report) == [(Verdict.INDETERMINATE, Reason.NO_SIGNATURE)]


def test_annotation_added_after_signing_is_a_modification(pki: TestPKI, policy: TrustPolicy,
                                                          document: bytes) -> None:
    noted = add_text_note(sign(document, pki["signer"], pki), "Đã huỷ — cancelled")
    assert outcome(verify_pdf(noted, policy)) == [(Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)]


def test_certification_signature_alone_passes(pki: TestPKI, policy: TrustPolicy, document: bytes) -> None:
    from pyhanko.sign.fields import MDPPerm

    certified = sign(document, pki["signer"], pki, certify=MDPPerm.NO_CHANGES)
    assert outcome(verify_pdf(certified, policy)) == [(Verdict.PASSED, Reason.OK)]


def test_signature_of_unknown_kind_is_reported_not_skipped(pki: TestPKI, policy: TrustPolicy,
                                                           document: bytes) -> None:
    """pyhanko's own listing drops signatures with an unknown /SubFilter; the gateway reports them."""
    signed = sign(document, pki["signer"], pki)
    odd = signed.replace(b"/ETSI.CAdES.detached", b"/ETSI.CAdES.detacheX")
    assert odd != signed
    assert outcome(verify_pdf(odd, policy)) == [(Verdict.FAILED, Reason.FORMAT_FAILURE)]


def _blank_byte_range(signed: bytes) -> bytes:
    found = re.search(rb"/ByteRange \[[^\]]*\]", signed)
    assert found
    return signed.replace(found.group(), b"/ByteRange [0 0 0 0]".ljust(len(found.group())))


def _contents(signed: bytes, replace: Callable[[re.Match[bytes]], bytes]) -> bytes:
    found = re.search(rb"/Contents <([0-9a-fA-F]+)>", signed)
    assert found
    return signed[:found.start()] + replace(found) + signed[found.end():]


@pytest.mark.parametrize("forge", [
    lambda signed: signed.replace(b"/ByteRange [", b"/ByteRangX ["),
    _blank_byte_range,
    lambda signed: _contents(signed, lambda m: m.group().replace(b"/Contents", b"/Contentz")),
    lambda signed: _contents(signed, lambda m: b"/Contents <" + b"0" * len(m.group(1)) + b">"),
], ids=["no-byterange", "empty-byterange", "no-contents", "zeroed-contents"])
def test_universal_signature_forgery_variants_fail(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                   forge: Callable[[bytes], bytes]) -> None:
    """USF (Mladenov et al., 2019): a signature dictionary whose byte range or contents are missing or
    empty, which some viewers showed as valid."""
    signed = sign(document, pki["signer"], pki)
    forged = forge(signed)
    assert forged != signed and len(forged) == len(signed)
    [(verdict, reason)] = outcome(verify_pdf(forged, policy))
    assert verdict is Verdict.FAILED and reason in (Reason.FORMAT_FAILURE, Reason.HASH_FAILURE)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_signed_pdf_never_raises(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                         data: st.DataObject) -> None:
    signed = bytearray(_SIGNED.setdefault("pdf", sign(document, pki["signer"], pki)))
    for _ in range(data.draw(st.integers(1, 8))):
        signed[data.draw(st.integers(0, len(signed) - 1))] = data.draw(st.integers(0, 255))
    report = verify_pdf(bytes(signed), policy)
    assert report.signatures and all(isinstance(s.reason, Reason) for s in report.signatures)


_SIGNED: dict[str, bytes] = {}
