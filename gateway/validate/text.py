"""Unicode rules (TCVN 6909:2001): text must be real Unicode characters, stored in NFC."""

import re
from typing import Any
import unicodedata

from gateway.validate.messages import message
from gateway.validate.report import Issue
from gateway.validate.schema import field_label

# C0/C1 controls other than tab and newlines, surrogates (only reachable through JSON
# escapes) and non-characters: never text, often the trace of a broken conversion.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def needs_check(text: str, has_escapes: bool) -> bool:
    """False when the whole document is already NFC and no escape can hide a character."""
    return has_escapes or not unicodedata.is_normalized("NFC", text)


def normalise(data: Any, path: str = "") -> tuple[Any, list[Issue], list[Issue]]:
    """Returns ``data`` with every string in NFC, plus (errors, warnings)."""
    errors: list[Issue] = []
    warnings: list[Issue] = []

    def walk(value: Any, at: str) -> Any:
        if isinstance(value, str):
            bad = _NOT_TEXT.search(value)
            if bad:
                vi, en = message("text.not_unicode", field=field_label(at), code=f"{ord(bad.group()):04X}")
                errors.append(Issue("wellformed", at, "text.not_unicode", vi, en))
                return value
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
