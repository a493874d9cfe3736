"""The payment and provincial-portal connectors import from the gateway only its kit (``gateway.kit`` and its modules), never signing or the tests directly."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("folder", ["connectors/payment", "connectors/provincial_portal"])
def test_only_the_kit(folder: str) -> None:
    found: list[str] = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.relative_to(ROOT)}: {name}" for name in names
                      if name.split(".")[0] in ("gateway", "signing", "tests") and name != "gateway.kit" and not name.startswith("gateway.kit.")]
    assert found == []
    assert (ROOT / folder / "__init__.py").read_text(encoding="utf-8").count("CONNECTOR = ConnectorSpec(") == 1
