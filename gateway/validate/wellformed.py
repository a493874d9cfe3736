"""Layer 1: reading untrusted bytes safely.

XML: no DTD, no entities, no network, no comments or processing instructions kept,
libxml2's own depth and text limits; UTF-8 only. JSON: UTF-8 only, no duplicate
keys, no NaN/Infinity, bounded depth. Every failure is an ``Issue`` with line and
column where the parser gives them, never an exception to the caller.
"""

from collections.abc import Iterator
import json
import re
import sys
import threading
from typing import Any

from lxml import etree

from gateway.packets.schema_gen import NAMESPACE
from gateway.validate.messages import Label, message
from gateway.validate.report import Issue
from gateway.validate.schema import field_label


class Unreadable(Exception):
    """The document cannot be read; ``issue`` says why."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message_en)
        self.issue = issue


def _fail(rule: str, line: int | None = None, column: int | None = None, **values: Any) -> Unreadable:
    vi, en = message(rule, **values)
    return Unreadable(Issue("wellformed", "", rule, vi, en, line=line, column=column))


Problems = tuple[tuple[re.Pattern[str], str], ...]


def _problems(readings: dict[str, str]) -> Problems:
    """Parser message pattern → Vietnamese reading (``{0}``… are the pattern's groups)."""
    return tuple((re.compile(pattern), reading) for pattern, reading in readings.items())


def _explained(detail: str, problems: Problems, line: int | None, column: int | None) -> Label:
    """A parser's English ``detail`` with a Vietnamese reading, both led by the place when known."""
    vi = detail
    for pattern, reading in problems:
        found = pattern.search(detail)
        if found:
            vi = reading.format(*found.groups())
            break
    if line is None:
        return Label(vi, detail)
    return Label(f"dòng {line}, cột {column}: {vi}", f"line {line}, column {column}: {detail}")


def check_size(data: bytes, max_bytes: int) -> None:
    if not data or data.isspace():  # as ``not data.strip()``, without copying the packet
        raise _fail("input.empty")
    if len(data) > max_bytes:
        raise _fail("input.too_large", size=len(data), limit=max_bytes)


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail("text.not_utf8", offset=exc.start) from None


# --- XML -------------------------------------------------------------------------------

_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)")
_local = threading.local()  # lxml parsers are not thread-safe


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                                 huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)
        _local.parser = parser
    return parser


# libxml2's words for the usual XML syntax errors, as a one-stop official would read them.
_XML_PROBLEMS = _problems({
    r"Premature end of data in tag (\S+)": "tài liệu kết thúc khi thẻ <{0}> chưa đóng (có thể bị cắt cụt)",
    r"Opening and ending tag mismatch: (\S+) line \d+ and (\S+)": "thẻ mở <{0}> lại được đóng bằng </{1}>",
    r"Couldn't find end of Start Tag (\S+)": "thẻ mở <{0}> thiếu dấu >",
    r"Extra content at the end of the document": "có nội dung thừa sau phần tử gốc",
    r"xmlParseEntityRef: no name": "ký tự & trong văn bản phải viết là &amp;",
    r"StartTag: invalid element name": "tên thẻ không hợp lệ (hoặc tài liệu bị cắt cụt)",
    r"Start tag expected, '<' not found": "không tìm thấy phần tử gốc",
    r"expected '>'": "thiếu dấu >",
    r"error parsing attribute name": "thẻ thiếu dấu > hoặc thuộc tính sai cú pháp",
})


def parse_xml(data: bytes) -> etree._Element:
    """The root element of a packet, or ``Unreadable``. Size is checked by the caller."""
    root = parse_any_xml(data)
    if root.tag != f"{{{NAMESPACE}}}GoiTin":
        raise _fail("xml.namespace", line=root.sourceline, namespace=NAMESPACE, found=root.tag)
    return root


def parse_any_xml(data: bytes) -> etree._Element:
    """Any document's root through the same hardened reader (signature test vectors, receipts)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail("xml.encoding", declared="UTF-16")
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise _fail("xml.encoding", declared=declared.group(1).decode())
    # A DTD is never needed and is the door to XXE and entity bombs: refuse it before parsing.
    if b"!" in data and _DTD.search(data):  # a one-byte search first: far faster than the regex
        raise _fail("xml.doctype")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        if "depth" in str(exc).lower():
            raise _fail("xml.too_deep", line=line, column=column) from None
        if "not proper UTF-8" in str(exc) or "Input is not proper" in str(exc):
            raise _fail("text.not_utf8", line=line, column=column, offset="?") from None
        detail = _explained(re.sub(r", line \d+, column \d+.*$", "", str(exc)), _XML_PROBLEMS, line, column)
        raise _fail("xml.malformed", line=line, column=column, detail=detail) from None
    return root


# --- JSON ------------------------------------------------------------------------------

class _DuplicateKey(Exception):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _constant(token: str) -> Any:
    raise ValueError(token)


# Packets nest about eight levels deep. Python's own limit (~1,000) is no bound: text
# normalisation walks the data recursively and would hit it on hostile input.
MAX_JSON_DEPTH = 64


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _members(item: dict[str, Any] | list[Any], path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, key or None, value) of each member of an object or array."""
    if isinstance(item, dict):
        return ((f"{path}/{key}" if path else key, key, child) for key, child in item.items())
    return ((f"{path}[{i}]", None, child) for i, child in enumerate(item, 1))


def _containers(value: Any) -> Iterator[tuple[Any, int, str]]:
    """Every object and array in ``value`` with its depth and path, without recursion."""
    stack = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        yield item, depth, path
        stack.extend((child, depth + 1, at) for at, _, child in _members(item, path)
                     if isinstance(child, (dict, list)))


def _lone_surrogate(value: Any) -> Issue | None:
    """A key or string holding a lone surrogate (from an escape such as ``\\uD800``), if any."""
    for item, _, path in _containers(value):
        for at, key, child in _members(item, path):
            for text in (key, child):
                bad = _SURROGATE.search(text) if isinstance(text, str) else None
                if bad:
                    at = at.encode("utf-8", "backslashreplace").decode()
                    vi, en = message("text.not_unicode", field=field_label(at), code=f"{ord(bad.group()):04X}")
                    return Issue("wellformed", at, "text.not_unicode", vi, en)
    return None


# Python's words for a JSON syntax error, as a one-stop official would read them.
_JSON_PROBLEMS = _problems({
    "Expecting value": "thiếu giá trị hoặc giá trị không hợp lệ (có thể thừa dấu phẩy trước dấu đóng ngoặc)",
    "Expecting property name enclosed in double quotes": "cần tên trường đặt trong dấu ngoặc kép (có thể thừa dấu phẩy ở cuối)",
    "Expecting ':' delimiter": "thiếu dấu hai chấm sau tên trường",
    "Expecting ',' delimiter": "thiếu dấu phẩy giữa hai phần tử",
    "Unterminated string starting at": "chuỗi văn bản thiếu dấu ngoặc kép đóng (tài liệu có thể bị cắt cụt)",
    "Invalid control character at": "chuỗi văn bản chứa ký tự điều khiển",
    r"Invalid \\escape": "chuỗi thoát bắt đầu bằng dấu \\ không hợp lệ",
    r"Invalid \\uXXXX escape": "mã \\uXXXX không hợp lệ",
    "Extra data": "có dữ liệu thừa sau đối tượng JSON",
})


def parse_json(text: str) -> dict[str, Any]:
    """The packet object, or ``Unreadable``. Takes decoded text: see ``decode_utf8``."""
    value = parse_json_document(text)
    if not isinstance(value, dict):
        raise _fail("json.not_object")
    return value


def parse_json_document(text: str) -> dict[str, Any] | list[Any]:
    """An object or an array (the classic protocol's bare-array body), read as hardened as a packet."""
    try:
        value = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_object, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        detail = _explained(exc.msg, _JSON_PROBLEMS, exc.lineno, exc.colno)
        raise _fail("json.malformed", line=exc.lineno, column=exc.colno, detail=detail) from None
    except _DuplicateKey as exc:
        raise _fail("json.duplicate_key", key=exc.args[0]) from None
    except RecursionError:
        raise _fail("json.too_deep") from None
    except ValueError as exc:  # NaN, Infinity; or a number of more digits than Python converts
        if exc.args[0] in ("NaN", "Infinity", "-Infinity"):
            raise _fail("json.not_number", token=exc.args[0]) from None
        raise _fail("json.malformed", detail=f"a number has more than {sys.get_int_max_str_digits()} digits") from None
    if not isinstance(value, (dict, list)):
        raise _fail("json.not_object")
    # Depth is at most the number of brackets: most packets need no walk at all.
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH and any(
            depth > MAX_JSON_DEPTH for _, depth, _ in _containers(value)):
        raise _fail("json.too_deep")
    # A lone surrogate escape makes a string that is not Unicode, which no later layer can
    # even pass on (the JSON Schema validator cannot take it): refuse it here.
    if _SURROGATE_ESCAPE.search(text):
        issue = _lone_surrogate(value)
        if issue is not None:
            raise Unreadable(issue)
    return value
