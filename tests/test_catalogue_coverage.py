"""Every operator-facing sentence of the product is in a catalogue (Vietnamese and English side by side), not
inline: a string literal with Vietnamese letters outside the catalogue modules is a finding. Docstrings, the
simulators (they speak as their peers) and the demo (a stand-in with its own ``demo/narrate.py``) are outside.
``EXEMPT`` are literals that are data, not sentences (counted, with the reason), so a sentence added next to them
is still found."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE)
CATALOGUES = {"gateway/messages.py", "gateway/validate/messages.py", "gateway/console/catalogue.py",
              "gateway/packets/formats.py", "signing/messages.py"}  # and each connector's messages.py
EXEMPT: dict[str, tuple[int, str]] = {
    "gateway/deliver/traffic.py": (1, "the synthetic packets' own content (NoiDungXuLy), as a sender writes it"),
}


def inline_sentences(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
               and id(node) not in docstrings and VIETNAMESE.search(node.value))


def findings() -> dict[str, int]:
    found = {}
    for package in ("gateway", "connectors", "signing"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in CATALOGUES or path.name == "messages.py" and name.startswith("connectors/") \
                    or "/simulator/" in name:
                continue
            if count := inline_sentences(path):
                found[name] = count
    return found


def test_operator_sentences_are_in_a_catalogue() -> None:
    inline = {name: count for name, count in findings().items() if count > EXEMPT.get(name, (0, ""))[0]}
    assert inline == {}, "move these sentences to a catalogue (gateway/messages.py, signing/messages.py, " \
                         "a connector's messages.py, the console's catalogue)"


def test_exempt_literals_are_still_there() -> None:
    found = findings()
    assert {name: found.get(name, 0) for name in EXEMPT} == {name: count for name, (count, _) in EXEMPT.items()}
