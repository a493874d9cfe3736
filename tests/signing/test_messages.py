"""signing's catalogue (signing.messages): both languages for every sentence, NFC text, and the readers'
parser-error readings usable as they are."""

import re
from string import Formatter
import unicodedata

import pytest

from signing.messages import JSON_PROBLEMS, NOTES, READING, XML_PROBLEMS, said
from signing.safe_input import MESSAGES, Unreadable


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


@pytest.mark.parametrize("rule", sorted({**READING, **NOTES}))
def test_each_sentence_has_both_languages_in_nfc(rule: str) -> None:
    vi, en = {**READING, **NOTES}[rule]
    assert vi.strip() and en.strip() and vi != en
    assert unicodedata.normalize("NFC", vi) == vi and unicodedata.normalize("NFC", en) == en


@pytest.mark.parametrize("rule", sorted(READING))
def test_a_readers_refusal_names_the_same_fields_in_both_languages(rule: str) -> None:
    vi, en = READING[rule]
    assert _fields(vi) == _fields(en), rule


@pytest.mark.parametrize("readings", [JSON_PROBLEMS, XML_PROBLEMS])
def test_each_parser_reading_uses_only_its_patterns_groups(readings: dict[str, str]) -> None:
    for pattern, reading in readings.items():
        groups = re.compile(pattern).groups
        assert {int(name) for name in _fields(reading)} <= set(range(groups)), pattern
        assert unicodedata.normalize("NFC", reading) == reading


def test_a_report_line_is_vietnamese_then_english() -> None:
    assert said("revocation.gap", subject="CN=A", issuer="CN=B") == \
        "revocation: không có CRL hoặc OCSP — no CRL or OCSP for CN=A (issuer CN=B)"


def test_the_readers_refuse_in_the_catalogues_words() -> None:
    assert MESSAGES is READING
    refused = Unreadable("input.too_large", size=10, limit=5)
    assert (refused.message_vi, refused.message_en) == (
        "Gói tin có kích thước 10 byte, vượt quá giới hạn 5 byte.", "The packet is 10 bytes, over the limit of 5 bytes.")
