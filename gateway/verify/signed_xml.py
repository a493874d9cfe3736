"""The XML the intake acts on, taken from the element a verified signature covers.

``signing.xmldsig.verify_xml`` returns the covered element of *its own* parse: the GoiTin root
(whole packet) or the one /GoiTin/NoiDung. Validation reads the document rebuilt from that tree —
never a second reading of the received bytes — minus the enveloped ds:Signature, which is not
signed data (the packet model ignores it anyway).
"""

from lxml import etree

from signing.xmldsig import DS, NOIDUNG

SIGNATURE = f"{{{DS}}}Signature"


class NotTheSignedBody(ValueError):
    """The body is signed, but the packet holds another NoiDung beside it (a wrapping attempt)."""


def _drop(element: etree._Element) -> None:
    """Removes ``element`` but keeps the text after it (lxml would drop its tail with it)."""
    parent = element.getparent()
    assert parent is not None  # noqa: S101 - narrows the type: a signature inside a document has a parent
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def signed_content(covered: etree._Element) -> bytes:
    """The packet to validate, store-wise identical to what was received, rebuilt from ``covered``'s tree."""
    root = covered.getroottree().getroot()
    if covered is not root:
        bodies = [child for child in root if child.tag == NOIDUNG]
        if bodies != [covered]:
            raise NotTheSignedBody(f"{len(bodies)} NoiDung elements; only the signed one may be there")
    for signature in [child for child in root if child.tag == SIGNATURE]:
        _drop(signature)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
