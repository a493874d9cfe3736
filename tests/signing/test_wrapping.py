"""Signature-wrapping attacks of our own making: each one rejected, or proven harmless (the element
the gateway goes on to use is exactly the signed one)."""

import copy

import pytest
from lxml import etree

from signing.report import Reason, Verdict
from signing.xml_sign import sign_xml
from signing.xmldsig import verify_xml
from tests.signing.pki import TestPKI
from tests.signing.xmltools import DS, NS, packet, xmlsec_sign, packet_bytes

N = f"{{{NS}}}"
D = f"{{{DS}}}"
FORGED_PROCEDURE = "9.999999"


def signed_tree(pki: TestPKI, cover: str) -> etree._Element:
    return etree.fromstring(sign_xml(packet_bytes(), pki.signer(), cover=cover))


def forged_body(original: etree._Element) -> etree._Element:
    forged = copy.deepcopy(original)
    forged.find(f"{N}HoSo/{N}MaTTHC").text = FORGED_PROCEDURE
    return forged


def check(pki: TestPKI, root: etree._Element, reason: Reason) -> None:
    report, element = verify_xml(etree.tostring(root), pki.policy())
    assert report.verdict is not Verdict.PASSED
    assert report.signatures[0].reason is reason, report.to_dict()
    assert element is None


def test_moved_body_with_forgery_at_the_fixed_place(pki: TestPKI) -> None:
    """The signed NoiDung moves into a wrapper; an unsigned forged NoiDung (no Id) takes its place."""
    root = signed_tree(pki, "body")
    original = root.find(f"{N}NoiDung")
    forged = forged_body(original)
    del forged.attrib["Id"]
    wrapper = etree.SubElement(root, f"{N}MoRong")
    root.replace(original, forged)
    wrapper.append(original)
    check(pki, root, Reason.POLICY_FAILURE)


def test_moved_body_into_signature_object(pki: TestPKI) -> None:
    root = signed_tree(pki, "body")
    original = root.find(f"{N}NoiDung")
    forged = forged_body(original)
    del forged.attrib["Id"]
    root.replace(original, forged)
    etree.SubElement(root.find(f"{D}Signature"), f"{D}Object").append(original)
    check(pki, root, Reason.POLICY_FAILURE)


def test_duplicated_id(pki: TestPKI) -> None:
    """Forged body at the fixed place *with the same Id*, the signed one kept elsewhere."""
    root = signed_tree(pki, "body")
    original = root.find(f"{N}NoiDung")
    root.replace(original, forged_body(original))
    etree.SubElement(root, f"{N}MoRong").append(original)
    check(pki, root, Reason.FORMAT_FAILURE)


def test_duplicated_id_on_other_attribute_name(pki: TestPKI) -> None:
    root = signed_tree(pki, "body")
    decoy = etree.SubElement(root, f"{N}MoRong")
    decoy.set("ID", root.find(f"{N}NoiDung").get("Id"))
    check(pki, root, Reason.FORMAT_FAILURE)


def test_wrapped_root(pki: TestPKI) -> None:
    """Signature by Id over the whole packet; the signed packet is wrapped inside a forged one."""
    original = packet()
    original.set("Id", "goi-tin")
    signed = etree.fromstring(xmlsec_sign(original, pki["signer"], uri="#goi-tin", id_attr=(original, "Id")))
    assert verify_xml(etree.tostring(signed), pki.policy())[0].verdict is Verdict.PASSED
    forged = copy.deepcopy(signed)
    del forged.attrib["Id"]
    forged.remove(forged.find(f"{D}Signature"))
    forged.find(f"{N}NoiDung/{N}HoSo/{N}MaTTHC").text = FORGED_PROCEDURE
    forged.append(signed.find(f"{D}Signature"))
    etree.SubElement(forged, f"{N}MoRong").append(signed)
    # Two signatures now exist? No: the signature moved to the forged root, the wrapped copy has none.
    check(pki, forged, Reason.POLICY_FAILURE)


def test_wrapped_whole_document_signature(pki: TestPKI) -> None:
    """URI="" signatures cover the document, whatever wraps it: wrapping changes the digest."""
    signed = signed_tree(pki, "packet")
    forged = forged_body(signed.find(f"{N}NoiDung"))
    outer = etree.Element(f"{N}GoiTin")
    for child in signed:
        if child.tag not in (f"{N}NoiDung", f"{D}Signature"):
            outer.append(copy.deepcopy(child))
    outer.append(forged)
    inner = copy.deepcopy(signed)
    inner.remove(inner.find(f"{D}Signature"))
    etree.SubElement(outer, f"{N}MoRong").append(inner)
    outer.append(signed.find(f"{D}Signature"))
    check(pki, outer, Reason.HASH_FAILURE)


def test_sibling_referenced(pki: TestPKI) -> None:
    """A valid signature over a sibling element (here the body's HoSo), not the root or NoiDung."""
    root = packet()
    target = root.find(f"{N}NoiDung/{N}HoSo")
    target.set("Id", "ho-so")
    signed = xmlsec_sign(root, pki["signer"], uri="#ho-so", id_attr=(target, "Id"))
    report, element = verify_xml(signed, pki.policy())
    assert report.signatures[0].reason is Reason.POLICY_FAILURE and element is None
    header = packet()
    code = header.find(f"{N}MaGoiTin")
    code.set("Id", "ma")
    report, element = verify_xml(xmlsec_sign(header, pki["signer"], uri="#ma", id_attr=(code, "Id")), pki.policy())
    assert report.signatures[0].reason is Reason.POLICY_FAILURE and element is None


def test_body_signature_covers_only_the_body(pki: TestPKI) -> None:
    """Harmless by construction: with a body signature the header may change, and the gateway
    is handed the NoiDung element alone, never the (unsigned) header."""
    root = signed_tree(pki, "body")
    root.find(f"{N}NoiNhan").text = "KHAC"
    report, element = verify_xml(etree.tostring(root), pki.policy())
    assert report.verdict is Verdict.PASSED
    assert element.tag == f"{N}NoiDung" and "NoiDung" in report.signatures[0].covered


@pytest.mark.parametrize("cover", ["packet", "body"])
def test_comment_inserted_into_signed_text_is_harmless(pki: TestPKI, cover: str) -> None:
    """Comments are not signed (C14N without comments) and the gateway's parser drops them, so the
    text the gateway reads is the signed text, whole — no truncation at a comment."""
    signed = sign_xml(packet_bytes(), pki.signer(), cover=cover)
    tampered = signed.replace(b"<MaTTHC>1.005129</MaTTHC>", b"<MaTTHC>1.00<!-- -->5129</MaTTHC>")
    assert tampered != signed
    report, element = verify_xml(tampered, pki.policy())
    assert report.verdict is Verdict.PASSED
    assert element.find(f".//{N}MaTTHC").text == "1.005129"


def test_comment_in_text_when_signed_is_read_whole(pki: TestPKI) -> None:
    """Signed by someone whose text holds a comment: the text covered (and read) is the whole text."""
    raw = packet_bytes().replace(b"<MaTTHC>1.005129</MaTTHC>", b"<MaTTHC>1.00<!--x-->5129</MaTTHC>")
    root = etree.fromstring(raw)  # comments kept, as another signer's library would
    signed = xmlsec_sign(root, pki["signer"])
    report, element = verify_xml(signed, pki.policy())
    assert report.verdict is Verdict.PASSED
    assert element.find(f".//{N}MaTTHC").text == "1.005129"


def test_text_outside_elements_changed(pki: TestPKI) -> None:
    signed = sign_xml(packet_bytes(), pki.signer())
    tampered = signed.replace(b"<MaTTHC>1.005129</MaTTHC>", b"<MaTTHC>1.005129 </MaTTHC>")
    report, _ = verify_xml(tampered, pki.policy())
    assert report.signatures[0].reason is Reason.HASH_FAILURE


def test_swapped_key_info_certificate(pki: TestPKI) -> None:
    """KeyInfo swapped for another trusted signer's (EC) certificate: refused, the RSA signature is not its."""
    root = signed_tree(pki, "packet")
    other = etree.fromstring(sign_xml(packet_bytes(), pki.signer("ec384")))
    signature = root.find(f"{D}Signature")
    signature.replace(signature.find(f"{D}KeyInfo"), other.find(f"{D}Signature/{D}KeyInfo"))
    check(pki, root, Reason.SIG_CRYPTO_FAILURE)


def test_swapped_key_info_rsa_for_rsa(pki: TestPKI) -> None:
    root = signed_tree(pki, "packet")
    other = etree.fromstring(sign_xml(packet_bytes(), pki.signer("revoked")))
    signature = root.find(f"{D}Signature")
    signature.replace(signature.find(f"{D}KeyInfo"), other.find(f"{D}Signature/{D}KeyInfo"))
    check(pki, root, Reason.SIG_CRYPTO_FAILURE)


def test_resigned_with_untrusted_key_and_same_subject(pki: TestPKI) -> None:
    """An attacker re-signs the forged packet with a certificate whose subject equals the real signer's."""
    tampered = packet_bytes().replace(b"<MaTTHC>1.005129", f"<MaTTHC>{FORGED_PROCEDURE}".encode())
    report, element = verify_xml(sign_xml(tampered, pki.signer("rogue_signer", chain=False)), pki.policy())
    assert report.verdict is Verdict.INDETERMINATE
    assert report.signatures[0].reason is Reason.NO_CERTIFICATE_CHAIN_FOUND
    assert report.signatures[0].signer == verify_xml(sign_xml(packet_bytes(), pki.signer()),
                                                     pki.policy())[0].signatures[0].signer


def test_second_reference_is_refused(pki: TestPKI) -> None:
    root = signed_tree(pki, "body")
    signed_info = root.find(f"{D}Signature/{D}SignedInfo")
    extra = copy.deepcopy(signed_info.find(f"{D}Reference"))
    extra.set("URI", "")
    signed_info.append(extra)
    check(pki, root, Reason.POLICY_FAILURE)


def test_extra_signature_elsewhere(pki: TestPKI) -> None:
    root = signed_tree(pki, "packet")
    decoy = copy.deepcopy(root.find(f"{D}Signature"))
    root.find(f"{N}NoiDung").append(decoy)
    check(pki, root, Reason.POLICY_FAILURE)
