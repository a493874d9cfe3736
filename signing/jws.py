"""JWS (RFC 7515) for JSON packets: the payload is the packet's canonical JSON (RFC 8785, JCS).

Compact and JSON serialisations (flattened or general); ``alg`` RS256/384/512, PS256/384/512,
ES256/ES384; the signer's certificate chain in the protected ``x5c``. The payload must be
exactly the canonical form of the packet it carries, so one packet has one signed form and
what ``verify_jws`` returns (parsed from the signed bytes) is what was signed. Keys named by
URL (``jku``, ``x5u``) or embedded bare (``jwk``) are refused: only certificates chain to trust.
Signature checks are done with ``cryptography``; the chain with ``signing.trust``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime
from collections.abc import Callable
from typing import Any

import rfc8785
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from signing import safe_input, safe_json
from signing.messages import bilingual
from signing.report import Reason, Rejected, SignatureReport, VerificationReport, Verdict, fail
from signing.timestamps import first_proof, request_timestamp
from signing.signer import Signer
from signing.trust import (MAX_CERTIFICATES, ZONE, TrustPolicy, certificate_from_der, describe_name,
                           parse_packet_time, time_note, validate_chain)

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384,
                                                          "512": hashes.SHA512}
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_CURVE_OF = {"ES256": "secp256r1", "ES384": "secp384r1"}
_SIGNER_ALG = {"rsa-sha256": "RS256", "ecdsa-sha256": "ES256", "ecdsa-sha384": "ES384"}
# Header parameters this verifier understands; anything else in "crit" is refused (RFC 7515 §4.1.11).
_KNOWN = {"alg", "x5c", "typ", "cty", "kid", "x5t#S256"}
_EXTERNAL_KEYS = ("jku", "x5u", "jwk")
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")



def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str, what: str) -> bytes:
    if not isinstance(text, str) or not _B64URL.match(text):
        raise fail(Reason.FORMAT_FAILURE, f"{what} is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise fail(Reason.FORMAT_FAILURE, f"{what} is not base64url") from None


def canonical(packet: dict[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of a packet: the bytes a JWS over it signs."""
    return rfc8785.dumps(packet)


# --- signing -----------------------------------------------------------------------------------

def sign_jws(packet: dict[str, Any] | bytes | str, signer: Signer, *, serialization_form: str = "compact") -> str:
    """Signs the packet (a dict, or JSON text/bytes) and returns a compact JWS or a flattened JSON JWS."""
    if not isinstance(packet, dict):
        packet = safe_json.parse_json(packet.decode("utf-8") if isinstance(packet, bytes) else packet)
    if signer.algorithm not in _SIGNER_ALG:
        raise ValueError(f"a {signer.algorithm} key cannot make a JWS this gateway accepts ({', '.join(ALGORITHMS)})")
    header = {"alg": _SIGNER_ALG[signer.algorithm],
              "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
                      for cert in (signer.certificate, *signer.chain)]}
    protected = b64url(canonical(header))
    payload = b64url(canonical(packet))
    signature = b64url(signer.sign(f"{protected}.{payload}".encode("ascii")))
    if serialization_form == "compact":
        return f"{protected}.{payload}.{signature}"
    if serialization_form == "json":
        return json.dumps({"payload": payload, "protected": protected, "signature": signature})
    raise ValueError(f"unknown JWS serialisation {serialization_form!r}")


def timestamp_jws(jws: str, tsa_url: str, *, timeout: float = 10.0) -> str:
    """The JWS as flattened JSON with a JAdES-style signature timestamp in its unprotected header
    (``etsiU: [{"sigTst": {"tstTokens": [{"val": base64 token}]}}]``), the RFC 3161 token over the
    base64url JWS Signature Value. The protected header, payload and signature are unchanged."""
    payload, entries = _signatures(jws)
    if len(entries) != 1:
        raise ValueError("only a JWS with one signature is timestamped")
    entry = entries[0]
    token = request_timestamp(str(entry["signature"]).encode("ascii"), tsa_url, timeout=timeout)
    stamp = {"sigTst": {"tstTokens": [{"val": base64.b64encode(token).decode("ascii")}]}}
    header = {**(entry.get("header") or {}), "etsiU": [stamp]}
    return json.dumps({"payload": payload, "protected": entry["protected"], "header": header,
                       "signature": entry["signature"]})


def _stamps(entry: dict[str, Any]) -> list[str]:
    """The base64 tokens of the JAdES-style ``sigTst`` in a signature's unprotected header."""
    header = entry.get("header")
    unsigned = header.get("etsiU") if isinstance(header, dict) else None
    if not isinstance(unsigned, list):
        return []
    return [str(token.get("val", "")) for item in unsigned if isinstance(item, dict)
            for token in ((item.get("sigTst") or {}).get("tstTokens") or []) if isinstance(token, dict)]


def timestamp_tokens(jws: str) -> list[tuple[str, bytes]]:
    """Each signature timestamp token of a JWS (base64), with what it must cover: the ASCII of its signature's
    base64url value. Raises ``Rejected`` for a JWS that cannot be read."""
    _, entries = _signatures(jws)
    return [(token, str(entry.get("signature", "")).encode("ascii")) for entry in entries for token in _stamps(entry)]


def _signature_timestamp(entry: dict[str, Any], policy: TrustPolicy, not_done: list[str]) -> datetime | None:
    """The time a JAdES-style ``sigTst`` in the unprotected header proves for this signature, if it holds."""
    tokens = _stamps(entry)
    if not tokens:
        return None
    return first_proof(tokens, str(entry.get("signature", "")).encode("ascii"), policy,
                       not_done, "JAdES signature timestamp")


# --- verification ------------------------------------------------------------------------------

def _signatures(text: str) -> tuple[str, list[dict[str, Any]]]:
    """(payload, [{protected, header, signature}]) from any of the three serialisations."""
    stripped = text.strip()
    if stripped.startswith("{"):
        document = safe_json.parse_json(stripped)
        if "payload" not in document:
            if "signature" in document or "signatures" in document:
                raise fail(Reason.FORMAT_FAILURE, "a JSON JWS needs a \"payload\"")
            raise fail(Reason.NO_SIGNATURE, "a JSON document without a JWS (no payload and signature)")
        if "signatures" in document:
            entries = document["signatures"]
            if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
                raise fail(Reason.FORMAT_FAILURE, "\"signatures\" must be a non-empty list of objects")
            return document["payload"], entries
        return document["payload"], [{k: document[k] for k in ("protected", "header", "signature") if k in document}]
    parts = stripped.split(".")
    if len(parts) != 3:
        raise fail(Reason.FORMAT_FAILURE, f"a compact JWS has 3 parts, found {len(parts)}")
    return parts[1], [{"protected": parts[0], "signature": parts[2]}]


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        return safe_json.parse_json(safe_input.decode_utf8(data))
    except safe_input.Unreadable as exc:
        raise fail(Reason.FORMAT_FAILURE, f"{what}: {exc.message_en}") from None


def _header(entry: dict[str, Any], policy: TrustPolicy) -> tuple[str, dict[str, Any]]:
    protected_b64 = entry.get("protected")
    if not protected_b64:
        raise fail(Reason.FORMAT_FAILURE, "no protected header: alg and x5c must be signed")
    header = _json_object(_unb64url(protected_b64, "protected header"), "protected header")
    unprotected = entry.get("header") or {}
    if not isinstance(unprotected, dict):
        raise fail(Reason.FORMAT_FAILURE, "the unprotected header must be an object")
    if set(unprotected) & ({"alg", "x5c", "crit", "b64"} | set(_EXTERNAL_KEYS)):
        raise fail(Reason.POLICY_FAILURE, "alg, x5c, crit, b64 and key references may only be in the protected header")
    if set(header) & set(_EXTERNAL_KEYS):
        raise fail(Reason.POLICY_FAILURE, "keys by URL (jku, x5u) or bare (jwk) are refused: x5c certificates only")
    if "crit" in header:
        unknown = [name for name in header["crit"] if name not in _KNOWN] if isinstance(header["crit"], list) else ["?"]
        raise fail(Reason.FORMAT_FAILURE, f"critical header parameters not understood: {unknown}")
    if "b64" in header:
        raise fail(Reason.FORMAT_FAILURE, "unencoded payloads (b64) are refused")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE,
                    f"alg {alg!r} is not accepted (accepted: {', '.join(ALGORITHMS)})")
    if not policy.algorithms.digest_ok(f"sha{alg[2:]}"):
        raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE, f"alg {alg}: sha{alg[2:]} is not allowed by the policy")
    return protected_b64, header


def _certificates(header: dict[str, Any]) -> list[asn1_x509.Certificate]:
    chain = header.get("x5c")
    if not isinstance(chain, list) or not chain:
        raise fail(Reason.FORMAT_FAILURE, "no x5c certificate chain in the protected header")
    if len(chain) > MAX_CERTIFICATES:
        raise fail(Reason.FORMAT_FAILURE, f"{len(chain)} certificates in x5c (at most {MAX_CERTIFICATES})")
    try:
        certificates = [certificate_from_der(base64.b64decode(item, validate=True)) for item in chain]
    except (ValueError, TypeError, binascii.Error) as exc:
        raise fail(Reason.FORMAT_FAILURE, f"an x5c certificate cannot be read: {exc}") from None
    thumbprint = header.get("x5t#S256")
    if thumbprint is not None and thumbprint != b64url(certificates[0].sha256):
        raise fail(Reason.FORMAT_FAILURE, "x5t#S256 is not the thumbprint of the first x5c certificate")
    return certificates


def _verify_signature(alg: str, cert: asn1_x509.Certificate, signing_input: bytes, signature: bytes,
                      policy: TrustPolicy) -> None:
    key = x509.load_der_x509_certificate(cert.dump()).public_key()
    hash_algorithm = _HASHES[alg[2:]]()
    try:
        if alg.startswith(("RS", "PS")):
            if not isinstance(key, rsa.RSAPublicKey):
                raise fail(Reason.SIG_CRYPTO_FAILURE, f"{alg} needs an RSA certificate")
            if key.key_size < policy.algorithms.min_rsa_bits:
                raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE,
                            f"RSA key of {key.key_size} bits (at least {policy.algorithms.min_rsa_bits} required)")
            pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(
                mgf=padding.MGF1(hash_algorithm), salt_length=hash_algorithm.digest_size)
            key.verify(signature, signing_input, pad, hash_algorithm)
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVE_OF[alg]:
                raise fail(Reason.SIG_CRYPTO_FAILURE, f"{alg} needs a {_CURVE_OF[alg]} certificate")
            if key.curve.name not in policy.algorithms.curves:
                raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE, f"curve {key.curve.name} is not allowed")
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                raise fail(Reason.SIG_CRYPTO_FAILURE, f"an {alg} signature is {2 * size} bytes")
            der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hash_algorithm))
    except InvalidSignature:
        raise fail(Reason.SIG_CRYPTO_FAILURE, "the signature does not verify with the x5c certificate's key") from None


def _claimed_time(packet: dict[str, Any]) -> datetime | None:
    value = packet.get("ThoiGianGui")
    return parse_packet_time(value) if isinstance(value, str) else None


def verify_jws(data: bytes | str, policy: TrustPolicy, *, at: datetime | None = None, now: datetime | None = None,
               max_bytes: int = 4_194_304) -> tuple[VerificationReport, dict[str, Any] | None]:
    """Verifies a JWS over a JSON packet. Returns the report and the packet parsed from the signed
    payload whenever every signature's integrity held (check ``report.verdict`` for the chain)."""
    report = VerificationReport("jws")
    try:
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        safe_input.check_size(raw, max_bytes)
        payload_b64, entries = _signatures(safe_input.decode_utf8(raw))
        payload = _unb64url(payload_b64, "payload")
        packet = _json_object(payload, "payload")
        if canonical(packet) != payload:
            raise fail(Reason.FORMAT_FAILURE, "the payload is not the RFC 8785 canonical JSON of the packet")
        if len(entries) > policy.max_signatures:
            raise fail(Reason.POLICY_FAILURE, f"{len(entries)} signatures; at most {policy.max_signatures} accepted")
    except safe_input.Unreadable as exc:
        report.signatures.append(SignatureReport(Verdict.FAILED, Reason.FORMAT_FAILURE,
                                                 f"{exc.message_vi} — {exc.message_en}"))
        return report, None
    except Rejected as rejected:
        report.signatures.append(SignatureReport(rejected.verdict, rejected.reason,
                                                 bilingual(rejected.reason, rejected.detail)))
        return report, None

    intact = True
    for entry in entries:
        signature_report = SignatureReport(Verdict.FAILED, Reason.FORMAT_FAILURE,
                                           covered="whole packet (JWS payload, RFC 8785 canonical JSON)")
        report.signatures.append(signature_report)
        try:
            protected_b64, header = _header(entry, policy)
            alg = header["alg"]
            signature_report.algorithms = {"signature": alg, "digest": f"sha{alg[2:]}", "payload": "RFC 8785"}
            certificates = _certificates(header)
            signer = certificates[0]
            signature_report.signer = describe_name(signer.subject)
            signature_report.issuer = describe_name(signer.issuer)
            signature = _unb64url(entry.get("signature", ""), "signature")
            _verify_signature(alg, signer, f"{protected_b64}.{payload_b64}".encode("ascii"), signature, policy)
        except Rejected as rejected:
            signature_report.verdict, signature_report.reason = rejected.verdict, rejected.reason
            signature_report.detail, intact = bilingual(rejected.reason, rejected.detail), False
            continue
        stamp_notes: list[str] = []
        proven = _signature_timestamp(entry, policy, stamp_notes)
        if at is not None:
            when, source = at, "given"
        else:
            when, source = policy.signing_time(timestamp=proven, claimed=_claimed_time(packet), now=now)
        signature_report.signing_time, signature_report.signing_time_source = when.astimezone(ZONE).isoformat(), source
        chain = validate_chain(policy, signer, certificates[1:], when, time_proven=source == "timestamp")
        signature_report.verdict, signature_report.reason = chain.verdict, chain.reason
        signature_report.detail = bilingual(chain.reason, chain.detail)
        signature_report.sub_indication, signature_report.notes = chain.sub_indication, list(chain.notes)
        signature_report.checks_not_done = stamp_notes + time_note(source) + chain.checks_not_done  # a new list
    return report, packet if intact else None


def payload_of(data: bytes) -> bytes | None:
    """The payload bytes of a JWS (compact or JSON serialisation), unverified; ``None`` when ``data``
    is not a JWS. The intake and every reader of stored packets decide "is this a JWS?" here, so the
    packet delivered is the payload that was verified, never another reading of the same bytes."""
    if not looks_like_jws(data):
        return None
    try:
        payload_b64, _ = _signatures(safe_input.decode_utf8(data))
        return _unb64url(payload_b64, "payload")
    except (Rejected, safe_input.Unreadable):
        return None


def looks_like_jws(data: bytes) -> bool:
    """A compact JWS, or a JSON object with a payload and signature(s)."""
    text = data.strip()
    if text.startswith(b"{"):
        return b'"payload"' in text and (b'"signature"' in text or b'"signatures"' in text)
    return text.count(b".") == 2 and bool(re.match(rb"^[A-Za-z0-9_.-]+$", text))
