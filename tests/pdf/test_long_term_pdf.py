"""PAdES that holds for years (ETSI EN 319 102-1, DSS-style cases built at test time): signature and
document timestamps as proofs of existence, B-LT validation data (DSS certificates, CRLs, OCSP answers)
used offline, and poppler's pdfsig side by side on the timestamped and LTV files."""

from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from asn1crypto import ocsp as asn1_ocsp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore

from signing.pades import verify_pdf
from signing.report import Reason, Verdict
from signing.trust import TrustPolicy, load_crls
from tests.pdf.conftest import require_tools
from tests.pdf.helpers import TSAKeys, add_document_timestamp, pdfsig, serve_tsa, sign
from tests.signing.ocsp_responder import OcspResponder
from tests.signing.pki import TestPKI


def etsi(signature) -> tuple[str, str, str | None]:
    described = signature.to_dict()
    return described["verdict"], described["indication"], described.get("sub_indication")


def signed_at(document: bytes, pki: TestPKI, keys: TSAKeys, signer: str, when: datetime) -> bytes:
    with serve_tsa(keys, fixed_time=when) as tsa:
        return sign(document, pki[signer], pki, timestamper=tsa.client())


def test_expired_without_timestamp_is_indeterminate(pki: TestPKI, document: bytes) -> None:
    unstamped = sign(document, pki["expired"], pki)
    [without_crl] = verify_pdf(unstamped, pki.policy(with_crl=False)).signatures
    assert etsi(without_crl) == ("indeterminate", "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
    # with the CRLs: the certificate was good and unrevoked up to its expiry — still no proof of time
    [with_crl] = verify_pdf(unstamped, pki.policy()).signatures
    assert etsi(with_crl) == ("indeterminate", "INDETERMINATE", "OUT_OF_BOUNDS_NOT_REVOKED")


def test_expired_with_timestamp_before_expiry_passes(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                     tsa_keys: TSAKeys) -> None:
    [signature] = verify_pdf(signed_at(document, pki, tsa_keys, "expired", pki.now - timedelta(days=100)),
                             policy).signatures
    assert etsi(signature) == ("passed", "TOTAL-PASSED", None) and signature.signing_time_source == "timestamp"


def test_expired_with_timestamp_after_expiry_fails(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                   tsa_keys: TSAKeys) -> None:
    [signature] = verify_pdf(signed_at(document, pki, tsa_keys, "expired", pki.now - timedelta(days=2)),
                             policy).signatures
    assert etsi(signature) == ("failed", "TOTAL-FAILED", "EXPIRED")


def test_revoked_after_timestamp_passes_with_the_revocation_noted(pki: TestPKI, policy: TrustPolicy,
                                                                  document: bytes, tsa_keys: TSAKeys) -> None:
    [signature] = verify_pdf(signed_at(document, pki, tsa_keys, "revoked", pki.now - timedelta(days=2)),
                             policy).signatures
    assert etsi(signature) == ("passed", "TOTAL-PASSED", None), signature.to_dict()
    assert len(signature.notes) == 1 and "revoked after the proven signing time" in signature.notes[0]
    [unstamped] = verify_pdf(sign(document, pki["revoked"], pki), policy).signatures
    assert etsi(unstamped) == ("indeterminate", "INDETERMINATE", "REVOKED_NO_POE")
    assert unstamped.reason is Reason.REVOKED


def test_a_document_timestamp_proves_an_older_signature(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                        tsa_keys: TSAKeys) -> None:
    """PAdES B-LTA: the signature has no timestamp of its own; a document timestamp over a later revision,
    taken while the signer's certificate held, is its proof of existence."""
    with serve_tsa(tsa_keys, fixed_time=pki.now - timedelta(days=15)) as archive_tsa:
        archived = add_document_timestamp(sign(document, pki["expired"], pki), archive_tsa.client())
    report = verify_pdf(archived, policy)
    signature, timestamp = sorted(report.signatures, key=lambda s: "document timestamp" in s.detail)
    assert etsi(signature) == ("passed", "TOTAL-PASSED", None), signature.to_dict()
    assert signature.signing_time_source == "document timestamp"
    assert datetime.fromisoformat(signature.signing_time) == pki.now - timedelta(days=15)
    assert etsi(timestamp) == ("passed", "TOTAL-PASSED", None)


def _ocsp_answer(pki: TestPKI, name: str) -> asn1_ocsp.OCSPResponse:
    """The issuing CA's OCSP answer for ``name``, as a signing tool fetches it for a B-LT file."""
    responder = OcspResponder(pki["intermediate"])
    responder.know(pki[name])
    issued = pki[name].cert
    request = ocsp.OCSPRequestBuilder().add_certificate(issued, pki["intermediate"].cert, hashes.SHA1()).build()
    answer = responder.answer(request).public_bytes(serialization.Encoding.DER)
    return asn1_ocsp.OCSPResponse.load(answer)


def _with_dss(pdf: bytes, *, ocsps: list, crl_files: tuple[Path, ...]) -> bytes:
    stream = BytesIO(pdf)
    crls = [crl for path in crl_files for crl in load_crls(path.read_bytes())]
    DocumentSecurityStore.add_dss(stream, sig_contents=None, ocsps=ocsps, crls=crls, force_write=True)
    return stream.getvalue()


def test_b_lt_validation_data_is_used_offline(pki: TestPKI, document: bytes) -> None:
    """The DSS's OCSP answer (for the signer) and CRL (for the intermediate) settle revocation with nothing
    configured and no network; hard-fail makes the missing evidence visible."""
    if "ocsp_signer" not in pki.issued:
        pki.issue_signer("ocsp_signer", ocsp_url="http://127.0.0.1:9/ocsp")  # declared, never reachable
    signed = sign(document, pki["ocsp_signer"], pki)
    offline = pki.policy(with_crl=False, revocation_mode="hard-fail")
    [bare] = verify_pdf(signed, offline).signatures
    assert bare.verdict is not Verdict.PASSED
    lt = _with_dss(signed, ocsps=[_ocsp_answer(pki, "ocsp_signer")], crl_files=(pki.root_crl_path,))
    [signature] = verify_pdf(lt, offline).signatures
    assert etsi(signature) == ("passed", "TOTAL-PASSED", None), signature.to_dict()
    assert not [note for note in signature.checks_not_done if note.startswith("revocation:")]


# --- pdfsig side by side ----------------------------------------------------------------------------

def test_pdfsig_side_by_side_on_timestamped_and_ltv_files(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                          tsa_keys: TSAKeys, nss: Path, tmp_path: Path) -> None:
    """pdfsig checks the cryptography and the chain *now*: it agrees the signatures are intact, and calls
    the certificate expired — it does not use the timestamp as a proof of existence; the gateway does."""
    require_tools("pdfsig")
    files = {
        "expired-stamped.pdf": signed_at(document, pki, tsa_keys, "expired", pki.now - timedelta(days=100)),
        "expired-lta.pdf": add_document_timestamp(sign(document, pki["expired"], pki),
                                                  _tsa_at(tsa_keys, pki.now - timedelta(days=15))),
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        out = pdfsig(path, nss)
        assert "Signature Validation: Signature is Valid." in out, out
        assert "Certificate has Expired" in out, out
        signatures = verify_pdf(data, policy).signatures
        assert all(s.verdict is Verdict.PASSED for s in signatures), [s.to_dict() for s in signatures]


def _tsa_at(keys: TSAKeys, when: datetime) -> DummyTimeStamper:
    """A pyhanko timestamper answering with ``when`` in-process (the HTTP path is tested above)."""
    return DummyTimeStamper(keys.cert, keys.key, certs_to_embed=keys.chain, fixed_dt=when)
