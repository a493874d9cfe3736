"""Masking of personal data (citizen IDs, phones, names, addresses) for reports, logs and the console."""

from collections.abc import Iterable
from functools import cache
import logging
import re
import traceback
from typing import Any

from signing.masking import mask_digits_in, mask_identifier

__all__ = ["mask", "mask_digits_in", "mask_free_text", "mask_identifier", "mask_logs", "mask_text", "personal_values",
           "scrub"]


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


# Phones and ID numbers as peers write them: 9–13 digits, maybe "+84", maybe grouped by spaces or dots
# ("0912 345 678", "0912.345.678"). Runs joined by dashes are left alone: they are parts of packet ids
# (UUIDs), dossier codes and dates, which operators search logs for.
_NUMBER = re.compile(r"(?<![\w+-])\+?\d(?:[ .]?\d){8,12}(?![\w-])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _mask_number(match: re.Match[str]) -> str:
    return mask_identifier(re.sub(r"\D", "", match.group()))


@cache
def _personal_fields() -> frozenset[str]:
    """The names of the model's fields whose format is personal (HoTen, DiaChi, SoCMND, Email …)."""
    from gateway.packets.catalogue import all_records, fields_of
    from gateway.packets.envelope import GoiTin

    return frozenset(spec.name for record in all_records(GoiTin) for spec in fields_of(record) if spec.is_pii)


@cache
def _field_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    names = "|".join(sorted(_personal_fields(), key=len, reverse=True))
    # <HoTen>…</HoTen> (any namespace prefix) and "HoTen": "…" / 'HoTen': '…' (JSON, a Python repr)
    element = re.compile(rf"(<(?:[\w-]+:)?(?:{names})\b[^>]*>)([^<]*)(</)")
    member = re.compile(rf"""(["'](?:{names})["']\s*:\s*)(["'])((?:\\.|(?!\2).)*)\2""")
    return element, member


def personal_values(record: object) -> set[str]:
    """Every personal value of a typed packet or record (fields whose format is personal), as text."""
    from pydantic import BaseModel

    from gateway.packets.catalogue import fields_of

    found: set[str] = set()
    if not isinstance(record, BaseModel):
        return found
    for spec in fields_of(type(record)):
        value = getattr(record, spec.name, None)
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if spec.record is not None:
                found |= personal_values(item)
            elif spec.is_pii and str(item).strip():
                found.add(str(item).strip())
    return found


def mask_free_text(text: str) -> str:
    """Personal data recognisable without knowing whose: a quoted packet's personal fields by name (XML
    elements, JSON members), any e-mail address, phone or ID number. Layout (line breaks) is kept."""
    element, member = _field_patterns()
    text = element.sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), text)
    text = member.sub(lambda m: m.group(1) + m.group(2) + mask(m.group(3)) + m.group(2), text)
    text = _EMAIL.sub(lambda m: mask(m.group()), text)
    return _NUMBER.sub(_mask_number, text)


def scrub(text: str, known: Iterable[str] = (), limit: int = 500) -> str:
    """A peer's words made fit to store and log: the personal values of the packets it was about
    (``known``) masked wherever they appear, then what ``mask_free_text`` recognises; on one line, cut
    to ``limit`` characters."""
    text = " ".join(str(text)[:65536].split())
    for value in sorted({" ".join(v.split()) for v in known if len(v.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), lambda m: mask(m.group()), text, flags=re.IGNORECASE)
    text = mask_free_text(text)
    return text if len(text) <= limit else text[:limit] + "…"


def mask_logs() -> None:
    """Every log record of this process, from any logger (uvicorn's too), made with its message and
    traceback passed through ``mask_free_text``: a safety net under the masking done where data is
    known to be personal. Installed once by the commands that run the gateway."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_personal_data", False):
        return

    def masked(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            record.msg, record.args = mask_free_text(record.getMessage()), ()
            if record.exc_info and record.exc_info[0] is not None:
                record.exc_text = mask_free_text("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        except Exception:  # noqa: BLE001,S110 - a malformed call is logged as it would have been
            pass
        return record

    masked.masks_personal_data = True  # type: ignore[attr-defined]  # a marker on the function: installed once
    logging.setLogRecordFactory(masked)
