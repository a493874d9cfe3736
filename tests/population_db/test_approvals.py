"""Look-up approval for clients kept in the store (``gateway clients add``): denied by default, approved and
revoked with ``gateway population-db allow-lookups / revoke-lookups`` (audited), effective on the running
gateway within seconds; the store's decision also overrides the configuration file. Real HTTP and SOAP."""

import json
import time
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from connectors.population_db import CONNECTOR
from tests.population_db.conftest import AGENCY, Gateway, Simulator, query_for

pytestmark = pytest.mark.postgres


def lookup(gateway: Gateway, key: str, person: dict[str, Any]) -> httpx.Response:
    return httpx.post(gateway.url + "/v1/citizens/lookup", json=query_for(person), timeout=30,
                      headers={"Authorization": f"Bearer {key}"})


def eventually(gateway: Gateway, key: str, person: dict[str, Any], status: int) -> httpx.Response:
    deadline = time.monotonic() + 15
    while (answer := lookup(gateway, key, person)).status_code != status:
        assert time.monotonic() < deadline, f"still {answer.status_code}: {answer.text}"
        time.sleep(0.25)
    return answer


def population(gateway: Gateway, *args: str) -> Any:
    return CliRunner().invoke(CONNECTOR.cli(), [*args, "--config", gateway.config.source])


def test_a_store_client_is_denied_until_approved_and_again_once_revoked(gateway: Gateway,
                                                                         simulator: Simulator) -> None:
    from gateway.cli import app as gateway_cli

    added = CliRunner().invoke(gateway_cli, ["clients", "add", "so_tu_phap", "--agency", AGENCY,
                                             "--config", gateway.config.source])
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    person = simulator.people(1)[0]
    denied = eventually(gateway, key, person, 403)  # the key works (effective within seconds) but no approval
    assert denied.json()["error"] == "auth.citizen_lookups" and simulator.stats()["calls"] == 0
    allowed = population(gateway, "allow-lookups", "so_tu_phap", "--actor", "lanh-dao")
    assert allowed.exit_code == 0, allowed.output
    found = eventually(gateway, key, person, 200)
    assert found.json()["found"] is True
    shown = population(gateway, "approvals", "--json")
    rows = {row["name"]: row for row in json.loads(shown.output)}
    assert rows["so_tu_phap"] == {"name": "so_tu_phap", "approved": True, "decided_in": "store"}
    assert rows["unapproved"]["approved"] is False and rows["sector"]["decided_in"] == "config"
    revoked = population(gateway, "revoke-lookups", "so_tu_phap", "--actor", "lanh-dao")
    assert revoked.exit_code == 0, revoked.output
    assert eventually(gateway, key, person, 403).json()["error"] == "auth.citizen_lookups"
    store = gateway.app.state.intake.store
    decisions = [(e["actor"], e["action"]) for e in store.audit_log("lookups:so_tu_phap")]
    assert decisions == [("lanh-dao", "client.lookups.revoke"), ("lanh-dao", "client.lookups.allow")]


def test_the_store_overrides_the_file_and_unknown_names_are_refused(gateway: Gateway, simulator: Simulator) -> None:
    from tests.population_db.conftest import KEYS
    person = simulator.people(1)[0]
    assert lookup(gateway, KEYS["sector"], person).status_code == 200  # approved in the file
    assert population(gateway, "revoke-lookups", "sector").exit_code == 0
    assert eventually(gateway, KEYS["sector"], person, 403).json()["error"] == "auth.citizen_lookups"
    assert population(gateway, "allow-lookups", "unapproved").exit_code == 0
    assert eventually(gateway, KEYS["unapproved"], person, 200).json()["found"] is True
    nobody = population(gateway, "allow-lookups", "chua_co")
    assert nobody.exit_code == 2
    assert not gateway.app.state.intake.store.audit_log("lookups:chua_co")
