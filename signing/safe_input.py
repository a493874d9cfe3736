"""Untrusted bytes before any parser: size, UTF-8, and the error every hardened reader raises.

``signing`` reads signed documents itself (XML-DSig, JWS) and owns its hardened readers
(``safe_xml``, ``safe_json``); the gateway's validator builds on them. Each refusal is an
``Unreadable`` with a stable rule code and its message in Vietnamese and English.
"""

import re
from typing import Any, NamedTuple

# The readers' rule codes and messages; the validator's catalogue includes them as they are.
MESSAGES: dict[str, tuple[str, str]] = {
    "input.empty": ("Gói tin rỗng.", "The packet is empty."),
    "input.too_large": ("Gói tin có kích thước {size} byte, vượt quá giới hạn {limit} byte.",
                        "The packet is {size} bytes, over the limit of {limit} bytes."),
    "text.not_utf8": ("Gói tin không phải văn bản UTF-8 hợp lệ (byte lỗi ở vị trí {offset}); dữ liệu phải dùng Unicode theo TCVN 6909:2001.",
                      "The packet is not valid UTF-8 (bad byte at offset {offset}); text must be Unicode (TCVN 6909:2001)."),
    "text.not_unicode": ("Trường {field} chứa ký tự không hợp lệ trong Unicode (U+{code}).",
                         "Field {field} contains a character that is not valid Unicode text (U+{code})."),
    "xml.encoding": ("Gói tin XML phải mã hóa UTF-8, không phải {declared}.",
                     "An XML packet must be encoded in UTF-8, not {declared}."),
    "xml.doctype": ("Không chấp nhận khai báo DOCTYPE hoặc ENTITY trong gói tin (chống tấn công XXE, bom thực thể).",
                    "DOCTYPE and ENTITY declarations are refused (XXE and entity-expansion protection)."),
    "xml.too_deep": ("Tài liệu XML lồng nhau quá sâu.", "The XML document is nested too deeply."),
    "xml.malformed": ("Tài liệu XML không đúng cú pháp: {detail}", "The XML document is malformed: {detail}"),
    "json.malformed": ("Tài liệu JSON không đúng cú pháp: {detail}", "The JSON document is malformed: {detail}"),
    "json.too_deep": ("Tài liệu JSON lồng nhau quá sâu.", "The JSON document is nested too deeply."),
    "json.duplicate_key": ("Khóa \"{key}\" xuất hiện nhiều lần trong cùng một đối tượng JSON.",
                           "Key \"{key}\" appears more than once in the same JSON object."),
    "json.not_number": ("Giá trị {token} không được phép trong JSON.", "{token} is not allowed in JSON."),
    "json.not_object": ("Gói tin JSON phải là một đối tượng (GoiTin).", "A JSON packet must be an object (GoiTin)."),
}


class Bilingual(NamedTuple):
    """A message value with a Vietnamese and an English form (a parser's explained error)."""

    vi: str
    en: str


def _printable(text: str) -> str:
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


class Unreadable(Exception):
    """The document cannot be read: ``rule`` says why, ``path`` where (a JSON member), ``line`` and
    ``column`` where the parser gives them."""

    def __init__(self, rule: str, *, line: int | None = None, column: int | None = None, path: str = "",
                 **values: Any) -> None:
        vi, en = MESSAGES[rule]
        self.rule, self.line, self.column, self.path = rule, line, column, path
        # A lone surrogate (a duplicate key's escape) cannot be written out as UTF-8: kept as an escape.
        self.message_vi = _printable(vi.format(**{k: v.vi if isinstance(v, Bilingual) else v
                                                  for k, v in values.items()}))
        self.message_en = _printable(en.format(**{k: v.en if isinstance(v, Bilingual) else v
                                                  for k, v in values.items()}))
        super().__init__(self.message_en)


def check_size(data: bytes, max_bytes: int) -> None:
    if not data or data.isspace():  # as ``not data.strip()``, without copying the packet
        raise Unreadable("input.empty")
    if len(data) > max_bytes:
        raise Unreadable("input.too_large", size=len(data), limit=max_bytes)


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable("text.not_utf8", offset=exc.start) from None


Problems = tuple[tuple[re.Pattern[str], str], ...]


def problems(readings: dict[str, str]) -> Problems:
    """Parser message pattern → Vietnamese reading (``{0}``… are the pattern's groups)."""
    return tuple((re.compile(pattern), reading) for pattern, reading in readings.items())


def explained(detail: str, known: Problems, line: int | None, column: int | None) -> Bilingual:
    """A parser's English ``detail`` with a Vietnamese reading, both led by the place when known."""
    vi = detail
    for pattern, reading in known:
        found = pattern.search(detail)
        if found:
            vi = reading.format(*found.groups())
            break
    if line is None:
        return Bilingual(vi, detail)
    return Bilingual(f"dòng {line}, cột {column}: {vi}", f"line {line}, column {column}: {detail}")
