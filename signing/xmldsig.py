"""XML-DSig verification of enveloped signatures over a packet, wrapping-proof by construction.

``verify_xml`` answers two questions at once: did a trusted signer sign this, and *which
element* did they sign. It accepts only references to the document root (``URI=""`` or
``#id`` of the root) or to the body at its fixed place (``/GoiTin/NoiDung``), and returns
that element: the caller validates, stores and forwards what the signature covers, never a
look-alike elsewhere in the tree. Everything else a wrapping attack needs (another
referenced element, duplicate Ids, XPointer or XPath, extra references) is refused first.

Order of work: hardened parsing (no DTD, entities or network: the gateway's parser), then
the signature's structure and algorithm policy, then the cryptography (libxmlsec1 through
python-xmlsec, measured faster than signxml on the same packets: bench/verify_bench.py),
then the signer's certificate chain at the signing time (signing.trust).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
import xmlsec
from asn1crypto import keys as asn1_keys, x509 as asn1_x509
from lxml import etree

from signing import safe_input, safe_xml
from signing.messages import bilingual
from signing.report import Reason, Rejected, SignatureReport, VerificationReport, Verdict, fail, verdict_for
from signing.timestamps import first_proof
from signing.trust import (MAX_CERTIFICATES, ZONE, TrustPolicy, certificate_from_der, describe_name,
                           parse_packet_time, time_note, validate_chain)

DS = "http://www.w3.org/2000/09/xmldsig#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"
_DS = f"{{{DS}}}"
# The packets' namespace (the packet model has the same; tests/test_architecture.py checks they agree):
# a signature may cover a packet's NoiDung only, and a packet's ThoiGianGui is its claimed signing time.
PACKET_NAMESPACE = "urn:congketnoi:qcvn120:v1"
GOITIN = f"{{{PACKET_NAMESPACE}}}GoiTin"
NOIDUNG = f"{{{PACKET_NAMESPACE}}}NoiDung"
ID_ATTRIBUTES = ("Id", "ID", "id")

# Canonicalisation: name → URI. Comments never reach here (the parser drops them), so the
# "WithComments" forms canonicalise the same text as the plain ones.
C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": "c14n",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": "c14n-with-comments",
    "http://www.w3.org/2001/10/xml-exc-c14n#": "exc-c14n",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": "exc-c14n-with-comments",
    "http://www.w3.org/2006/12/xml-c14n11": "c14n11",
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": "c14n11-with-comments",
}
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "sha224",
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmldsig-more#md5": "md5",
    "http://www.w3.org/2001/04/xmlenc#ripemd160": "ripemd160",
}
DIGEST_URIS = {name: uri for uri, name in DIGESTS.items()}

# Signature method → (key type, digest).
SIGNATURE_METHODS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224": ("rsa", "sha224"),
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-md5": ("rsa", "md5"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-ripemd160": ("rsa", "ripemd160"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", "sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", "sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224": ("ec", "sha224"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ec", "sha1"),
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1": ("dsa", "sha1"),
    "http://www.w3.org/2009/xmldsig11#dsa-sha256": ("dsa", "sha256"),
}
SIGNATURE_URIS = {f"{kind.replace('ec', 'ecdsa')}-{digest}": uri for uri, (kind, digest) in SIGNATURE_METHODS.items()}
_HMAC_PREFIXES = ("http://www.w3.org/2000/09/xmldsig#hmac-", "http://www.w3.org/2001/04/xmldsig-more#hmac-")

# What libxmlsec1 may run, whatever the document asks for (defence in depth behind the policy):
# canonicalisations and enveloped-signature always, digests and signature methods as the policy allows.
_C = xmlsec.constants
_STRUCTURAL_TRANSFORMS = (_C.TransformEnveloped, _C.TransformInclC14N, _C.TransformInclC14NWithComments,
                          _C.TransformExclC14N, _C.TransformExclC14NWithComments, _C.TransformInclC14N11,
                          _C.TransformInclC14N11WithComments)
_DIGEST_TRANSFORMS = {"sha1": _C.TransformSha1, "sha224": _C.TransformSha224, "sha256": _C.TransformSha256,
                      "sha384": _C.TransformSha384, "sha512": _C.TransformSha512}
_SIGNATURE_TRANSFORMS = {
    "rsa-sha1": _C.TransformRsaSha1, "rsa-sha224": _C.TransformRsaSha224, "rsa-sha256": _C.TransformRsaSha256,
    "rsa-sha384": _C.TransformRsaSha384, "rsa-sha512": _C.TransformRsaSha512,
    "ecdsa-sha1": _C.TransformEcdsaSha1, "ecdsa-sha224": _C.TransformEcdsaSha224,
    "ecdsa-sha256": _C.TransformEcdsaSha256, "ecdsa-sha384": _C.TransformEcdsaSha384,
    "ecdsa-sha512": _C.TransformEcdsaSha512}
_NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")



XADES = "http://uri.etsi.org/01903/v1.3.2#"


def signature_value_c14n(signature: etree._Element) -> bytes:
    """What an XAdES SignatureTimeStamp covers: the exclusive canonical form of ds:SignatureValue."""
    value = signature.find(_DS + "SignatureValue")
    if value is None:
        raise ValueError("no ds:SignatureValue")
    encoded: bytes = etree.tostring(value, method="c14n", exclusive=True, with_comments=False)
    return encoded


def _stamps(signature: etree._Element) -> list[str]:
    """The base64 tokens of a ds:Signature's XAdES SignatureTimeStamps."""
    return [node.text or "" for node in signature.findall(
        f"{_DS}Object/{{{XADES}}}QualifyingProperties/{{{XADES}}}UnsignedProperties/"
        f"{{{XADES}}}UnsignedSignatureProperties/{{{XADES}}}SignatureTimeStamp/{{{XADES}}}EncapsulatedTimeStamp")]


def timestamp_tokens(raw: bytes) -> list[tuple[str, bytes]]:
    """Each XAdES signature timestamp token of a signed document (base64), with what it must cover: the
    canonical ds:SignatureValue of its signature. Parsed with the hardened parser (``ValueError`` if unreadable)."""
    return [(token, signature_value_c14n(signature)) for signature in parse(raw).iter(f"{_DS}Signature")
            for token in _stamps(signature)]


def _signature_timestamp(signature: etree._Element, policy: TrustPolicy,
                         not_done: list[str]) -> datetime | None:
    """The time an XAdES SignatureTimeStamp proves for this signature, if one is there and holds
    (its TSA chaining to the purpose's anchors)."""
    tokens = _stamps(signature)
    if not tokens:
        return None
    return first_proof(tokens, signature_value_c14n(signature), policy, not_done, "XAdES signature timestamp")


def _refusal(reason: Reason, detail: str) -> SignatureReport:
    return SignatureReport(verdict_for(reason), reason, bilingual(reason, detail))


# --- parsing -----------------------------------------------------------------------------

def parse(raw: bytes, max_bytes: int = 4_194_304) -> etree._Element:
    """The document root through the hardened reader (``safe_input``, ``safe_xml``): size, UTF-8,
    no DOCTYPE (hence no XXE, no entity expansion), no network, libxml2 depth limits.
    Unlike the validator's ``parse_xml`` it accepts any root element (interop vectors, receipts)."""
    safe_input.check_size(raw, max_bytes)
    return safe_xml.parse_any_xml(raw)


# --- the signature's structure and policy --------------------------------------------------

@dataclass
class _Plan:
    """What one signature claims, checked against the policy before any cryptography."""

    signature: etree._Element
    covered: etree._Element
    covered_label: str
    reference_id: tuple[str, str] | None  # (attribute, value) to register for libxmlsec1
    algorithms: dict[str, str]
    key_kind: str
    certificates: list[asn1_x509.Certificate]


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(_DS + tag)
    if len(found) != 1:
        raise fail(Reason.FORMAT_FAILURE, f"{what}: expected one ds:{tag}, found {len(found)}")
    return found[0]


def _elements_with_id(root: etree._Element, value: str) -> list[tuple[etree._Element, str]]:
    return [(element, name) for element in root.iter() if isinstance(element.tag, str)
            for name in ID_ATTRIBUTES if element.get(name) == value]


def _target(root: etree._Element, uri: str | None) -> tuple[etree._Element, str, tuple[str, str] | None]:
    """The element a Reference URI designates, if it is one the gateway accepts."""
    if uri is None:
        raise fail(Reason.POLICY_FAILURE, "a Reference without URI (detached data) is not accepted")
    if uri == "":
        return root, f"whole document <{etree.QName(root).localname}> (URI=\"\")", None
    if not uri.startswith("#") or not _NCNAME.match(uri[1:]):
        raise fail(Reason.POLICY_FAILURE, f"reference URI {uri!r} is external or an XPointer: only \"\" or "
                                           "\"#Id\" of the document or its body is accepted")
    matches = _elements_with_id(root, uri[1:])
    if len(matches) != 1:
        raise fail(Reason.FORMAT_FAILURE, f"reference {uri}: {len(matches)} elements carry this Id "
                                           "(duplicate or missing Ids are a wrapping attack)")
    element, attribute = matches[0]
    if element is root:
        return root, f"whole document <{etree.QName(root).localname}> ({uri})", (attribute, uri[1:])
    if root.tag == GOITIN and element.tag == NOIDUNG and element.getparent() is root:
        return element, f"NoiDung ({uri})", (attribute, uri[1:])
    raise fail(Reason.POLICY_FAILURE, f"reference {uri} designates <{etree.QName(element).localname}>, which is "
                                       "neither the document root nor the packet body at /GoiTin/NoiDung")


def _check_digest(policy: TrustPolicy, name: str | None, uri: str | None, what: str) -> str:
    if name is None:
        raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE, f"{what}: unknown algorithm {uri}")
    if not policy.algorithms.digest_ok(name):
        raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE, f"{what}: {name} is not allowed "
                                                       f"(allowed: {', '.join(sorted(policy.algorithms.digests))})")
    return name


def _plan(root: etree._Element, signature: etree._Element, policy: TrustPolicy) -> _Plan:
    signed_info = _one(signature, "SignedInfo", "Signature")
    _one(signature, "SignatureValue", "Signature")
    c14n_uri = _one(signed_info, "CanonicalizationMethod", "SignedInfo").get("Algorithm")
    if c14n_uri not in C14N:
        raise fail(Reason.POLICY_FAILURE, f"canonicalisation {c14n_uri} is not accepted")
    method_uri = _one(signed_info, "SignatureMethod", "SignedInfo").get("Algorithm") or ""
    if method_uri.startswith(_HMAC_PREFIXES):
        raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE,
                    "HMAC signatures are refused: a shared key proves nothing about the signer")
    kind, method_digest = SIGNATURE_METHODS.get(method_uri, (None, None))
    if kind not in ("rsa", "ec"):
        raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE, f"signature method {method_uri} is not accepted")
    _check_digest(policy, method_digest, method_uri, "signature method")

    references = signed_info.findall(_DS + "Reference")
    if len(references) != 1:
        raise fail(Reason.POLICY_FAILURE, f"{len(references)} references: exactly one, to the document "
                                           "or its body, is accepted")
    reference = references[0]
    covered, label, reference_id = _target(root, reference.get("URI"))
    transforms = [t.get("Algorithm") for t in reference.iterfind(f"{_DS}Transforms/{_DS}Transform")]
    if any(t not in C14N and t != ENVELOPED for t in transforms) or transforms.count(ENVELOPED) > 1 \
            or sum(t in C14N for t in transforms) > 1 or (ENVELOPED in transforms and transforms[0] != ENVELOPED):
        raise fail(Reason.POLICY_FAILURE, f"transforms {transforms} are not accepted: only enveloped-signature "
                                           "then one canonicalisation")
    for child in reference.iterfind(f"{_DS}Transforms/{_DS}Transform/*"):
        if child.tag != "{http://www.w3.org/2001/10/xml-exc-c14n#}InclusiveNamespaces":
            raise fail(Reason.POLICY_FAILURE, f"transform parameter <{etree.QName(child).localname}> is not accepted")
    digest_method = _one(reference, "DigestMethod", "Reference").get("Algorithm")
    digest = _check_digest(policy, DIGESTS.get(digest_method or ""), digest_method, "digest")
    _one(reference, "DigestValue", "Reference")

    certificates = _certificates(signature)
    return _Plan(signature, covered, label, reference_id,
                 {"signature": f"{'rsa' if kind == 'rsa' else 'ecdsa'}-{method_digest}", "digest": digest,
                  "c14n": C14N[c14n_uri]}, kind, certificates)


def _certificates(signature: etree._Element) -> list[asn1_x509.Certificate]:
    key_info = signature.find(_DS + "KeyInfo")
    if key_info is None:
        return []
    nodes = list(key_info.iterfind(f"{_DS}X509Data/{_DS}X509Certificate"))
    if len(nodes) > MAX_CERTIFICATES:
        raise fail(Reason.FORMAT_FAILURE, f"{len(nodes)} certificates in KeyInfo (at most {MAX_CERTIFICATES})")
    certificates = []
    for node in nodes:
        try:
            certificates.append(certificate_from_der(base64.b64decode("".join((node.text or "").split()),
                                                                      validate=True)))
        except (ValueError, binascii.Error, TypeError) as exc:
            raise fail(Reason.FORMAT_FAILURE, f"an X509Certificate in KeyInfo cannot be read: {exc}") from None
    return certificates


def _signer_certificate(plan: _Plan, policy: TrustPolicy) -> asn1_x509.Certificate:
    certs = plan.certificates
    if not certs:
        if len(policy.pinned) == 1:
            return policy.pinned[0]
        raise fail(Reason.FORMAT_FAILURE, "KeyInfo carries no X509Certificate (key names, key values and "
                                           "retrieval methods are not accepted instead of a certificate)")
    # The leaf: the certificate that issued none of the others (a lone self-signed one is its own).
    issuers = {c.issuer.sha256 for c in certs if c.issuer.sha256 != c.subject.sha256}
    leaves = [c for c in certs if c.subject.sha256 not in issuers] or certs
    signer = leaves[0]
    for key_value in plan.signature.iterfind(f"{_DS}KeyInfo/{_DS}KeyValue"):
        if not _key_value_matches(key_value, signer):
            raise fail(Reason.SIG_CRYPTO_FAILURE, "KeyInfo/KeyValue is not the certificate's key")
    return signer


def _b64_text(element: etree._Element | None) -> bytes:
    return base64.b64decode("".join((element.text or "").split()) if element is not None else "", validate=True)


def _key_value_matches(key_value: etree._Element, cert: asn1_x509.Certificate) -> bool:
    """Whether a KeyValue states the certificate's own public key (RSA, or EC as a dsig11 point)."""
    public = cert.public_key
    try:
        rsa_value = key_value.find(_DS + "RSAKeyValue")
        if rsa_value is not None and public.algorithm == "rsa":
            numbers = public["public_key"].parsed
            return bool(int.from_bytes(_b64_text(rsa_value.find(_DS + "Modulus")), "big") == numbers["modulus"].native
                        and int.from_bytes(_b64_text(rsa_value.find(_DS + "Exponent")), "big")
                        == numbers["public_exponent"].native)
        ec_value = key_value.find(f"{{{DSIG11}}}ECKeyValue")
        if ec_value is not None and public.algorithm == "ec":
            return bool(_b64_text(ec_value.find(f"{{{DSIG11}}}PublicKey")) == public["public_key"].native)
    except (ValueError, binascii.Error):
        return False
    return False  # a DSA KeyValue, or one of another type than the certificate: refuse rather than guess


def _check_key(plan: _Plan, cert: asn1_x509.Certificate, policy: TrustPolicy) -> None:
    public: asn1_keys.PublicKeyInfo = cert.public_key
    if plan.key_kind == "rsa":
        if public.algorithm not in ("rsa", "rsassa_pss"):
            raise fail(Reason.SIG_CRYPTO_FAILURE, f"an RSA signature with a {public.algorithm} certificate")
        if public.bit_size < policy.algorithms.min_rsa_bits:
            raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE,
                        f"RSA key of {public.bit_size} bits (at least {policy.algorithms.min_rsa_bits} required)")
    else:
        if public.algorithm != "ec":
            raise fail(Reason.SIG_CRYPTO_FAILURE, f"an ECDSA signature with a {public.algorithm} certificate")
        curve = public.curve[1]
        if curve not in policy.algorithms.curves:
            raise fail(Reason.CRYPTO_CONSTRAINTS_FAILURE, f"curve {curve} is not allowed")


# --- cryptography --------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _signer_names(cert: asn1_x509.Certificate) -> tuple[str, str]:
    """The masked subject and issuer of a certificate. Certificates come from ``certificate_from_der`` (one
    object per DER), so this and ``_signer_key`` cache per certificate."""
    return describe_name(cert.subject), describe_name(cert.issuer)


@lru_cache(maxsize=1024)
def _signer_key(cert: asn1_x509.Certificate) -> xmlsec.Key:
    """libxmlsec1's key: the bare public key (the chain is checked by signing.trust; a key carrying its
    certificate is copied into every signature context, ~0.05–0.3 ms a verification). Called once
    ``_check_key`` has admitted the key's kind and size."""
    try:
        return xmlsec.Key.from_memory(cert.public_key.dump(), xmlsec.constants.KeyDataFormatDer)
    except xmlsec.Error:
        raise fail(Reason.SIG_CRYPTO_FAILURE, f"the certificate's {cert.public_key.algorithm} key cannot be "
                                              "read by the verifier") from None


def _context(key: xmlsec.Key, digests: frozenset[str]) -> xmlsec.SignatureContext:
    context = xmlsec.SignatureContext()
    context.key = key
    allowed_digests = [t for name, t in _DIGEST_TRANSFORMS.items() if name in digests]
    for transform in (*_STRUCTURAL_TRANSFORMS, *allowed_digests):
        context.enable_reference_transform(transform)
    allowed_methods = [t for name, t in _SIGNATURE_TRANSFORMS.items() if name.rpartition("-")[2] in digests]
    for transform in (*_STRUCTURAL_TRANSFORMS, *allowed_methods):
        context.enable_signature_transform(transform)
    return context


def _verify_crypto(plan: _Plan, cert: asn1_x509.Certificate, digests: frozenset[str]) -> None:
    key = _signer_key(cert)
    context = _context(key, digests)
    if plan.reference_id is not None:
        attribute, _ = plan.reference_id
        context.register_id(plan.covered, attribute)
    try:
        context.verify(plan.signature)
    except xmlsec.Error:
        raise fail(*_diagnose(plan, key, digests)) from None


def _diagnose(plan: _Plan, key: xmlsec.Key, digests: frozenset[str]) -> tuple[Reason, str]:
    """libxmlsec1 says only "invalid": tell a changed document (digest) from a bad signature value."""
    signed_info = plan.signature.find(_DS + "SignedInfo")
    exclusive = plan.algorithms["c14n"].startswith("exc")
    data = etree.tostring(signed_info, method="c14n", exclusive=exclusive)
    value = base64.b64decode("".join((plan.signature.findtext(_DS + "SignatureValue") or "").split()))
    transform = _SIGNATURE_TRANSFORMS[plan.algorithms["signature"]]
    try:
        _context(key, digests).verify_binary(data, transform, value)
    except xmlsec.Error:
        return Reason.SIG_CRYPTO_FAILURE, "the signature value does not verify with the certificate's key"
    return Reason.HASH_FAILURE, f"the digest of {plan.covered_label} does not match: the signed data was changed"


# --- the whole verification --------------------------------------------------------------------

def _claimed_time(covered: etree._Element, root: etree._Element) -> datetime | None:
    """The packet's ThoiGianGui (yyyyMMddHHmmss, Vietnam time) when the signature covers it."""
    if root.tag != GOITIN or covered is not root:
        return None
    return parse_packet_time(root.findtext(f"{{{PACKET_NAMESPACE}}}ThoiGianGui"))


def _verify_one(root: etree._Element, signature: etree._Element, policy: TrustPolicy,
                at: datetime | None, now: datetime | None) -> tuple[SignatureReport, etree._Element | None]:
    report = SignatureReport(Verdict.FAILED, Reason.FORMAT_FAILURE)
    try:
        plan = _plan(root, signature, policy)
        report.algorithms, report.covered = plan.algorithms, plan.covered_label
        cert = _signer_certificate(plan, policy)
        report.signer, report.issuer = _signer_names(cert)
        _check_key(plan, cert, policy)
        _verify_crypto(plan, cert, policy.algorithms.digests)
    except Rejected as rejected:
        report.verdict, report.reason = rejected.verdict, rejected.reason
        report.detail = bilingual(rejected.reason, rejected.detail)
        return report, None
    stamp_notes: list[str] = []
    proven = _signature_timestamp(signature, policy, stamp_notes)
    if at is not None:
        when, source = at, "given"
    else:
        when, source = policy.signing_time(timestamp=proven, claimed=_claimed_time(plan.covered, root), now=now)
    report.signing_time, report.signing_time_source = when.astimezone(ZONE).isoformat(), source
    extra = [c for c in plan.certificates if c is not cert]
    chain = validate_chain(policy, cert, extra, when, time_proven=source == "timestamp")
    report.verdict, report.reason, report.detail = chain.verdict, chain.reason, bilingual(chain.reason, chain.detail)
    report.sub_indication, report.notes = chain.sub_indication, list(chain.notes)
    report.checks_not_done = stamp_notes + time_note(source) + chain.checks_not_done  # new list: chain may be cached
    return report, plan.covered


def verify_xml(raw: bytes, policy: TrustPolicy, *, at: datetime | None = None, now: datetime | None = None,
               max_bytes: int = 4_194_304) -> tuple[VerificationReport, etree._Element | None]:
    """Verifies every XML-DSig signature of ``raw`` under ``policy``.

    Returns the report and the element the signature covers — the document root, or the
    packet's ``NoiDung`` — whenever its integrity and signature value held (check
    ``report.verdict`` for the chain). Use that element, never a re-parse of ``raw``.
    ``at`` fixes the validation time (otherwise: claimed ThoiGianGui within tolerance, else now).
    """
    report = VerificationReport("xmldsig")
    try:
        root = parse(raw, max_bytes)
    except safe_input.Unreadable as exc:
        report.signatures.append(SignatureReport(Verdict.FAILED, Reason.FORMAT_FAILURE,
                                                 f"{exc.message_vi} — {exc.message_en}"))
        return report, None
    signatures = list(root.iter(_DS + "Signature"))
    if not signatures:
        report.signatures.append(_refusal(Reason.NO_SIGNATURE, "the document carries no ds:Signature"))
        return report, None
    if len(signatures) > policy.max_signatures:
        report.signatures.append(_refusal(Reason.POLICY_FAILURE, f"{len(signatures)} ds:Signature elements; "
                                                                 f"at most {policy.max_signatures} accepted"))
        return report, None
    covered: list[etree._Element | None] = []
    for signature in signatures:
        signature_report, element = _verify_one(root, signature, policy, at, now)
        report.signatures.append(signature_report)
        covered.append(element)
    if any(element is None for element in covered):
        return report, None
    # Several signatures (when allowed) must agree on the widest coverage: the root if any covers it.
    return report, root if any(element is root for element in covered) else covered[0]
