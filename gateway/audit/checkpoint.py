"""Signed checkpoints of the audit chain: "entry n has hash h", signed by the gateway's own key (the
``[signing]`` key that signs receipts) as a compact JWS over canonical JSON, with its certificate chain
in ``x5c``. Someone who can rewrite the database can rebuild a hash chain, but not sign for it: a
checkpoint pins every entry up to ``n``.

Without a signing key a checkpoint is still written, unsigned: it pins the chain against edits that do
not rewrite the checkpoint table too, and ``verify`` says it proves nothing about who wrote it.

``timestamp_token``: an RFC 3161 TimeStampToken (base64 DER) over SHA-256 of the JWS's ASCII bytes, from
``[signing] tsa_url``: it proves the checkpoint existed at the TSA's time, which the gateway's own clock
cannot. A TSA that fails costs the token (logged), never the checkpoint. The verifier checks it against
a trust for TSAs when given one, and otherwise reports it present and not checked.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from gateway.messages import line
from signing.jws import b64url, sign_jws
from signing.signer import Signer
from signing.timestamps import TimestampError, request_timestamp, verify_timestamp
from signing.trust import TrustPolicy

log = logging.getLogger(__name__)
KIND = "cong-ket-noi/audit-checkpoint/1"
_HASH = {"RS256": hashes.SHA256, "ES256": hashes.SHA256, "ES384": hashes.SHA384}
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")  # how a proven time is shown


@dataclass(frozen=True)
class Checkpoint:
    n: int  # the last entry covered
    hash: str  # that entry's chain hash
    at: str  # when it was made (UTC, as entries' times)
    jws: str | None = None  # None: unsigned (no key configured)
    timestamp_token: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "n": self.n, "hash": self.hash, "at": self.at, "jws": self.jws,
                "timestamp_token": self.timestamp_token}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(int(data["n"]), str(data["hash"]), str(data["at"]), data.get("jws"), data.get("timestamp_token"))


def make_checkpoint(n: int, hash_: str, at: str, signer: Signer | None, tsa_url: str | None = None,
                    tsa_timeout: float = 10.0) -> Checkpoint:
    """Signed when ``signer``; its JWS timestamped by the TSA at ``tsa_url`` when given and it answers."""
    if signer is None:
        return Checkpoint(n, hash_, at)
    jws = sign_jws({"kind": KIND, "n": n, "hash": hash_, "at": at}, signer)
    token = None
    if tsa_url:
        try:
            token = base64.b64encode(request_timestamp(jws.encode("ascii"), tsa_url, timeout=tsa_timeout)).decode()
        except TimestampError as exc:
            log.warning("audit checkpoint %d not timestamped: %s", n, exc)
    return Checkpoint(n, hash_, at, jws, token)


@dataclass(frozen=True)
class CheckpointVerdict:
    checkpoint: Checkpoint
    signed: bool
    signer: str | None = None  # the signing certificate's subject
    trusted: bool | None = None  # None: no trusted certificate given to compare with
    problem: str | None = None  # the checkpoint cannot be relied on: why
    timestamp: str = "absent"  # absent | passed | not checked | failed: why
    proven_at: datetime | None = None  # the time a passed timestamp proves (Asia/Ho_Chi_Minh)

    @property
    def ok(self) -> bool:
        return self.problem is None and self.trusted is not False and not self.timestamp.startswith("failed")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature_holds(alg: str, certificate: x509.Certificate, data: bytes, signature: bytes) -> bool:
    key, algorithm = certificate.public_key(), _HASH[alg]()
    try:
        if isinstance(key, rsa.RSAPublicKey) and alg == "RS256":
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and alg in ("ES256", "ES384"):
            size = (key.curve.key_size + 7) // 8
            key.verify(encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                            int.from_bytes(signature[size:], "big")), data, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _trusted(certificate: x509.Certificate, trusted: list[x509.Certificate]) -> bool:
    """The signer is one of ``trusted``, or directly issued by one of them."""
    for anchor in trusted:
        if certificate == anchor:
            return True
        try:
            certificate.verify_directly_issued_by(anchor)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


@dataclass(frozen=True)
class OpenedJws:
    """A compact JWS whose signature was checked: what it says and who signed it."""

    claims: Any
    signer: str | None = None
    trusted: bool | None = None  # None: no trusted certificate given to compare with
    problem: str | None = None


def open_jws(jws: str, trusted: list[x509.Certificate] | None = None) -> OpenedJws:
    """Checks a compact JWS's signature with its own ``x5c`` certificate, and that certificate against
    ``trusted`` (itself, or its direct issuer) when given."""
    try:
        protected, payload, signature = jws.split(".")
        header = json.loads(_unb64(protected))
        claims = json.loads(_unb64(payload))
        certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        alg = str(header["alg"])
        holds = alg in _HASH and _signature_holds(alg, certificate, f"{protected}.{payload}".encode("ascii"),
                                                  _unb64(signature))
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as exc:
        return OpenedJws(None, problem=f"{line('audit.signature_unreadable')} ({exc})")
    signer = certificate.subject.rfc4514_string()
    if not holds:
        return OpenedJws(claims, signer, problem=line("audit.signature_fails"))
    return OpenedJws(claims, signer, _trusted(certificate, trusted) if trusted else None)


def verify_checkpoint(checkpoint: Checkpoint, trusted: list[x509.Certificate] | None = None,
                      tsa_trust: TrustPolicy | None = None) -> CheckpointVerdict:
    """Whether the checkpoint's signature holds over exactly its n, hash and time, and by whom; and, with
    ``tsa_trust``, the time its timestamp token proves for exactly its JWS."""
    if checkpoint.jws is None:
        return CheckpointVerdict(checkpoint, False, trusted=False if trusted else None)
    opened = open_jws(checkpoint.jws, trusted)
    if opened.problem is not None:
        return CheckpointVerdict(checkpoint, True, opened.signer, problem=opened.problem)
    if opened.claims != {"kind": KIND, "n": checkpoint.n, "hash": checkpoint.hash, "at": checkpoint.at}:
        return CheckpointVerdict(checkpoint, True, opened.signer,
                                 problem=line("audit.not_as_signed"))
    timestamp, proven_at = "absent", None
    if checkpoint.timestamp_token:
        if tsa_trust is None:
            timestamp = "not checked"
        else:
            try:
                token = base64.b64decode(checkpoint.timestamp_token, validate=True)
                proven_at = verify_timestamp(token, checkpoint.jws.encode("ascii"), tsa_trust).astimezone(LOCAL)
                timestamp = "passed"
            except (TimestampError, ValueError, binascii.Error) as exc:
                timestamp = f"failed: {exc}"
    return CheckpointVerdict(checkpoint, True, opened.signer, opened.trusted, timestamp=timestamp,
                             proven_at=proven_at)


def fingerprint(certificate: x509.Certificate) -> str:
    return b64url(certificate.fingerprint(hashes.SHA256()))
