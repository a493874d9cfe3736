"""Unicode rules (TCVN 6909:2001): text must be real Unicode characters, stored in NFC."""

import re
from typing import Any, Literal
import unicodedata

from gateway.validate.messages import message
from gateway.validate.report import Issue
from gateway.validate.schema import field_label

# C0/C1 controls other than tab and newlines, surrogates (only reachable through JSON
# escapes) and non-characters: never text, often the trace of a broken conversion.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# Bidirectional controls (embeddings, overrides, isolates, marks): they reorder how text is displayed, so a
# name can be shown as another (U+202E); never needed in Vietnamese data.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BIDI_UTF8 = re.compile(rb"\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]")
Bidi = Literal["refuse", "strip"]  # [text] bidi: an error, or removed with a warning

# UTF-8 bytes that only start or continue characters which are NFC whatever surrounds them
# (canonical combining class 0, NFC quick check "yes"; tests/validation/test_text.py): ASCII,
# continuation bytes, lead bytes up to U+02FF (Latin-1, Latin Extended-A and -B: đ ơ ư à â ê ô…),
# and E1 when followed by BA or BB: U+1E80–U+1EFF, where the letters with two marks are (ấ ầ ẩ ẫ ậ…).
_NFC_BYTES = bytes(range(0xCC)) + b"\xe1"
_OTHER_E1 = re.compile(rb"\xe1[^\xba\xbb]")


def needs_check(data: bytes, text: str | None, has_escapes: bool) -> bool:
    """False when the whole document (``data``, decoded as ``text`` if already done; it is
    valid UTF-8) is already NFC and no escape can hide a character."""
    if has_escapes or _BIDI_UTF8.search(data):
        return True
    # Vietnamese text is almost always all NFC-safe bytes: two C-speed scans instead of a
    # look-up per character.
    if not data.translate(None, _NFC_BYTES) and not _OTHER_E1.search(data):
        return False
    return not unicodedata.is_normalized("NFC", data.decode() if text is None else text)


def normalise(data: Any, path: str = "", bidi: Bidi = "refuse") -> tuple[Any, list[Issue], list[Issue]]:
    """Returns ``data`` with every string in NFC, plus (errors, warnings). Bidirectional controls are an
    error, or with ``bidi="strip"`` removed from what the gateway reads (the bytes received are kept as
    signed) with a warning."""
    errors: list[Issue] = []
    warnings: list[Issue] = []

    def walk(value: Any, at: str) -> Any:
        if isinstance(value, str):
            bad = _NOT_TEXT.search(value)
            if bad:
                vi, en = message("text.not_unicode", field=field_label(at), code=f"{ord(bad.group()):04X}")
                errors.append(Issue("wellformed", at, "text.not_unicode", vi, en))
                return value
            if found := _BIDI.search(value):
                code = f"{ord(found.group()):04X}"
                if bidi == "refuse":
                    vi, en = message("text.bidi", field=field_label(at), code=code)
                    errors.append(Issue("wellformed", at, "text.bidi", vi, en))
                    return value
                vi, en = message("text.bidi_removed", field=field_label(at), code=code)
                warnings.append(Issue("wellformed", at, "text.bidi_removed", vi, en))
                value = _BIDI.sub("", value)
            if not unicodedata.is_normalized("NFC", value):
                vi, en = message("text.nfc", field=field_label(at))
                warnings.append(Issue("wellformed", at, "text.nfc", vi, en))
                return unicodedata.normalize("NFC", value)
            return value
        if isinstance(value, dict):
            return {key: walk(item, f"{at}/{key}" if at else key) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{at}[{i}]") for i, item in enumerate(value, 1)]
        return value

    return walk(data, path), errors, warnings
