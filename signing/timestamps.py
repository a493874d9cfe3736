"""RFC 3161 timestamps: asking a timestamp authority (TSA) for a token, and checking one.

A token is the proof of existence (POE) ETSI EN 319 102-1 builds on: data existed, unchanged,
no later than the time a trusted TSA signed. Two calls, for anyone who needs one (receipts,
audit checkpoints, XAdES signature timestamps):

    token = request_timestamp(data, url)               # DER TimeStampToken (a CMS ContentInfo)
    when = verify_timestamp(token, data, trust)        # aware datetime, or TimestampError

``trust`` is a ``TrustPolicy`` whose anchors the TSA's certificate must chain to; the TSA
certificate must carry the critical timeStamping extended key usage (pyhanko checks it). The chain is
judged as it stood at the token's genTime (RFC 3161 §4.3, ETSI EN 319 102-1 §5.6.2.3): a token stays a
proof of existence after the TSA's certificate expires, unless revocation information dates a revocation
of the TSA (or a CA above it) at or before genTime.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

import httpx
from asn1crypto import cms, tsp

from signing.report import Verdict
from signing.messages import said
from signing.trust import TrustPolicy, _run, describe_name, validate_chain

_QUOTED = re.compile(r'"[^"]*"|\d{6,}')
CLOCK_SKEW = timedelta(minutes=5)  # a genTime further ahead of our clock than this is not believed
MAX_REPLY_BYTES = 64 * 1024  # a token is a few kilobytes: a chain, a signature, TSTInfo
_DIGESTS = ("sha256", "sha384", "sha512")


class TimestampError(Exception):
    """No token, or one that does not prove the data's time; the message says why."""


def request_timestamp(data: bytes, url: str, *, timeout: float = 10.0, digest: str = "sha256",
                      max_bytes: int = MAX_REPLY_BYTES) -> bytes:
    """A TimeStampToken over ``data`` from the TSA at ``url`` (HTTP POST, RFC 3161 §3.4), bounded in time and
    size; the reply must echo our nonce and imprint. Raises ``TimestampError``."""
    if digest not in _DIGESTS:
        raise TimestampError(f"digest {digest} not allowed for timestamps")
    imprint = hashlib.new(digest, data).digest()
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq({
        "version": 1, "message_imprint": {"hash_algorithm": {"algorithm": digest}, "hashed_message": imprint},
        "nonce": nonce, "cert_req": True}).dump()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client, \
                client.stream("POST", url, content=request,
                              headers={"Content-Type": "application/timestamp-query"}) as answer:
            if answer.status_code != 200:
                raise TimestampError(f"TSA {url} answered HTTP {answer.status_code}")
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise TimestampError(f"TSA {url} sent more than {max_bytes} bytes")
    except httpx.HTTPError as exc:
        raise TimestampError(f"TSA {url} unreachable: {exc}") from None
    try:
        reply = tsp.TimeStampResp.load(bytes(body))
        status = reply["status"]["status"].native
        token = reply["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed if token.native is not None else None
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"TSA {url} sent an unreadable reply: {exc}") from None
    if status not in ("granted", "granted_with_mods") or info is None:
        raise TimestampError(f"TSA {url} refused: {status} {reply['status']['status_string'].native or ''}".strip())
    if info["nonce"].native != nonce or info["message_imprint"]["hashed_message"].native != imprint:
        raise TimestampError(f"TSA {url} answered another request (nonce or imprint differs)")
    der: bytes = token.dump()
    return der


def verify_timestamp(token: bytes, data: bytes, trust: TrustPolicy, *, at: datetime | None = None) -> datetime:
    """The time ``token`` proves for ``data``: imprint, CMS signature, TSA key usage, and the TSA's chain
    to ``trust``'s anchors at ``at`` (default: the token's own genTime — its TSA certificate must have been
    valid and not revoked then; a genTime in the future is refused). Raises ``TimestampError`` naming the
    failing check."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus

    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        if info["content_type"].native != "signed_data" or not isinstance(signed, cms.SignedData):
            raise ValueError("not a CMS SignedData")
    except (ValueError, TypeError) as exc:
        raise TimestampError(f"unreadable timestamp token: {exc}") from None

    def expected(algorithm: str) -> bytes:
        if algorithm not in _DIGESTS:
            raise TimestampError(f"timestamp imprint uses {algorithm}, not allowed")
        return hashlib.new(algorithm, data).digest()

    if at is None:
        try:
            at = token_time(token)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise TimestampError(f"unreadable timestamp token: {exc}") from None
        if at > datetime.now(UTC) + CLOCK_SKEW:
            raise TimestampError(f"timestamp genTime {at.isoformat()} is in the future")
    context = trust.validation_context(at.astimezone(UTC))
    try:
        status = TimestampSignatureStatus(**_run(validate_tst_signed_data(signed, context, expected)))
    except TimestampError:
        raise
    except Exception as exc:  # noqa: BLE001 - any engine error means "not proven"
        # the engine quotes subjects (names, identifiers): keep its words, not its quotes or numbers
        raise TimestampError(f"timestamp token does not verify: {_QUOTED.sub('…', str(exc))[:300]}") from None
    if not status.intact:
        raise TimestampError("timestamp imprint does not match the data")
    if not status.valid:
        raise TimestampError("timestamp token signature does not verify")
    if not status.trusted:
        raise TimestampError(f"TSA {describe_name(status.signing_cert.subject)} not trusted: "
                             f"{status.trust_problem_indic}")
    # The engine reads CRLs only for certificates naming a distribution point: the policy's own CRLs and
    # OCSP answers speak for the TSA through the chain check every signer gets, at the same time.
    sent = tuple(c.chosen for c in signed["certificates"] or () if c.name == "certificate")
    chain = validate_chain(trust, status.signing_cert, sent, at, time_proven=True)
    if chain.verdict is not Verdict.PASSED:
        raise TimestampError(f"TSA {describe_name(status.signing_cert.subject)} not valid at "
                             f"{at.isoformat()}: {chain.reason.value} {chain.detail[:200]}".strip())
    return status.timestamp


def first_proof(encoded_tokens: list[str], data: bytes, trust: TrustPolicy, not_done: list[str],
                what: str) -> datetime | None:
    """The time the first of a signature's base64 timestamp tokens (at most two looked at) proves for
    ``data``; each one that does not hold is noted in ``not_done`` and ignored — a signature is then
    judged without a proof of existence, never better."""
    for encoded in encoded_tokens[:2]:
        try:
            return verify_timestamp(base64.b64decode("".join(encoded.split()), validate=True), data, trust)
        except (TimestampError, ValueError) as exc:
            not_done.append(said("time.unusable", what=what, error=str(exc)[:200]))
    return None


def token_time(token: bytes) -> datetime:
    """The genTime a token claims, unverified (for display next to a verdict that says whether it holds)."""
    info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    claimed: datetime = info["gen_time"].native
    return claimed

