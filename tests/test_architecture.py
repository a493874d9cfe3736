"""The direction of dependencies (signing ← gateway core ← connectors ← API/CLI), as the import-linter
contracts in ``pyproject.toml`` state it: kept by the code as it is, and each one broken by an import
that goes the wrong way."""

from copy import deepcopy
from pathlib import Path
from typing import Any

import grimp
from importlinter import api, cli
from importlinter.contracts.forbidden import ForbiddenContract
import pytest

from gateway.packets.schema_gen import NAMESPACE
from signing.xmldsig import PACKET_NAMESPACE

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

# One import per contract that it must refuse (importer → imported), as a careless change would add it.
WRONG_WAY = {
    "signing-leaf": [("signing.jws", "gateway.validate.wellformed"), ("signing.trust", "gateway.pii")],
    "packet-model": [("gateway.packets.stored", "gateway.validate.wellformed"),
                     ("gateway.packets.envelope", "gateway.config")],
    "core-not-above": [("gateway.receive.packets", "connectors.national_portal.client"),
                       ("gateway.store.api", "gateway.cli"), ("gateway.validate.semantic", "demo.day")],
    "connectors-use-the-kit": [("connectors.national_portal.transform", "gateway.store.api"),
                               ("connectors.national_portal.client", "gateway.receive.packets")],
    "product-without-stand-ins": [("gateway.cli.worker", "demo.testpeer"), ("connectors.postal.client", "demo.day")],
}


@pytest.fixture(scope="module")
def configuration() -> dict[str, Any]:
    return api.read_configuration(str(PYPROJECT))


@pytest.fixture(scope="module")
def contracts(configuration: dict[str, Any]) -> dict[str, ForbiddenContract]:
    session = configuration["session_options"]
    found = {}
    for options in configuration["contracts_options"]:
        assert options["type"] == "forbidden", options["id"]  # the only kind used; others would need their class
        found[options["id"]] = ForbiddenContract(name=options["name"], session_options=session,
                                                 contract_options=options)
    return found


@pytest.fixture(scope="module")
def graph(configuration: dict[str, Any]) -> grimp.ImportGraph:
    return grimp.build_graph(*configuration["session_options"]["root_packages"], cache_dir=None)


def test_lint_imports_passes_on_the_project(capsys: pytest.CaptureFixture[str]) -> None:
    """``lint-imports`` itself: the configuration as the tool reads it, every contract kept (an ignored
    import that no longer exists is an error too, so the list of exceptions cannot go stale)."""
    status = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    shown = capsys.readouterr().out
    assert status == cli.EXIT_STATUS_SUCCESS, shown
    assert f"Contracts: {len(WRONG_WAY)} kept, 0 broken." in shown


def test_the_contracts_are_the_stated_ones(contracts: dict[str, ForbiddenContract]) -> None:
    assert set(contracts) == set(WRONG_WAY)


@pytest.mark.parametrize("contract_id", sorted(WRONG_WAY))
def test_an_import_the_wrong_way_breaks_the_contract(contracts: dict[str, ForbiddenContract],
                                                     graph: grimp.ImportGraph, contract_id: str) -> None:
    contract = contracts[contract_id]
    assert contract.check(deepcopy(graph), verbose=False).kept
    for importer, imported in WRONG_WAY[contract_id]:
        changed = deepcopy(graph)
        changed.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
        check = contract.check(changed, verbose=False)
        assert not check.kept, f"{contract_id} let {importer} → {imported} through"


def test_connectors_are_kept_from_every_gateway_package_but_the_kit(contracts: dict[str, ForbiddenContract],
                                                                    graph: grimp.ImportGraph) -> None:
    """The contract lists the gateway's packages one by one (all but the kit): a new package is listed too."""
    forbidden = {str(module) for module in contracts["connectors-use-the-kit"].forbidden_modules}
    assert forbidden == graph.find_children("gateway") - {"gateway.kit"}


def test_signing_names_the_packet_namespace_as_the_packet_model_does() -> None:
    """signing keeps its own copy (it imports nothing of the gateway): the two must agree."""
    assert PACKET_NAMESPACE == NAMESPACE
