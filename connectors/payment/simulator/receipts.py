"""The platform's signed receipts: a PDF signed (PAdES, pyhanko) or an XML document signed (XML-DSig)
by the bank's key; faults make a tampered one or one signed by a key the gateway does not trust."""

from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers

from gateway.kit import load_signer, sign_xml

_FONT = generic.DictionaryObject({  # type: ignore[no-untyped-call]  # pyhanko's writer is untypedpdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
                                  pdf_name("/BaseFont"): pdf_name("/Helvetica")})


def _pdf(lines: list[str]) -> bytes:
    writer = PdfFileWriter(stream_xrefs=False)  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    text = " ".join(f"({line}) Tj 0 -20 Td" for line in lines)
    stream = generic.StreamObject(stream_data=f"BT /F1 12 Tf 72 760 Td {text} ET".encode("latin-1", "replace"))
    fonts = generic.DictionaryObject({pdf_name("/F1"): _FONT})  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    resources = generic.DictionaryObject({pdf_name("/Font"): fonts})  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    page = PageObject(writer.add_object(stream), (0, 0, 595, 842), resources)  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    writer.insert_page(page)  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    return out.getvalue()


def signed_pdf(lines: list[str], key: Path, cert: Path, chain: list[Path]) -> bytes:
    signer = signers.SimpleSigner.load(str(key), str(cert),  # type: ignore[no-untyped-call]  # pyhanko: unannotated
                                       ca_chain_files=[str(c) for c in chain])
    meta = signers.PdfSignatureMetadata(field_name="BankSignature", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    signed: BytesIO = signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(_pdf(lines))), meta, signer)
    return signed.getvalue()


def signed_xml(values: dict[str, str], key: Path, cert: Path) -> bytes:
    body = "".join(f"<{name}>{_escape(value)}</{name}>" for name, value in values.items())
    document = f'<?xml version="1.0" encoding="UTF-8"?><BienLai xmlns="urn:payment-simulator:bienlai">{body}</BienLai>'
    return sign_xml(document.encode("utf-8"), load_signer(key, cert))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tamper(document: bytes, amount: str) -> bytes:
    """The amount changed after signing (same length, so the PDF's byte ranges still line up)."""
    changed = str(int(amount) + 9 * 10 ** (len(amount) - 1))[:len(amount)] if amount else "1"
    if document.count(amount.encode()) == 0:
        return document.replace(b"BienLai", b"BienLa1", 1)
    return document.replace(amount.encode(), changed.encode(), 1)
