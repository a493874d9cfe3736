"""Helpers for the XML signature tests: the example packet, and an independent signer (python-xmlsec
templates) that can make the signatures the gateway's own signer never would (SHA-1, HMAC, XPath…)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID
import xmlsec
from lxml import etree

from tests.signing.pki import Issued

REPO = Path(__file__).resolve().parents[2]
NS = "urn:congketnoi:qcvn120:v1"
DS = "http://www.w3.org/2000/09/xmldsig#"


def packet_bytes() -> bytes:
    return (REPO / "examples" / "HoSo.xml").read_bytes()


def packet() -> etree._Element:
    return etree.fromstring(packet_bytes())


def xmlsec_sign(root: etree._Element, issued: Issued | None, *, uri: str = "",
                method=xmlsec.constants.TransformRsaSha256, digest=xmlsec.constants.TransformSha256,
                c14n=xmlsec.constants.TransformExclC14N, transforms=None, id_attr: tuple[etree._Element, str] | None = None,
                hmac_key: bytes | None = None, key_value: bool = False, certificate: bool = True) -> bytes:
    """Signs ``root`` in place with libxmlsec1 and returns the serialised document."""
    signature = xmlsec.template.create(root, c14n, method, ns="ds")
    root.append(signature)
    reference = xmlsec.template.add_reference(signature, digest, uri=uri)
    for transform in (transforms if transforms is not None else [xmlsec.constants.TransformEnveloped,
                                                                   xmlsec.constants.TransformExclC14N]):
        xmlsec.template.add_transform(reference, transform)
    key_info = xmlsec.template.ensure_key_info(signature)
    if certificate and issued is not None:
        xmlsec.template.add_x509_data(key_info)
    if key_value:
        xmlsec.template.add_key_value(key_info)
    context = xmlsec.SignatureContext()
    if hmac_key is not None:
        context.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataHmac, hmac_key)
    else:
        context.key = xmlsec.Key.from_memory(issued.key_pem, xmlsec.constants.KeyDataFormatPem)
        context.key.load_cert_from_memory(issued.cert_pem, xmlsec.constants.KeyDataFormatPem)
    if id_attr is not None:
        context.register_id(*id_attr)
    context.sign(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_ed25519_certificate(signed: bytes) -> bytes:
    """``signed`` with its KeyInfo's certificates replaced by one self-signed Ed25519 certificate: a key kind
    libxmlsec1 cannot load (a hostile sender's, or a future CA's)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed25519 signer")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, None))
    root = etree.fromstring(signed)
    first, *others = root.iter(f"{{{DS}}}X509Certificate")
    first.text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    for other in others:
        other.getparent().remove(other)
    return etree.tostring(root)
