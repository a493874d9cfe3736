"""Reading untrusted XML: no DTD, no entities, no network, no comments or processing instructions
kept, libxml2's own depth and text limits; UTF-8 only. Every failure is an ``Unreadable``.

The one hardened XML reader of the project: signatures are verified on what it returns, and the
gateway's validator (``gateway.validate.wellformed``) reads packets through it.
"""

import re
import threading

from lxml import etree

from signing import messages
from signing.safe_input import Unreadable, explained, problems

_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)")
_local = threading.local()  # lxml parsers are not thread-safe


def hardened_parser() -> etree.XMLParser:
    """This thread's parser with every dangerous feature off."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                                 huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)
        _local.parser = parser
    return parser


# libxml2's words for the usual XML syntax errors, as a one-stop official would read them (signing.messages).
_XML_PROBLEMS = problems(messages.XML_PROBLEMS)


def parse_any_xml(data: bytes) -> etree._Element:
    """Any document's root (packets, signature test vectors, receipts). Size is checked by the caller
    (``safe_input.check_size``)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable("xml.encoding", declared="UTF-16")
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise Unreadable("xml.encoding", declared=declared.group(1).decode())
    # A DTD is never needed and is the door to XXE and entity bombs: refuse it before parsing.
    if b"!" in data and _DTD.search(data):  # a one-byte search first: far faster than the regex
        raise Unreadable("xml.doctype")
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        if "depth" in str(exc).lower():
            raise Unreadable("xml.too_deep", line=line, column=column) from None
        if "not proper UTF-8" in str(exc) or "Input is not proper" in str(exc):
            raise Unreadable("text.not_utf8", line=line, column=column, offset="?") from None
        detail = explained(re.sub(r", line \d+, column \d+.*$", "", str(exc)), _XML_PROBLEMS, line, column)
        raise Unreadable("xml.malformed", line=line, column=column, detail=detail) from None
    return root
