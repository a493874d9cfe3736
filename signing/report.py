"""Verification reports, shared by every signature format (XML-DSig, JWS, PAdES).

Verdicts follow ETSI EN 319 102-1: a signature *passed* (TOTAL-PASSED) only when
integrity, cryptography, chain, validity time, key usage and revocation all held;
*failed* (TOTAL-FAILED) only where the standard says so — the signed data or the
signature value is wrong, the format is broken, or a proof of existence (a trusted
timestamp) puts the signature after its certificate expired or was revoked;
*indeterminate* otherwise (no chain, constraints not met, no proof of the signing time,
revocation unknown, …). Each report carries today's reason code (``reason``) and the
standard's indication and sub-indication beside it.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


class Reason(StrEnum):
    OK = "OK"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    FORMAT_FAILURE = "FORMAT_FAILURE"
    MODIFIED_AFTER_SIGNING = "MODIFIED_AFTER_SIGNING"
    KEY_USAGE_FAILURE = "KEY_USAGE_FAILURE"
    POLICY_FAILURE = "POLICY_FAILURE"
    REVOCATION_UNKNOWN = "REVOCATION_UNKNOWN"
    NO_SIGNATURE = "NO_SIGNATURE"
    TRY_LATER = "TRY_LATER"


class Indication(StrEnum):
    TOTAL_PASSED = "TOTAL-PASSED"
    TOTAL_FAILED = "TOTAL-FAILED"
    INDETERMINATE = "INDETERMINATE"


INDICATIONS = {Verdict.PASSED: Indication.TOTAL_PASSED, Verdict.FAILED: Indication.TOTAL_FAILED,
               Verdict.INDETERMINATE: Indication.INDETERMINATE}

#: Reasons that are indeterminate whatever the signing time: constraints of the validation
#: policy not met (ETSI's *_CONSTRAINTS_FAILURE, CERTIFICATE_CHAIN_GENERAL_FAILURE), never proof of forgery.
_ALWAYS_INDETERMINATE = frozenset({Reason.CRYPTO_CONSTRAINTS_FAILURE, Reason.KEY_USAGE_FAILURE, Reason.POLICY_FAILURE,
                                   Reason.NO_CERTIFICATE_CHAIN_FOUND, Reason.REVOCATION_UNKNOWN, Reason.TRY_LATER,
                                   Reason.NO_SIGNATURE})

#: The EN 319 102-1 sub-indication of each (verdict, reason); an entry keyed by reason alone serves both verdicts.
_SUB_INDICATIONS: dict[tuple[Verdict, Reason] | Reason, str] = {
    Reason.HASH_FAILURE: "HASH_FAILURE",
    Reason.SIG_CRYPTO_FAILURE: "SIG_CRYPTO_FAILURE",
    Reason.FORMAT_FAILURE: "FORMAT_FAILURE",
    Reason.NOT_YET_VALID: "NOT_YET_VALID",
    (Verdict.FAILED, Reason.REVOKED): "REVOKED",
    (Verdict.INDETERMINATE, Reason.REVOKED): "REVOKED_NO_POE",
    (Verdict.FAILED, Reason.EXPIRED): "EXPIRED",
    (Verdict.INDETERMINATE, Reason.EXPIRED): "OUT_OF_BOUNDS_NO_POE",
    # content changed after signing: the signed revision is intact but is not what the file shows
    (Verdict.FAILED, Reason.MODIFIED_AFTER_SIGNING): "FORMAT_FAILURE",
    (Verdict.INDETERMINATE, Reason.MODIFIED_AFTER_SIGNING): "SIG_CONSTRAINTS_FAILURE",
    (Verdict.FAILED, Reason.NO_CERTIFICATE_CHAIN_FOUND): "CERTIFICATE_CHAIN_GENERAL_FAILURE",
    (Verdict.INDETERMINATE, Reason.NO_CERTIFICATE_CHAIN_FOUND): "NO_CERTIFICATE_CHAIN_FOUND",
    Reason.CRYPTO_CONSTRAINTS_FAILURE: "CRYPTO_CONSTRAINTS_FAILURE",
    Reason.KEY_USAGE_FAILURE: "CHAIN_CONSTRAINTS_FAILURE",
    Reason.POLICY_FAILURE: "SIG_CONSTRAINTS_FAILURE",
    Reason.REVOCATION_UNKNOWN: "TRY_LATER",
    Reason.TRY_LATER: "TRY_LATER",
    Reason.NO_SIGNATURE: "SIGNED_DATA_NOT_FOUND",
}


def verdict_for(reason: Reason, *, time_proven: bool = True) -> Verdict:
    """The verdict a reason earns. An expired or revoked certificate fails a signature only when a
    proof of existence (``time_proven``: a trusted timestamp) dates the signature after the event;
    without one it is INDETERMINATE (OUT_OF_BOUNDS_NO_POE, REVOKED_NO_POE)."""
    if reason is Reason.OK:
        return Verdict.PASSED
    if reason in _ALWAYS_INDETERMINATE or (reason in (Reason.EXPIRED, Reason.REVOKED) and not time_proven):
        return Verdict.INDETERMINATE
    return Verdict.FAILED


def sub_indication(verdict: Verdict, reason: Reason) -> str | None:
    if verdict is Verdict.PASSED:
        return None
    return _SUB_INDICATIONS.get((verdict, reason)) or _SUB_INDICATIONS.get(reason)


@dataclass
class SignatureReport:
    """One signature's outcome. ``signer``/``issuer`` are subjects with identifiers masked."""

    verdict: Verdict
    reason: Reason
    detail: str = ""
    signer: str | None = None
    issuer: str | None = None
    algorithms: dict[str, str] = field(default_factory=dict)  # e.g. {"signature": "rsa-sha256", "digest": "sha256"}
    signing_time: str | None = None  # ISO 8601, Asia/Ho_Chi_Minh
    signing_time_source: str | None = None  # "timestamp" | "claimed" | "now"
    covered: str | None = None  # what the signature covers: "whole packet", "NoiDung#id", "bytes 0-1234, 5678-9999"…
    checks_not_done: list[str] = field(default_factory=list)  # e.g. ["revocation: no CRL or OCSP for issuer …"]
    sub_indication: str | None = None  # set where the reason alone does not say (OUT_OF_BOUNDS_NOT_REVOKED)
    notes: list[str] = field(default_factory=list)  # facts that did not change the verdict (revoked after the POE)

    @property
    def indication(self) -> Indication:
        return INDICATIONS[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        values = {key: (value.value if isinstance(value, StrEnum) else value)
                  for key, value in self.__dict__.items() if value not in (None, [], {}, "")}
        values["indication"] = self.indication.value
        if (sub := self.sub_indication or sub_indication(self.verdict, self.reason)) is not None:
            values["sub_indication"] = sub
        return values


@dataclass
class VerificationReport:
    """All signatures of one document; passed only when there is at least one and every one passed."""

    format: str  # "xmldsig" | "jws" | "pades"
    signatures: list[SignatureReport] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if not self.signatures:
            return Verdict.INDETERMINATE
        verdicts = {signature.verdict for signature in self.signatures}
        if Verdict.FAILED in verdicts:
            return Verdict.FAILED
        if Verdict.INDETERMINATE in verdicts:
            return Verdict.INDETERMINATE
        return Verdict.PASSED

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "indication": INDICATIONS[self.verdict].value, "format": self.format,
                "signatures": [signature.to_dict() for signature in self.signatures]}


class Rejected(Exception):
    """A signature refused before or during verification, with its report fields."""

    def __init__(self, verdict: Verdict, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.verdict, self.reason, self.detail = verdict, reason, detail


def fail(reason: Reason, detail: str) -> Rejected:
    """A refusal with the verdict the reason earns (a weak algorithm is INDETERMINATE, a bad digest FAILED)."""
    return Rejected(verdict_for(reason), reason, detail)
