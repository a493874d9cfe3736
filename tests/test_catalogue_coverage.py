"""Every operator-facing sentence of the product is in a catalogue (Vietnamese and English side by side), not
inline: a string literal with Vietnamese letters outside the catalogue modules is a finding. Docstrings, the
simulators (they speak as their peers) and the demo (a stand-in with its own ``demo/narrate.py``) are outside.

``PENDING`` is what is left to move, file by file; it may only shrink."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE)
CATALOGUES = {"gateway/messages.py", "gateway/validate/messages.py", "gateway/console/catalogue.py",
              "gateway/packets/formats.py", "signing/messages.py"}  # and each connector's messages.py
PENDING: dict[str, int] = {
    "gateway/api.py": 3,
    "gateway/audit/chain.py": 8,
    "gateway/audit/checkpoint.py": 3,
    "gateway/audit/verify.py": 5,
    "gateway/cli/__init__.py": 1,
    "gateway/cli/audit.py": 31,
    "gateway/cli/clients.py": 1,
    "gateway/cli/db.py": 16,
    "gateway/cli/destinations.py": 9,
    "gateway/cli/jobs.py": 18,
    "gateway/cli/operators.py": 2,
    "gateway/cli/validate.py": 8,
    "gateway/cli/verify.py": 21,
    "gateway/deliver/engine.py": 8,
    "gateway/deliver/http_connector.py": 1,
    "gateway/deliver/traffic.py": 1,
    "gateway/evidence/check.py": 35,
    "gateway/evidence/export.py": 1,
    "gateway/kit/answers.py": 4,
    "gateway/kit/harness.py": 1,
    "gateway/observe/metrics.py": 2,
    "gateway/packets/schema_gen.py": 2,
    "gateway/receipt/build.py": 3,
    "gateway/receive/evidence.py": 1,
    "gateway/receive/lockout.py": 2,
    "gateway/receive/packets.py": 1,
    "gateway/store/sql.py": 1,
    "gateway/validate/schema.py": 4,
    "gateway/verify/result.py": 4,
    "gateway/verify/verifier.py": 3,
    "connectors/payment/cli.py": 2,
    "connectors/payment/client.py": 6,
    "connectors/payment/connector.py": 6,
    "connectors/payment/inbound.py": 19,
    "connectors/payment/reconcile.py": 2,
    "connectors/payment/transform.py": 2,
    "connectors/population_db/cli.py": 11,
    "connectors/population_db/inbound.py": 11,
    "connectors/population_db/transform.py": 12,
    "connectors/postal/__init__.py": 2,
    "connectors/postal/cli.py": 9,
    "connectors/postal/client.py": 8,
    "connectors/postal/connector.py": 14,
    "connectors/postal/settings.py": 3,
    "connectors/postal/tracking.py": 2,
    "connectors/postal/transform.py": 4,
    "connectors/provincial_portal/connector.py": 5,
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
    new = {name: count for name, count in found.items() if count > PENDING.get(name, 0)}
    assert new == {}, "move these sentences to a catalogue (gateway/messages.py, signing/messages.py, " \
                      "a connector's messages.py, the console's catalogue)"
    done = sorted(name for name in PENDING if found.get(name, 0) < PENDING[name])
    assert done == [], "lower or remove these files' PENDING counts: they have fewer inline sentences now"
