"""The layout's direction, read from the source: the gateway reaches connectors only through the registry
(by name, importlib), connectors import only ``gateway.kit`` from the gateway, and nothing of the product
imports the demo or a simulator."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(folder: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.module))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def test_the_gateway_imports_no_connector_and_no_stand_in() -> None:
    wrong = [(p.relative_to(ROOT), m) for p, m in imports("gateway") if top(m) in ("connectors", "demo")]
    assert wrong == []


def test_signing_imports_no_connector_and_no_stand_in() -> None:
    wrong = [(p.relative_to(ROOT), m) for p, m in imports("signing") if top(m) in ("connectors", "demo")]
    assert wrong == []


def test_connectors_import_only_the_kit_of_the_gateway_and_no_stand_in() -> None:
    found = imports("connectors")
    assert any(m == "gateway.kit" for _, m in found)  # the walk saw them
    wrong = [(p.relative_to(ROOT), m) for p, m in found
             if (top(m) == "gateway" and m != "gateway.kit" and not m.startswith("gateway.kit.")) or top(m) == "demo"]
    assert wrong == []


def test_the_product_outside_a_simulator_does_not_import_it() -> None:
    wrong = [(p.relative_to(ROOT), m) for folder in ("gateway", "connectors") for p, m in imports(folder)
             if ".simulator" in m and "/simulator/" not in str(p)]
    assert wrong == []
