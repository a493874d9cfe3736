"""Interoperability with poppler's ``pdfsig`` (an independent verifier and signer, backed by NSS):
what pyhanko signs, pdfsig accepts; what pdfsig signs, the gateway accepts; an update that
changes content after signing, pdfsig only warns about — the gateway fails it."""

from pathlib import Path

import pytest

from signing.pades import verify_pdf
from signing.report import Reason, Verdict
from signing.trust import TrustPolicy
from tests.pdf.conftest import CORPUS
from tests.pdf.helpers import TSA, pdfsig, replace_page_text, run, sign
from tests.signing.pki import TestPKI

VALID = "Signature Validation: Signature is Valid."
TRUSTED = "Certificate Validation: Certificate is Trusted."


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["signer", "ec256"])
def test_pdfsig_accepts_what_pyhanko_signs(pki: TestPKI, document: bytes, nss: Path, tmp_path: Path,
                                           name: str) -> None:
    out = pdfsig(_write(tmp_path, "signed.pdf", sign(document, pki[name], pki)), nss)
    assert VALID in out and TRUSTED in out and "Total document signed" in out
    assert "Signature Type: ETSI.CAdES.detached" in out


def test_pdfsig_accepts_a_timestamped_signature(pki: TestPKI, document: bytes, nss: Path, tsa: TSA,
                                                tmp_path: Path) -> None:
    out = pdfsig(_write(tmp_path, "stamped.pdf", sign(document, pki["signer"], pki, timestamper=tsa.client())), nss)
    assert VALID in out and TRUSTED in out


def test_pdfsig_sees_untrusted_and_revoked_too(pki: TestPKI, document: bytes, nss: Path, tmp_path: Path) -> None:
    """A control: pdfsig is really checking the chain against the NSS database, not rubber-stamping."""
    out = pdfsig(_write(tmp_path, "rogue.pdf", sign(document, pki["rogue_signer"], pki)), nss)
    assert VALID in out and TRUSTED not in out


def test_gateway_accepts_what_pdfsig_signs(pki: TestPKI, policy: TrustPolicy, document: bytes, nss: Path,
                                           tmp_path: Path) -> None:
    """poppler 22.12 signs adbe.pkcs7.detached only ("-etsi is not supported yet with -add-signature")."""
    source, target = _write(tmp_path, "unsigned.pdf", document), tmp_path / "pdfsig-signed.pdf"
    done = run("pdfsig", "-nssdir", f"sql:{nss}", "-add-signature", "-nick", "signer", "-kpw", "",
               "-reason", "Phê duyệt kết quả", str(source), str(target))
    assert target.exists(), done.stderr
    out = pdfsig(target, nss)
    assert VALID in out and TRUSTED in out and "adbe.pkcs7.detached" in out  # pdfsig agrees with itself
    report = verify_pdf(target.read_bytes(), policy)
    assert report.verdict is Verdict.PASSED, report.to_dict()
    [signature] = report.signatures
    assert signature.signer == "C=VN, O=Công dân, CN=Nguyễn Văn An, UID=0010****1234"
    assert signature.covered.endswith("(whole file)")


def test_gateway_fails_a_pdfsig_signature_changed_afterwards(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                             nss: Path, tmp_path: Path) -> None:
    source, target = _write(tmp_path, "unsigned.pdf", document), tmp_path / "pdfsig-signed.pdf"
    run("pdfsig", "-nssdir", f"sql:{nss}", "-add-signature", "-nick", "signer", "-kpw", "", str(source), str(target))
    tampered = replace_page_text(target.read_bytes(), "Giay to GIA MAO")
    assert [(s.verdict, s.reason) for s in verify_pdf(tampered, policy).signatures] == \
        [(Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)]


def test_content_changed_after_signing_pdfsig_warns_gateway_fails(pki: TestPKI, policy: TrustPolicy,
                                                                  document: bytes, nss: Path, tmp_path: Path) -> None:
    tampered = replace_page_text(sign(document, pki["signer"], pki), "Giay to GIA MAO")
    out = pdfsig(_write(tmp_path, "tampered.pdf", tampered), nss)
    assert VALID in out and "Not total document signed" in out  # only a warning
    report = verify_pdf(tampered, policy)
    assert report.verdict is Verdict.FAILED
    assert report.signatures[0].reason is Reason.MODIFIED_AFTER_SIGNING


@pytest.mark.parametrize("path", sorted(CORPUS.glob("form-update-*sneaky*.pdf")), ids=lambda p: p.name)
def test_sneaky_form_updates_pdfsig_warns_gateway_fails(path: Path, nss: Path) -> None:
    out = pdfsig(path, nss)
    assert out.count(VALID) == 2 and "Not total document signed" in out
    report = verify_pdf(path.read_bytes(), TrustPolicy("no-anchors"))
    assert report.verdict is Verdict.FAILED
    assert Reason.MODIFIED_AFTER_SIGNING in {signature.reason for signature in report.signatures}


@pytest.mark.parametrize("path", [p for p in sorted(CORPUS.glob("coverage-anomalies__*.pdf"))
                                  if not p.name.endswith("base.pdf")], ids=lambda p: p.name)
def test_coverage_anomalies_pdfsig_calls_valid_gateway_fails(path: Path, nss: Path) -> None:
    assert VALID in pdfsig(path, nss)
    assert verify_pdf(path.read_bytes(), TrustPolicy("no-anchors")).verdict is Verdict.FAILED


def test_docmdp_no_changes_pdfsig_ignores_gateway_enforces(pki: TestPKI, policy: TrustPolicy, document: bytes,
                                                           nss: Path, tmp_path: Path) -> None:
    """A certification signature forbidding all changes, then signed again by pdfsig (which does not
    look at DocMDP): pdfsig trusts both, the gateway fails the certification."""
    from pyhanko.sign.fields import MDPPerm

    certified = _write(tmp_path, "certified.pdf", sign(document, pki["signer"], pki, certify=MDPPerm.NO_CHANGES))
    target = tmp_path / "countersigned.pdf"
    run("pdfsig", "-nssdir", f"sql:{nss}", "-add-signature", "-nick", "signer", "-kpw", "", str(certified), str(target))
    out = pdfsig(target, nss)
    assert out.count(VALID) == 2 and out.count(TRUSTED) == 2
    report = verify_pdf(target.read_bytes(), policy)
    certification = next(s for s in report.signatures if "'Signature1'" in s.detail)
    assert (certification.verdict, certification.reason) == (Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)
    assert "DocMDP" in certification.detail
    assert report.verdict is Verdict.FAILED
