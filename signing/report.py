"""Verification reports, shared by every signature format (XML-DSig, JWS, PAdES).

Verdicts and reason codes follow ETSI EN 319 102-1 in spirit: a signature *passed*
only when integrity, cryptography, chain, validity time, key usage and revocation
all held; *failed* when something is proven wrong; *indeterminate* when a check
could not be completed (no chain to an anchor, revocation unknown, …).
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

    def to_dict(self) -> dict[str, Any]:
        return {key: (value.value if isinstance(value, StrEnum) else value)
                for key, value in self.__dict__.items() if value not in (None, [], {}, "")}


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
        return {"verdict": self.verdict.value, "format": self.format,
                "signatures": [signature.to_dict() for signature in self.signatures]}


class Rejected(Exception):
    """A signature refused before or during verification, with its report fields."""

    def __init__(self, verdict: Verdict, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.verdict, self.reason, self.detail = verdict, reason, detail


def fail(reason: Reason, detail: str) -> Rejected:
    return Rejected(Verdict.FAILED, reason, detail)
