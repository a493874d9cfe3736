"""The LGSP variant end to end: a sector system → the gateway (real HTTP) → zeep's envelope carried in JSON with
an OAuth client-credentials token → the simulator serving the province's platform (real HTTP), on SQLite and
PostgreSQL; audit rows read back from the store."""

from collections.abc import Callable
import time
from typing import Any
import uuid

import httpx
import pytest

from tests.population_db.conftest import Gateway, Simulator, own_dossier, query_for

pytestmark = pytest.mark.postgres
CLIENT = {"id": f"lgsp-{uuid.uuid4().hex[:6]}", "secret": uuid.uuid4().hex}  # made up per run


@pytest.fixture
def lgsp_env(monkeypatch: pytest.MonkeyPatch, simulator: Simulator) -> Simulator:
    monkeypatch.setenv("GATEWAY_POPULATION_LGSP_CLIENT_ID", CLIENT["id"])
    monkeypatch.setenv("GATEWAY_POPULATION_LGSP_CLIENT_SECRET", CLIENT["secret"])
    simulator.settings(variant="lgsp", lgsp_client_id=CLIENT["id"], lgsp_client_secret=CLIENT["secret"],
                       lgsp_credentials_in="body", lgsp_request_field="data", lgsp_answer_field="data",
                       lgsp_token_seconds=300)
    return simulator


@pytest.fixture
def start_lgsp(start_gateway: Callable[..., Gateway], lgsp_env: Simulator) -> Callable[..., Gateway]:
    def start(**lgsp: Any) -> Gateway:
        table = {"url": f"{lgsp_env.url}/lgsp/dancu", "token_url": f"{lgsp_env.url}/lgsp/token", **lgsp}
        lines = "\n".join(f'{key} = "{value}"' for key, value in table.items())
        gateway = start_gateway(f"[population_db.lgsp]\n{lines}\n", variant="lgsp", wsdl="")
        own_dossier(gateway)
        return gateway

    return start


def audit_rows(gateway: Gateway) -> list[Any]:
    gateway.flush_audit()
    store = gateway.app.state.intake.store
    return [e for e in store.audit_entries(0, None, 10000) if e.action.startswith("population.")]


def test_found_and_not_found_with_one_cached_token(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator) -> None:
    gateway = start_lgsp()
    people = lgsp_env.people(3)
    for person in people:
        answer = gateway.post("/v1/citizens/lookup", query_for(person))
        assert answer.status_code == 200, answer.text
        assert answer.json()["found"] is True and answer.json()["citizen"]["SoDinhDanh"] == person["SoDinhDanh"]
    verified = gateway.post("/v1/citizens/verify", query_for(people[0]))
    assert verified.status_code == 200 and verified.json()["match"] is True
    nobody = gateway.post("/v1/citizens/lookup", query_for(people[0], HoVaTen="Người Không Có"))
    assert nobody.status_code == 200 and nobody.json()["found"] is False and nobody.json()["citizen"] is None
    stats = lgsp_env.stats()
    assert stats["tokens_issued"] == 1 and stats["answered"]["TraCuuThongTinCongDan:found"] == 3
    seen = stats["headers_seen"][-1]
    assert seen["authorization"].startswith("Bearer ") and "timestamp" not in seen  # no direct headers
    assert [r.detail["outcome"] for r in audit_rows(gateway)] == ["found"] * 3 + ["match", "not_found"]


def test_credentials_as_basic(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator) -> None:
    lgsp_env.settings(lgsp_credentials_in="basic")
    gateway = start_lgsp(credentials_in="basic")
    answer = gateway.post("/v1/citizens/lookup", query_for(lgsp_env.people(1)[0]))
    assert answer.status_code == 200 and answer.json()["found"] is True


def test_expired_token_renewed_once(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator) -> None:
    gateway = start_lgsp()
    person = lgsp_env.people(1)[0]
    assert gateway.post("/v1/citizens/lookup", query_for(person)).status_code == 200
    lgsp_env.admin.post("/_admin/lgsp/expire").raise_for_status()  # the platform now refuses the cached one
    answer = gateway.post("/v1/citizens/lookup", query_for(person))
    assert answer.status_code == 200 and answer.json()["found"] is True
    stats = lgsp_env.stats()
    assert stats["tokens_issued"] == 2 and stats["refused_auth"] == 1


def test_token_renewed_before_it_expires(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator) -> None:
    lgsp_env.settings(lgsp_token_seconds=31)
    gateway = start_lgsp(expiry_margin_seconds="30")  # kept 1 s
    person = lgsp_env.people(1)[0]
    assert gateway.post("/v1/citizens/lookup", query_for(person)).status_code == 200
    assert gateway.post("/v1/citizens/lookup", query_for(person)).status_code == 200
    assert lgsp_env.stats()["tokens_issued"] == 1
    time.sleep(1.1)
    assert gateway.post("/v1/citizens/lookup", query_for(person)).status_code == 200
    stats = lgsp_env.stats()
    assert stats["tokens_issued"] == 2 and stats["refused_auth"] == 0  # renewed ahead, never refused


def test_refused_token(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_POPULATION_LGSP_CLIENT_SECRET", "not-the-secret")
    gateway = start_lgsp()
    answer = gateway.post("/v1/citizens/lookup", query_for(lgsp_env.people(1)[0]))
    assert answer.status_code == 502 and answer.json()["error"] == "population.refused", answer.text
    assert answer.json()["message_vi"] and answer.json()["message_en"]
    stats = lgsp_env.stats()
    assert stats["tokens_issued"] == 0 and stats["refused_auth"] == 1 and "TraCuuThongTinCongDan:found" not in \
        stats["answered"]
    assert audit_rows(gateway)[-1].detail["reason"] == "token:401"
    assert gateway.lookups.breaker.state == "closed"  # a refusal does not count towards opening it


@pytest.mark.parametrize(("faults", "status", "reason"), [
    ({"soap_fault": "soap:Client"}, 502, "soap:soap:Client"),  # the SOAP fault inside the JSON, classified alike
    ({"soap_fault": "soap:Server"}, 503, "soap:soap:Server"),
    ({"http_status": 503, "retry_after": 12}, 503, "http:503"),  # the platform's own error answer
    ({"malformed": "not_xml"}, 503, "malformed:XMLSyntaxError"),
])
def test_faults_classified_as_on_the_soap_path(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator,
                                               faults: dict[str, Any], status: int, reason: str) -> None:
    gateway = start_lgsp()
    lgsp_env.faults(**faults)
    answer = gateway.post("/v1/citizens/lookup", query_for(lgsp_env.people(1)[0]))
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == ("population.refused" if status == 502 else "population.unavailable")
    assert audit_rows(gateway)[-1].detail["reason"] == reason


def test_wrong_envelope_member_refused(start_lgsp: Callable[..., Gateway], lgsp_env: Simulator) -> None:
    gateway = start_lgsp(request_field="body")  # the platform expects "data"
    answer = gateway.post("/v1/citizens/lookup", query_for(lgsp_env.people(1)[0]))
    assert answer.status_code == 502 and audit_rows(gateway)[-1].detail["reason"] == "http:400", answer.text
    assert lgsp_env.stats()["refused_envelope"] == 1


def test_the_simulated_platform_is_strict(lgsp_env: Simulator) -> None:
    with httpx.Client(base_url=lgsp_env.url, timeout=10, trust_env=False) as http:
        form = {"grant_type": "client_credentials", "client_id": CLIENT["id"], "client_secret": CLIENT["secret"]}
        assert http.post("/lgsp/token", data={**form, "client_secret": "x"}).status_code == 401
        assert http.post("/lgsp/token", data={**form, "grant_type": "password"}).status_code == 400
        token = http.post("/lgsp/token", data=form).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert http.post("/lgsp/dancu", json={"data": "<x/>"}).status_code == 401  # no token
        assert http.post("/lgsp/dancu", json={"data": "<x/>"},
                         headers={"Authorization": "Bearer forged"}).status_code == 401
        for bad in ([], {"data": 1}, {"other": "<x/>"}, "<soap/>"):
            assert http.post("/lgsp/dancu", json=bad, headers=bearer).status_code == 400, bad
        assert http.post("/lgsp/dancu", content=b"{not json", headers={**bearer, "Content-Type": "application/json"}
                         ).status_code == 400
        not_soap = http.post("/lgsp/dancu", json={"data": "<x/>"}, headers=bearer)  # a SOAP Client fault, in JSON
        assert not_soap.status_code == 500 and "Client" in not_soap.json()["data"]
        assert http.post("/dancu", content=b"<x/>", headers={"Content-Type": "text/xml", "SOAPAction": '""'}
                         ).status_code == 404  # switched: the database is reached through the platform only
        lgsp_env.admin.post("/_admin/lgsp/expire").raise_for_status()
        assert http.post("/lgsp/dancu", json={"data": "<x/>"}, headers=bearer).status_code == 401
