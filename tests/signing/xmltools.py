"""Helpers for the XML signature tests: the example packet, and an independent signer (python-xmlsec
templates) that can make the signatures the gateway's own signer never would (SHA-1, HMAC, XPath…)."""

from __future__ import annotations

from pathlib import Path

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
