"""Masking the identifiers that certificates and signature engines quote (citizen ID numbers,
tax codes, phones) before they reach a report or a log. The gateway's wider masking
(``gateway.pii``: names, addresses, packets' personal fields) builds on these two."""

import re

_DIGITS = re.compile(r"\d{9,13}")


def mask_identifier(value: str) -> str:
    """``001099001234`` → ``0010****1234``; short values keep less."""
    if len(value) >= 12:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    if len(value) >= 6:
        return value[:2] + "*" * (len(value) - 4) + value[-2:]
    return "*" * len(value)


def mask_digits_in(text: str) -> str:
    """Masks every run of 9–13 digits (ID numbers, phones) inside free text, e.g. a log line."""
    return _DIGITS.sub(lambda m: mask_identifier(m.group()), text)
