"""Masking of personal data (citizen IDs, phones, names, addresses) for reports, logs and the console."""

import re

_DIGITS = re.compile(r"\d{9,13}")


def mask_identifier(value: str) -> str:
    """``001099001234`` → ``0010****1234``; short values keep less."""
    if len(value) >= 12:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    if len(value) >= 6:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return "*" * len(value)


def mask_text(value: str) -> str:
    """Keeps each word's first letter: ``Nguyễn Văn An`` → ``N***** V** A*``."""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split(" "))


def mask(value: object) -> str:
    """Masks a personal value for display; digits-only values as identifiers, the rest as text."""
    text = str(value)
    compact = text.replace(" ", "").replace(".", "").replace("+", "").replace("-", "")
    if compact.isdigit():
        return mask_identifier(compact)
    if "@" in text:
        local, _, domain = text.partition("@")
        return local[:1] + "***@" + domain
    return mask_text(text)


def mask_digits_in(text: str) -> str:
    """Masks every run of 9–13 digits (ID numbers, phones) inside free text, e.g. a log line."""
    return _DIGITS.sub(lambda m: mask_identifier(m.group()), text)
