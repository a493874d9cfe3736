"""Making the PDFs the tests verify: blank documents, pyhanko signatures, later incremental
updates (honest and not), a real RFC 3161 timestamp authority over HTTP, and poppler's
``pdfsig`` with an NSS database built at test time."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter, copy_into_new_writer
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import DocumentSecurityStore

from signing.trust import load_crls
from signing.tsa_server import TSA, TSAKeys, serve_tsa, tsa_certificate  # noqa: F401 - re-exported
from tests.signing.pki import PASSWORD, Issued, TestPKI

HELVETICA = generic.DictionaryObject({
    pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
    pdf_name("/BaseFont"): pdf_name("/Helvetica")})


def _text_stream(text: str) -> generic.StreamObject:
    return generic.StreamObject(stream_data=f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))


def blank_pdf(text: str = "Giay to ket qua - so 123/QD-UBND", pages: int = 1) -> bytes:
    """A PDF whose pages show ``text`` (classic xref table, so every reader copes)."""
    writer = PdfFileWriter(stream_xrefs=False)
    resources = generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): HELVETICA})})
    for number in range(pages):
        page_text = text if pages == 1 else f"{text} - trang {number + 1}"
        writer.insert_page(PageObject(writer.add_object(_text_stream(page_text)), (0, 0, 595, 842), resources),
                           after=number - 1 if number else None)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def sign(pdf: bytes, signer: Issued, pki: TestPKI, *, field: str = "Signature1",
         timestamper: timestamps.TimeStamper | None = None, md: str = "sha256",
         certify: fields.MDPPerm | None = None, password: str | None = None) -> bytes:
    """An incremental update adding one pyhanko signature (PAdES baseline when timestamped);
    ``certify`` makes it a certification signature with that DocMDP permission; ``password``
    opens an encrypted PDF."""
    cms_signer = signers.SimpleSigner.load(str(signer.key_path), str(signer.cert_path),
                                           ca_chain_files=[str(pki["intermediate"].cert_path)])
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm=md, subfilter=fields.SigSeedSubFilter.PADES,
                                        certify=certify is not None,
                                        docmdp_permissions=certify or fields.MDPPerm.FILL_FORMS)
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if password is not None:
        writer.encrypt(password)
    return signers.sign_pdf(writer, meta, cms_signer, timestamper=timestamper).getvalue()


def encrypted(pdf: bytes, user_password: str, owner_password: str = "owner-secret") -> bytes:
    """The same document encrypted (RC4/AES per pyhanko's default); an empty user password opens it freely."""
    writer = copy_into_new_writer(PdfFileReader(BytesIO(pdf)))
    writer.encrypt(owner_password, user_password)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def replace_page_text(pdf: bytes, text: str) -> bytes:
    """The incremental-saving attack: a later revision swaps the page's content stream.
    (Lenient reading: poppler writes xref quirks that pyhanko's strict mode refuses.)"""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    page = writer.root["/Pages"]["/Kids"][0]
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page[pdf_name("/Contents")] = writer.add_object(_text_stream(text))
    writer.update_container(page)
    writer.mark_update(page_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def add_text_note(pdf: bytes, note: str) -> bytes:
    """A later revision that puts a sticky note on the page (an annotation, not a form fill)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0]
    annotation = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Text"),
        pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, (72, 600, 96, 624))),
        pdf_name("/Contents"): generic.TextStringObject(note)}))
    page[pdf_name("/Annots")] = generic.ArrayObject([annotation])
    writer.mark_update(writer.root["/Pages"]["/Kids"].raw_get(0))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def add_revocation_evidence(pdf: bytes, *crl_files: Path) -> bytes:
    """A later revision with a DSS carrying CRLs (what PAdES-LT signing tools embed)."""
    stream = BytesIO(pdf)
    crls = [crl for path in crl_files for crl in load_crls(path.read_bytes())]
    DocumentSecurityStore.add_dss(stream, sig_contents=None, crls=crls, force_write=True)
    return stream.getvalue()


def add_document_timestamp(pdf: bytes, timestamper: timestamps.TimeStamper) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    return signers.PdfTimeStamper(timestamper).timestamp_pdf(writer, "sha256").getvalue()


# --- a timestamp authority, served over HTTP on 127.0.0.1 (signing.tsa_server) -------------

def issue_tsa(pki: TestPKI, issuer_name: str = "intermediate", common_name: str = "Test TSA") -> TSAKeys:
    """A TSA certificate under one of the PKI's CAs."""
    issuer = pki[issuer_name]
    return tsa_certificate(issuer.cert, issuer.key, common_name=common_name,
                           not_before=pki.now - timedelta(days=365), not_after=pki.now + timedelta(days=365))


# --- poppler's pdfsig with an NSS database --------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess[str]:
    """A tool run with untranslated messages (the tests read pdfsig's English output)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env={**os.environ, "LC_ALL": "C"})


def nss_database(directory: Path, pki: TestPKI, *signers_to_import: Issued) -> Path:
    """An NSS database trusting the test root, knowing the intermediate, holding the given signers' keys."""
    directory.mkdir(parents=True, exist_ok=True)
    db = f"sql:{directory}"
    for command in (("certutil", "-N", "-d", db, "--empty-password"),
                    ("certutil", "-A", "-d", db, "-n", "test-root", "-t", "CT,C,C", "-i", str(pki["root"].cert_path)),
                    ("certutil", "-A", "-d", db, "-n", "test-intermediate", "-t", ",,",
                     "-i", str(pki["intermediate"].cert_path))):
        done = run(*command)
        assert done.returncode == 0, done.stderr
    for issued in signers_to_import:
        done = run("pk12util", "-i", str(issued.p12_path), "-d", db, "-W", PASSWORD.decode(), "-K", "")
        assert done.returncode == 0, done.stderr
    return directory


def pdfsig(pdf: Path, nss: Path, *options: str) -> str:
    # No -no-ocsp: with it, poppler 22.12 answers "Unknown issue with Certificate" for every chain;
    # the test certificates name no OCSP responder, so nothing is fetched anyway.
    done = run("pdfsig", "-nssdir", f"sql:{nss}", *options, str(pdf))
    return done.stdout + done.stderr


# --- form fields: filled after signing, and what that can paint over ----------------------------

def with_text_field(pdf: bytes, name: str, rect: tuple[float, float, float, float]) -> bytes:
    """The document with an empty text field (its widget on page 1 at ``rect``), before any signing."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0]
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    widget = writer.add_object(generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.TextStringObject(name),
        pdf_name("/F"): generic.NumberObject(4), pdf_name("/P"): page_ref,
        pdf_name("/Rect"): generic.ArrayObject(map(generic.FloatObject, rect)),
        pdf_name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g")}))
    page[pdf_name("/Annots")] = generic.ArrayObject([widget])
    writer.update_container(page)
    writer.root[pdf_name("/AcroForm")] = generic.DictionaryObject({
        pdf_name("/Fields"): generic.ArrayObject([widget]),
        pdf_name("/DR"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
            {pdf_name("/Helv"): HELVETICA})})})
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def fill_text_field(pdf: bytes, value: str, *, paint_over: bool) -> bytes:
    """A later revision filling the (only) text field; with ``paint_over`` its appearance blanks the
    widget's whole area (covering the page text under it) before writing ``value``."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    widget_ref = writer.root["/AcroForm"]["/Fields"].raw_get(0)
    widget = widget_ref.get_object()
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    width, height = x2 - x1, y2 - y1
    blank = f"1 g 0 0 {width:.0f} {height:.0f} re f " if paint_over else ""
    appearance = writer.add_object(generic.StreamObject({
        pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
        pdf_name("/BBox"): generic.ArrayObject(map(generic.FloatObject, (0, 0, width, height))),
        pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): generic.DictionaryObject(
            {pdf_name("/Helv"): HELVETICA})})},
        stream_data=f"/Tx BMC q {blank}BT 0 g /Helv 18 Tf 2 6 Td ({value}) Tj ET Q EMC".encode("latin-1")))
    widget[pdf_name("/V")] = generic.TextStringObject(value)
    widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): appearance})
    writer.mark_update(widget_ref)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
