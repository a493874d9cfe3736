"""The API's and the CLI's catalogue (gateway.messages): both languages, the same fields in each, NFC text."""

import importlib
from pathlib import Path
from string import Formatter
import unicodedata

import pytest

from gateway.messages import MESSAGES, line, refusal

# each connector's own sentences join the catalogue when its messages.py is imported
for _path in sorted((Path(__file__).resolve().parents[1] / "connectors").glob("*/messages.py")):
    importlib.import_module(f"connectors.{_path.parent.name}.messages")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


@pytest.mark.parametrize("rule", sorted(MESSAGES))
def test_each_message_has_both_languages_with_the_same_fields(rule: str) -> None:
    vi, en = MESSAGES[rule]
    assert vi.strip() and en.strip() and vi != en
    # a CLI or log line may read "vi / en: detail", the detail shown once (in English's half); otherwise both
    # halves name the same fields
    one_detail = rule.startswith(("cli.", "log.")) and not _fields(vi)
    assert one_detail or _fields(vi) == _fields(en), rule
    assert unicodedata.normalize("NFC", vi) == vi and unicodedata.normalize("NFC", en) == en


def test_a_refusal_body_names_its_rule_and_fills_its_fields() -> None:
    assert refusal("evidence.not_found", dossier="000.00.01.H22-260101-0001") == {
        "error": "evidence.not_found", "message_vi": "Không có hồ sơ 000.00.01.H22-260101-0001.",
        "message_en": "No dossier 000.00.01.H22-260101-0001."}


def test_a_cli_line_is_vietnamese_then_english() -> None:
    assert line("cli.resumed", name="postal") == "Đã mở lại / resumed: postal"
