"""The bank's receipt (GET_BILL) verified under the ``bank`` purpose's trust: PAdES for a PDF,
XML-DSig for XML. Only a PASSED verdict lets the receipt through; anything else is its reason."""

from dataclasses import dataclass
from typing import Any

from gateway.kit import TrustPolicy, Verdict, verify_pdf, verify_xml


@dataclass(frozen=True)
class Checked:
    passed: bool
    format: str
    report: dict[str, Any]  # the verifier's report (kept with the dossier)
    reason: str  # "" when passed; else the first failing reason code (HASH_FAILURE, NO_CERTIFICATE_CHAIN_FOUND …)
    later: bool = False  # indeterminate for now (TRY_LATER, REVOCATION_UNKNOWN): verify again, do not reject


# Indeterminate for now, not for good (as the intake reads them: gateway.verify.verifier.TRANSIENT).
FOR_NOW = frozenset({"TRY_LATER", "REVOCATION_UNKNOWN"})


def verify_receipt(document: bytes, policy: TrustPolicy, max_bytes: int) -> Checked:
    if document.lstrip()[:5] == b"%PDF-":
        report = verify_pdf(document, policy)
        fmt = "pades"
    else:
        report, _covered = verify_xml(document, policy, max_bytes=max_bytes)
        fmt = "xmldsig"
    described = report.to_dict()
    if report.verdict is Verdict.PASSED:
        return Checked(True, fmt, described, "")
    reasons = [str(s.get("reason", "")) for s in described.get("signatures", []) if s.get("verdict") != "passed"]
    later = report.verdict is Verdict.INDETERMINATE and bool(reasons) and all(r in FOR_NOW for r in reasons)
    return Checked(False, fmt, described, reasons[0] if reasons else str(report.verdict.value), later)
