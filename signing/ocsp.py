"""OCSP requests to responders the deployment configured (RFC 6960 over HTTP POST).

pyhanko-certvalidator fetches from the responders a certificate names when allowed to;
this is for the other case, a responder named in the trust configuration (a CA's
internal mirror, a provincial proxy): the responses go to the validation as evidence.
"""

from __future__ import annotations

import httpx
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
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
