"""OCSP requests to responders the deployment configured (RFC 6960 over HTTP POST).

pyhanko-certvalidator fetches from the responders a certificate names when allowed to;
this is for the other case, a responder named in the trust configuration (a CA's
internal mirror, a provincial proxy): the responses go to the validation as evidence.
"""

from __future__ import annotations

from datetime import datetime
import hashlib

import httpx
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp


class OcspError(Exception):
    """The responder could not be asked or did not answer usefully; the message says which."""


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def fetch(url: str, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate, *, timeout: float = 5.0) -> bytes:
    """The DER OCSP response for ``cert`` (issued by ``issuer``) from ``url``."""
    request = (ocsp.OCSPRequestBuilder().add_certificate(_crypto(cert), _crypto(issuer), hashes.SHA1())  # noqa: S303 - RFC 6960 CertID: SHA-1 is what responders expect
               .build().public_bytes(serialization.Encoding.DER))  # SHA-1 CertID: what responders expect
    try:
        answer = httpx.post(url, content=request, timeout=timeout,
                            headers={"Content-Type": "application/ocsp-request"})
    except httpx.HTTPError as exc:
        raise OcspError(f"OCSP responder {url} unreachable: {exc}") from None
    if answer.status_code != 200:
        raise OcspError(f"OCSP responder {url} answered HTTP {answer.status_code}")
    try:
        status = ocsp.load_der_ocsp_response(answer.content).response_status
    except ValueError as exc:
        raise OcspError(f"OCSP responder {url} sent an unreadable response: {exc}") from None
    if status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspError(f"OCSP responder {url} answered {status.name}")
    return answer.content


def revocation_time(response: bytes, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> datetime | None:
    """When an authentic OCSP ``response`` says ``cert`` was revoked; None when it says nothing about
    ``cert``, is not "revoked", or is not signed by the issuer (or a responder the issuer delegated to with
    id-kp-OCSPSigning). Only a revocation date is read from it: "good" is the chain engine's business."""
    try:
        answer = ocsp.load_der_ocsp_response(response)
        if answer.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            return None
        issuing = _crypto(issuer)
        if not _signed_by_issuer_or_delegate(answer, issuing):
            return None
        for single in answer.responses:
            name_hash = hashlib.new(single.hash_algorithm.name, issuer.subject.dump()).digest()
            if single.serial_number == cert.serial_number and single.issuer_name_hash == name_hash \
                    and single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
                return single.revocation_time_utc
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return None
    return None


def _verify(key: object, signature: bytes, data: bytes, digest: hashes.HashAlgorithm) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), digest)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(digest))
    else:
        raise UnsupportedAlgorithm("OCSP responder key type")


def _signed_by_issuer_or_delegate(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    digest = answer.signature_hash_algorithm
    if digest is None:
        return False
    for signer in [issuer, *answer.certificates]:
        if signer is not issuer:  # a delegated responder: issued by the CA, for OCSP signing only
            try:
                signer.verify_directly_issued_by(issuer)
                usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
                continue
            if x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
                continue
        try:
            _verify(signer.public_key(), answer.signature, answer.tbs_response_bytes, digest)
            return True
        except (InvalidSignature, UnsupportedAlgorithm, ValueError):
            continue
    return False
