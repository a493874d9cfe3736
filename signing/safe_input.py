"""Untrusted bytes before any parser: size, UTF-8, and the error every hardened reader raises.

``signing`` reads signed documents itself (XML-DSig, JWS) and owns its hardened readers
(``safe_xml``, ``safe_json``); the gateway's validator builds on them. Each refusal is an
``Unreadable`` with a stable rule code and its message in Vietnamese and English.
"""

import re
from typing import Any, NamedTuple

from signing import messages

# The readers' rule codes and messages; the validator's catalogue includes them as they are.
MESSAGES = messages.READING


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
    vi_at, en_at = messages.NOTES["reading.at"]
    return Bilingual(vi_at.format(line=line, column=column, detail=vi), en_at.format(line=line, column=column, detail=detail))
