"""PDF (PAdES) signature verification: every signature and document timestamp in a file.

pyhanko does the heavy lifting — byte-range digest, CMS signature, coverage of the file,
difference analysis of every incremental update after signing, RFC 3161 timestamps —
and this module maps its status objects to a ``VerificationReport``. The signer's chain
is checked by ``signing.trust.validate_chain`` (the one chain check of every format) at
the signing time: the signature timestamp when it is valid and trusted, else the claimed
time within the policy's tolerance, else now.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import datetime, UTC
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from asn1crypto.crl import CertificateList
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.misc import PdfReadError, PdfStrictReadError
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel, StandardDiffPolicy,
                                      SuspiciousModification)
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm, enumerate_sig_fields
from pyhanko.sign.validation import (DocumentSecurityStore, EmbeddedPdfSignature, SignatureCoverageLevel,
                                     async_validate_pdf_signature, async_validate_pdf_timestamp)
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.status import DocumentTimestampStatus, ModificationInfo, PdfSignatureStatus

from signing import pdf_visual
from signing.masking import mask_digits_in
from signing.messages import said
from signing.report import Reason, SignatureReport, Verdict, VerificationReport
from signing.trust import ZONE, TrustPolicy, _run, describe_name, validate_chain

# pyhanko logs validation problems with full certificate subjects (names, citizen IDs) at
# WARNING/ERROR; the report says the same with identifiers masked, so keep them out of logs.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

#: Updates after signing that the default policy accepts: further signatures, document
#: timestamps, validation data (DSS) and filling in form fields. Anything else changes content.
DEFAULT_ALLOWED_CHANGES = ModificationLevel.FORM_FILLING

_CHANGES = {
    ModificationLevel.NONE: said("pades.change.none"),
    ModificationLevel.LTA_UPDATES: said("pades.change.lta"),
    ModificationLevel.FORM_FILLING: said("pades.change.form"),
    ModificationLevel.ANNOTATIONS: said("pades.change.annotations"),
    ModificationLevel.OTHER: said("pades.change.other"),
}


class _ClassifyingDiffPolicy(StandardDiffPolicy):
    """pyhanko's default rules, remembering each later revision's classification for the report
    (pyhanko compares each later revision with the signed one, and stops at the first it rejects)."""

    def __init__(self) -> None:
        super().__init__(DEFAULT_DIFF_POLICY.global_rules, DEFAULT_DIFF_POLICY.form_rule)
        self.levels: dict[int, ModificationLevel] = {}

    def apply(self, old: HistoricalResolver, new: HistoricalResolver, field_mdp_spec: FieldMDPSpec | None = None,
              doc_mdp: MDPPerm | None = None) -> DiffResult:
        try:
            result = super().apply(old, new, field_mdp_spec, doc_mdp)
        except SuspiciousModification:
            self.levels[new.revision] = ModificationLevel.OTHER
            raise
        self.levels[new.revision] = result.modification_level
        return result


def verify_pdf(data: bytes, policy: TrustPolicy, *, at: datetime | None = None,
               allowed_changes: ModificationLevel = DEFAULT_ALLOWED_CHANGES) -> VerificationReport:
    """Verifies every signature of a PDF; ``at`` is the validation time (default: now)."""
    report = VerificationReport("pades")
    now = (at or datetime.now(UTC)).astimezone(UTC)
    try:
        reader, leniency = _open(data)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:  # noqa: BLE001 - any parser error means "not a readable PDF"
        report.signatures.append(_format_failure(said("pades.unreadable"), exc))
        return report
    try:
        policy = _with_embedded_evidence(policy, reader)
    except Exception as exc:  # noqa: BLE001 - a broken DSS is the file's problem, reported as such
        report.signatures.append(_format_failure(said("pades.broken_dss"), exc))
        return report
    if not fields:
        report.signatures.append(SignatureReport(Verdict.INDETERMINATE, Reason.NO_SIGNATURE,
                                                 said("pades.no_signature")))
    # Document timestamps first: each one that holds is a proof of existence for the revisions it covers.
    proofs: list[tuple[int, datetime]] = []
    results: dict[int, SignatureReport] = {}
    ordered = sorted(enumerate(fields), key=lambda item: not _is_document_timestamp(item[1][2]))
    for index, (fq_name, _, sig_field) in ordered:
        try:
            result = _verify_one(EmbeddedPdfSignature(reader, sig_field, fq_name), reader, data, policy, now,
                                 allowed_changes, proofs)
            result.checks_not_done.extend(leniency)
        except Exception as exc:  # noqa: BLE001 - a malformed signature is reported, never raised
            result = _format_failure(f"{said('pades.kind.signature')} {fq_name!r}: {said('pades.unreadable_signature')}", exc)
        results[index] = result
    report.signatures.extend(results[index] for index in sorted(results))
    return report


def _is_document_timestamp(sig_field: generic.IndirectObject) -> bool:
    try:
        field = sig_field.get_object()  # type: ignore[no-untyped-call]  # pyhanko leaves this one unannotated
        return bool(field["/V"]["/Type"] == "/DocTimeStamp")
    except Exception:  # noqa: BLE001 - a malformed field is reported when it is verified
        return False


def _with_embedded_evidence(policy: TrustPolicy, reader: PdfFileReader) -> TrustPolicy:
    """The certificates, CRLs and OCSP responses a PAdES-LT file carries in its DSS, added to the purpose's
    own: validation at the signing time needs no network. They are evidence, not trust: a CRL or an OCSP
    response counts only when its issuer chains to the anchors."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return policy
    crls = tuple(CertificateList.load(ref.get_object().data) for ref in dss.crls)
    ocsps = tuple(ref.get_object().data for ref in dss.ocsps)
    certs = tuple(dss.load_certs())
    if not crls and not certs and not ocsps:
        return policy
    # replace() starts a fresh chain cache: results drawn from one file's evidence serve no other file.
    return dataclasses.replace(policy, crls=policy.crls + crls, intermediates=policy.intermediates + certs,
                               ocsps=policy.ocsps + ocsps)


def _open(data: bytes) -> tuple[PdfFileReader, list[str]]:
    """pyhanko's strict reader first. Some signing tools (poppler among them) write harmless xref
    quirks that only it refuses; those files are read leniently — but never a hybrid-reference
    file, whose two xref sections can show different readers different documents.
    An encrypted file opens only when it needs no password to be read (an empty user password)."""
    notes = []
    try:
        reader = PdfFileReader(BytesIO(data))
    except PdfStrictReadError as exc:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.xrefs.hybrid_xrefs_present:
            raise
        notes.append(said("pades.lenient", error=mask_digits_in(str(exc))[:200]))
    if reader.encrypted and reader.decrypt("").status is AuthStatus.FAILED:
        raise PdfReadError(said("pades.encrypted"))
    return reader, notes


def _verify_one(signature: EmbeddedPdfSignature, reader: PdfFileReader, data: bytes, policy: TrustPolicy,
                now: datetime, allowed_changes: ModificationLevel,
                proofs: list[tuple[int, datetime]]) -> SignatureReport:
    """One signature or document timestamp; a document timestamp that holds is added to ``proofs``
    (its signed revision, its time) for the signatures it covers."""
    is_timestamp = signature.sig_object_type == "/DocTimeStamp"
    # pyhanko also judges the signer's chain, at ``now``; that verdict is superseded below by
    # validate_chain at the signing time. Its context still decides whether a TSA is trusted.
    context, updates = policy.validation_context(now), _ClassifyingDiffPolicy()
    status: PdfSignatureStatus | DocumentTimestampStatus = _run(
        async_validate_pdf_timestamp(signature, validation_context=context, diff_policy=updates) if is_timestamp
        else async_validate_pdf_signature(signature, signer_validation_context=context, diff_policy=updates))
    cert = status.signing_cert
    kind = said("pades.kind.timestamp" if is_timestamp else "pades.kind.signature")
    result = SignatureReport(
        Verdict.PASSED, Reason.OK, f"{kind} {signature.field_name!r}", signer=describe_name(cert.subject),
        issuer=describe_name(cert.issuer), algorithms=_algorithms(status, cert),
        covered=_coverage(signature, reader, status, updates.levels))

    problem = _integrity_problem(status, policy, cert, allowed_changes)
    if problem is None and isinstance(status, PdfSignatureStatus):
        problem = _timestamp_problem(status)
    if isinstance(status, PdfSignatureStatus) and (problem is None or problem[1] is Reason.MODIFIED_AFTER_SIGNING):
        shown = _what_the_page_shows(signature, data, status, reader, allowed_changes, result.checks_not_done)
        if shown is not None:
            problem = shown if problem is None else (problem[0], problem[1], f"{problem[2]}; {shown[2]}")
    if problem is not None:
        result.verdict, result.reason, detail = problem
        result.detail += f": {detail}"
        return result

    if isinstance(status, DocumentTimestampStatus):  # its own time is proven; its TSA's certificate must hold now, nothing vouches for it later
        signing_time, source, chain_at = status.timestamp, "timestamp", now
    else:
        signing_time, source = _signing_time(status, policy, now, result.checks_not_done,
                                             _document_proof(signature, proofs))
        chain_at = signing_time
    result.signing_time = signing_time.astimezone(ZONE).isoformat()
    result.signing_time_source = source

    if cert.self_signed != "no" and not _configured(policy, cert):
        # Untrusted, not proven wrong: ETSI's NO_CERTIFICATE_CHAIN_FOUND is an indeterminate.
        result.verdict, result.reason = Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND
        result.detail += ": " + said("pades.self_signed")
        return result
    chain = validate_chain(policy, cert, signature.other_embedded_certs, at=chain_at,
                           time_proven=source in ("timestamp", "document timestamp"))
    result.verdict, result.reason = chain.verdict, chain.reason
    result.sub_indication, result.notes = chain.sub_indication, list(chain.notes)
    if is_timestamp and chain.verdict is Verdict.PASSED:
        proofs.append((signature.signed_revision, signing_time))
    if chain.detail:
        result.detail += f": {_without_names(chain.detail)}"
    result.checks_not_done.extend(chain.checks_not_done)
    return result


def _document_proof(signature: EmbeddedPdfSignature, proofs: list[tuple[int, datetime]]) -> datetime | None:
    """The earliest document timestamp (that held) over a later revision: the signature existed then."""
    times = [when for revision, when in proofs if revision > signature.signed_revision]
    return min(times) if times else None


def _signing_time(status: PdfSignatureStatus, policy: TrustPolicy, now: datetime, not_done: list[str],
                  document_proof: datetime | None = None) -> tuple[datetime, str]:
    """The signature timestamp when valid and trusted, else a document timestamp over a later revision
    (PAdES B-LTA), else the claimed time within tolerance, else now."""
    timestamp = status.timestamp_validity
    if (timestamp is None or not timestamp.trusted) and document_proof is not None:
        return document_proof, "document timestamp"
    at, source = policy.signing_time(timestamp=timestamp.timestamp if timestamp and timestamp.trusted else None,
                                     claimed=status.signer_reported_dt, now=now)
    if timestamp is not None and not timestamp.trusted:
        not_done.append(said("pades.tsa_untrusted", tsa=describe_name(timestamp.signing_cert.subject)))
    elif timestamp is None and source == "now":
        not_done.append(said("pades.no_signing_time"))
    return at, source


def _configured(policy: TrustPolicy, cert: asn1_x509.Certificate) -> bool:
    return any(cert.sha256 == known.sha256 for known in (*policy.anchors, *policy.pinned))


def _without_names(message: str) -> str:
    """certvalidator quotes full subjects (names, e-mails, IDs); the report names signer and issuer masked."""
    return mask_digits_in(re.sub(r'"[^"]*"', '"…"', message))


def _integrity_problem(status: PdfSignatureStatus | DocumentTimestampStatus, policy: TrustPolicy,
                       cert: asn1_x509.Certificate,
                       allowed_changes: ModificationLevel) -> tuple[Verdict, Reason, str] | None:
    """Digest, byte-range coverage, algorithms, CMS signature, updates after signing — in that order."""
    if not status.intact:
        return Verdict.FAILED, Reason.HASH_FAILURE, said("pades.digest")
    if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return Verdict.FAILED, Reason.FORMAT_FAILURE, said("pades.coverage")
    if (weak := _weak_algorithm(status, policy, cert)) is not None:
        return Verdict.INDETERMINATE, Reason.CRYPTO_CONSTRAINTS_FAILURE, weak
    if not status.valid:
        return Verdict.FAILED, Reason.SIG_CRYPTO_FAILURE, said("pades.cms")
    if (changed := _modification_problem(status, allowed_changes)) is not None:
        return Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING, changed
    return None


def _modification_problem(status: ModificationInfo, allowed: ModificationLevel) -> str | None:
    level = status.modification_level
    if isinstance(status.diff_result, SuspiciousModification):
        return said("pades.modified", what=str(status.diff_result)[:300])
    if level is None or level > allowed:
        return said("pades.modified", what="unknown" if level is None else _CHANGES.get(level, "unknown"))
    if status.docmdp_ok is False:
        return said("pades.docmdp", what=_CHANGES[level])
    return None


def _what_the_page_shows(signature: EmbeddedPdfSignature, data: bytes, status: PdfSignatureStatus,
                         reader: PdfFileReader, allowed: ModificationLevel,
                         not_done: list[str]) -> tuple[Verdict, Reason, str] | None:
    """The signed revision and the final document as poppler renders and reads them. A change of the
    page content is a change of the document (FAILED); a change that only form fields make, where the
    policy allows form filling, is INDETERMINATE with the fields named; new signature appearances are
    what signing again looks like."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return None
    ranges = list(signature.byte_range)
    try:
        diff = pdf_visual.compare(data[:ranges[2] + ranges[3]], data)
    except pdf_visual.NotCompared as exc:
        not_done.append(said("pades.not_compared", error=exc))
        return None
    if not diff.changed:
        return None
    changed = said("pades.visible_change", what=diff.describe())
    # poppler's text includes what field appearances show: only without any change in the pixels
    # does a text change say something on its own (hidden text swapped under an unchanged picture)
    if diff.content_pages or (diff.text_changes and not diff.shown_pages):
        return Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING, changed
    fields = _changed_fields(status, reader)
    if not fields:
        return None
    named = f"{changed}; {said('pades.form_fields', fields=', '.join(sorted(fields)))}"
    if allowed >= ModificationLevel.FORM_FILLING:
        return Verdict.INDETERMINATE, Reason.MODIFIED_AFTER_SIGNING, named
    return Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING, named


def _changed_fields(status: PdfSignatureStatus, reader: PdfFileReader) -> set[str]:
    """Form fields filled or changed after signing, signature fields left out."""
    result = status.diff_result
    if not isinstance(result, DiffResult):
        return set()
    signatures = {name for name, _, _ in enumerate_sig_fields(reader)}
    return set(result.changed_form_fields) - signatures


def _timestamp_problem(status: PdfSignatureStatus) -> tuple[Verdict, Reason, str] | None:
    timestamp = status.timestamp_validity
    if timestamp is None or (timestamp.intact and timestamp.valid):
        return None
    reason = Reason.HASH_FAILURE if not timestamp.intact else Reason.SIG_CRYPTO_FAILURE
    return Verdict.FAILED, reason, said("pades.timestamp_broken")


def _weak_algorithm(status: PdfSignatureStatus | DocumentTimestampStatus, policy: TrustPolicy,
                    cert: asn1_x509.Certificate) -> str | None:
    algorithms = policy.algorithms
    if not algorithms.digest_ok(status.md_algorithm):
        return said("pades.weak_digest", algorithm=status.md_algorithm)
    key = cert.public_key
    if key.algorithm == "rsa" and key.bit_size < algorithms.min_rsa_bits:
        return said("pades.short_rsa", bits=key.bit_size, minimum=algorithms.min_rsa_bits)
    if key.algorithm == "ec" and key.curve[1] not in algorithms.curves:
        return said("pades.curve", curve=key.curve[1])
    if key.algorithm not in ("rsa", "ec"):
        return said("pades.key_algorithm", algorithm=key.algorithm)
    return None


def _algorithms(status: PdfSignatureStatus | DocumentTimestampStatus, cert: asn1_x509.Certificate) -> dict[str, str]:
    key = cert.public_key
    match key.algorithm:
        case "rsa":
            described = f"rsa-{key.bit_size}"
        case "ec":
            described = f"ec-{key.curve[1]}"
        case other:
            described = other
    return {"digest": status.md_algorithm, "signature": status.pkcs7_signature_mechanism, "key": described}


def _coverage(signature: EmbeddedPdfSignature, reader: PdfFileReader, status: ModificationInfo,
              updates: dict[int, ModificationLevel]) -> str:
    """``bytes 0–1233, 5678–9999 of 10000; revision 2 of 3; revision 3: …`` — what the signature vouches
    for, and what each later update did (revisions counted from 1)."""
    ranges = list(signature.byte_range)
    spans = ", ".join(f"{start}–{start + length - 1}" for start, length in zip(ranges[::2], ranges[1::2]))
    text = (f"bytes {spans} of {len(reader.stream.getbuffer())}; "
            f"revision {signature.signed_revision + 1} of {reader.xrefs.total_revisions}")
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return text + " (whole file)"
    return text + "".join(f"; revision {number + 1}: {_CHANGES[level]}" for number, level in sorted(updates.items()))


def _format_failure(what: str, exc: Exception) -> SignatureReport:
    return SignatureReport(Verdict.FAILED, Reason.FORMAT_FAILURE, f"{what}: {mask_digits_in(str(exc))[:300]}")
