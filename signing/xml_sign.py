"""XML-DSig signing of what the gateway issues: an enveloped signature, exclusive C14N, SHA-256.

The signature goes last in ``GoiTin`` (where the schema allows it) and covers either the
whole packet (``URI=""``) or its body (``#<NoiDung Id>``). Canonicalisation is libxml2's
(through lxml); the signature value comes from a ``Signer``, so a key in an HSM fits later.
xmlsec1 and the gateway's own verifier check the result in the tests.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Literal

from cryptography.hazmat.primitives import serialization
from lxml import etree

from signing.signer import Signer
from signing.timestamps import request_timestamp
from signing.xmldsig import DIGEST_URIS, DS, ENVELOPED, EXC_C14N, NOIDUNG, SIGNATURE_URIS, XADES, parse, \
    signature_value_c14n

_DS = f"{{{DS}}}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, _DS + tag, attributes)
    element.text = text
    return element


def _c14n(element: etree._Element) -> bytes:
    encoded: bytes = etree.tostring(element, method="c14n", exclusive=True, with_comments=False)
    return encoded


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_element(root: etree._Element, signer: Signer, *,
                 cover: Literal["packet", "body"] = "packet") -> etree._Element:
    """Appends an enveloped ds:Signature to ``root`` (in place) and returns the root."""
    if root.find(f".//{_DS}Signature") is not None:
        raise ValueError("the document is already signed")
    if cover == "body":
        target = root.find(NOIDUNG)
        if target is None:
            raise ValueError("no NoiDung to sign")
        target_id = target.get("Id") or "NoiDung"
        target.set("Id", target_id)
        uri, transforms = f"#{target_id}", [EXC_C14N]
    else:
        target, uri, transforms = root, "", [ENVELOPED, EXC_C14N]
    # The enveloped-signature transform removes the Signature again, so the digest of the
    # target before the Signature exists is the digest a verifier computes after removing it.
    digest = hashlib.sha256(_c14n(target)).digest()

    signature = etree.SubElement(root, _DS + "Signature", nsmap={"ds": DS})
    signed_info = _sub(signature, "SignedInfo")
    _sub(signed_info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _sub(signed_info, "SignatureMethod", Algorithm=SIGNATURE_URIS[signer.algorithm])
    reference = _sub(signed_info, "Reference", URI=uri)
    transforms_element = _sub(reference, "Transforms")
    for algorithm in transforms:
        _sub(transforms_element, "Transform", Algorithm=algorithm)
    _sub(reference, "DigestMethod", Algorithm=DIGEST_URIS["sha256"])
    _sub(reference, "DigestValue", _b64(digest))
    _sub(signature, "SignatureValue", _b64(signer.sign(_c14n(signed_info))))
    x509_data = _sub(_sub(signature, "KeyInfo"), "X509Data")
    for cert in (signer.certificate, *signer.chain):
        _sub(x509_data, "X509Certificate", _b64(cert.public_bytes(serialization.Encoding.DER)))
    return root


def sign_xml(raw: bytes, signer: Signer, *, cover: Literal["packet", "body"] = "packet") -> bytes:
    """Signs a packet given as bytes (read with the hardened parser) and returns the signed bytes."""
    root = sign_element(parse(raw), signer, cover=cover)
    encoded: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return encoded


def timestamp_signature(raw: bytes, tsa_url: str, *, timeout: float = 10.0) -> bytes:
    """Adds an XAdES SignatureTimeStamp (an RFC 3161 token over the canonical ds:SignatureValue) as an
    unsigned property of the one ds:Signature: a proof that the signature existed at the TSA's time,
    so it stays verifiable after the signer's certificate expires. The signed data is untouched."""
    root = parse(raw)
    signature = root.find(f"{_DS}Signature")
    if signature is None:
        raise ValueError("no ds:Signature to timestamp")
    token = request_timestamp(signature_value_c14n(signature), tsa_url, timeout=timeout)
    x = f"{{{XADES}}}"
    properties = etree.SubElement(_sub(signature, "Object"), x + "QualifyingProperties", nsmap={"xades": XADES})
    unsigned = etree.SubElement(etree.SubElement(properties, x + "UnsignedProperties"),
                                x + "UnsignedSignatureProperties")
    stamp = etree.SubElement(unsigned, x + "SignatureTimeStamp")
    _sub(stamp, "CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(stamp, x + "EncapsulatedTimeStamp").text = _b64(token)
    encoded: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return encoded
