"""Every operator-facing sentence of the product is in a catalogue (Vietnamese and English side by side), not
inline: a string literal with Vietnamese letters outside the catalogue modules is a finding. Docstrings, the
simulators (they speak as their peers) and the demo (a stand-in with its own ``demo/narrate.py``) are outside.

``PENDING`` is what is left to move, file by file; it may only shrink. ``EXEMPT`` are literals that are data, not
sentences (counted, with the reason), so a sentence added next to them is still found."""

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
PENDING: dict[str, int] = {
    "connectors/national_portal/answers.py": 4,
    "connectors/national_portal/classic/answers.py": 3,
    "connectors/national_portal/classic/lookups.py": 3,
    "connectors/national_portal/classic/passwords.py": 1,
    "connectors/national_portal/classic/reading.py": 1,
    "connectors/national_portal/classic/routes.py": 16,
    "connectors/national_portal/classic/sessions.py": 1,
    "connectors/national_portal/classic/sync.py": 9,
    "connectors/national_portal/cli.py": 16,
    "connectors/national_portal/client.py": 4,
    "connectors/national_portal/connector.py": 6,
    "connectors/national_portal/mapping.py": 18,
    "connectors/national_portal/token_client.py": 3,
    "connectors/national_portal/transform.py": 3,
    "signing/pades.py": 35,
    "signing/pdf_visual.py": 6,
    "signing/safe_input.py": 15,
    "signing/safe_json.py": 9,
    "signing/safe_xml.py": 9,
    "signing/timestamps.py": 1,
    "signing/trust.py": 12,
    "signing/tsa_server.py": 1,
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
    found = findings()
    new = {name: count for name, count in found.items()
           if count > PENDING.get(name, 0) + EXEMPT.get(name, (0, ""))[0]}
    assert new == {}, "move these sentences to a catalogue (gateway/messages.py, signing/messages.py, " \
                      "a connector's messages.py, the console's catalogue)"
    done = sorted(name for name in PENDING if found.get(name, 0) < PENDING[name] + EXEMPT.get(name, (0, ""))[0])
    assert done == [], "lower or remove these files' PENDING counts: they have fewer inline sentences now"


def test_exempt_literals_are_still_there() -> None:
    found = findings()
    assert {name: found.get(name, 0) for name in EXEMPT} == {name: count for name, (count, _) in EXEMPT.items()}
