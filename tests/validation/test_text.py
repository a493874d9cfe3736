"""The byte-level shortcut of the NFC check: it may only skip documents that are NFC."""

import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.validate import text

# Code points whose UTF-8 bytes the shortcut passes: leads below 0xCC, and E1 BA / E1 BB.
SAFE = [*range(0x0300), *range(0x1E80, 0x1F00)]


def second_of_a_pair() -> set[int]:
    """Characters that compose with the one before them (NFC quick check "maybe")."""
    found = set()
    for code in range(sys.maxunicode + 1):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            found.add(int(parts[1], 16))
    return found


def test_the_bytes_the_shortcut_passes_are_of_characters_nfc_in_any_company() -> None:
    composing = second_of_a_pair()
    for code in SAFE:
        if 0xD800 <= code <= 0xDFFF:
            continue
        character = chr(code)
        assert unicodedata.combining(character) == 0, hex(code)
        assert unicodedata.normalize("NFC", character) == character, hex(code)
        assert code not in composing, hex(code)


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(st.sampled_from("ăâđêôơưàảãáạấầẩẫậếềểễệốồổỗộớờởỡợứừửữựỳỷỹýỵ"),
                         st.characters(codec="utf-8", exclude_categories=("Cs",)),
                         st.sampled_from("\u0301\u0300\u0303\u0309\u0323\u0302\u0306\u031b"))))
def test_the_shortcut_never_passes_a_document_that_is_not_nfc(value: str) -> None:
    data = value.encode()
    if not text.needs_check(data, value, has_escapes=False):
        assert unicodedata.is_normalized("NFC", value)
    assert text.needs_check(data, value, has_escapes=True)
