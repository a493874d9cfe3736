"""What the page shows (issue 17 item 3): the signed revision and the final document compared as
poppler renders and reads them, beyond pyhanko's object-level difference analysis."""

import pytest
from pyhanko.sign.diff_analysis import ModificationLevel

from signing import pdf_visual
from signing.pades import verify_pdf
from signing.report import Reason, Verdict
from signing.trust import TrustPolicy
from tests.pdf.conftest import require_tools
from tests.pdf.helpers import add_document_timestamp, blank_pdf, fill_text_field, replace_page_text, sign, \
    with_text_field
from tests.pdf.helpers import TSA
from tests.signing.pki import TestPKI

pytestmark = pytest.mark.usefixtures("poppler")


@pytest.fixture(scope="module")
def poppler() -> None:
    require_tools("pdftoppm", "pdftotext")


@pytest.fixture(scope="module")
def form_signed(pki: TestPKI) -> bytes:
    """A one-page result document with an empty note field over its text line, then signed."""
    return sign(with_text_field(blank_pdf(), "GhiChu", (60, 700, 560, 750)), pki["signer"], pki)


def test_content_replaced_after_signing_fails_with_the_page_named(pki: TestPKI, policy: TrustPolicy,
                                                                 document: bytes) -> None:
    report = verify_pdf(replace_page_text(sign(document, pki["signer"], pki), "Giay to GIA MAO"), policy)
    [signature] = report.signatures
    assert (signature.verdict, signature.reason) == (Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)
    assert signature.to_dict()["indication"] == "TOTAL-FAILED"
    assert "visible change after signing" in signature.detail and "page content changed: pages 1" in signature.detail


@pytest.mark.parametrize("paint_over", [False, True])
def test_a_form_field_filled_after_signing_is_indeterminate_with_the_field_named(
        form_signed: bytes, policy: TrustPolicy, paint_over: bool) -> None:
    """pyhanko classes both as form filling; what the page shows changed, through the field only."""
    report = verify_pdf(fill_text_field(form_signed, "GIAY TO GIA MAO", paint_over=paint_over), policy)
    [signature] = report.signatures
    assert (signature.verdict, signature.reason) == (Verdict.INDETERMINATE, Reason.MODIFIED_AFTER_SIGNING)
    assert signature.to_dict()["sub_indication"] == "SIG_CONSTRAINTS_FAILURE"
    assert "form fields: GhiChu" in signature.detail and "rendering changed: pages 1" in signature.detail
    assert "page content changed" not in signature.detail


def test_where_the_policy_forbids_form_filling_the_filled_field_fails(form_signed: bytes, policy: TrustPolicy) -> None:
    report = verify_pdf(fill_text_field(form_signed, "GIA MAO", paint_over=True), policy,
                        allowed_changes=ModificationLevel.LTA_UPDATES)
    assert [(s.verdict, s.reason) for s in report.signatures] == [(Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING)]


def test_a_second_signature_or_a_document_timestamp_is_no_visible_change(pki: TestPKI, policy: TrustPolicy,
                                                                       form_signed: bytes, tsa: TSA) -> None:
    twice = sign(form_signed, pki["ec256"], pki, field="Signature2")
    stamped = add_document_timestamp(twice, tsa.client())
    report = verify_pdf(stamped, policy)
    assert report.verdict is Verdict.PASSED, report.to_dict()


def test_compare_reports_pages_and_not_words(document: bytes) -> None:
    """Page numbers only: a document's words may name a citizen, and reports are stored."""
    other = blank_pdf("Nguyen Van An 001099001234")
    diff = pdf_visual.compare(document, other)
    assert diff.content_pages == [1] and diff.shown_pages == [1] and diff.text_changes == [1]
    assert "001099001234" not in diff.describe() and "Nguyen" not in diff.describe()
    assert not pdf_visual.compare(document, document).changed


def test_a_revision_poppler_cannot_read_is_said_not_compared(document: bytes) -> None:
    with pytest.raises(pdf_visual.NotCompared):
        pdf_visual.compare(b"%PDF-1.7 not really", document)
