"""The mediated look-up end to end: a sector system → the gateway (real HTTP) → zeep → the simulated database
(real SOAP over HTTP), on SQLite and PostgreSQL; audit rows and the report read back from the store."""

from datetime import datetime
import json
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from connectors.population_db import CONNECTOR
from tests.population_db.conftest import DOSSIER, KEYS, Gateway, Simulator, own_dossier, query_for

pytestmark = pytest.mark.postgres


def audit_rows(gateway: Gateway) -> list[Any]:
    gateway.flush_audit()
    store = gateway.app.state.intake.store
    return [e for e in store.audit_entries(0, None, 10000) if e.action.startswith("population.")]


def test_found_and_verified(gateway: Gateway, simulator: Simulator) -> None:
    person = simulator.people(3)[1]
    answer = gateway.post("/v1/citizens/lookup", query_for(person))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["found"] is True and answer.headers["cache-control"] == "no-store"
    citizen = body["citizen"]
    assert citizen["SoDinhDanh"] == person["SoDinhDanh"] and citizen["NgayThangNamSinh"] == person[
        "NgayThangNamSinh"]["NgayThangNam"]
    assert citizen["HoVaTen"]["DayDu"].startswith(person["HoVaTen"]["Ho"]) and citizen["ThuongTru"]["MaTinhThanh"] == "99"
    assert "NhomMau" not in citizen or citizen["NhomMau"]  # blank fields are left out
    verified = gateway.post("/v1/citizens/verify", query_for(person))
    assert verified.status_code == 200 and verified.json()["match"] is True
    # The database saw the brief's headers: Timestamp in milliseconds, hashed Basic, X-Road-Client, ApiKey.
    seen = simulator.stats()["headers_seen"][-1]
    assert len(seen["timestamp"]) == 13 and seen["authorization"].startswith("Basic ")
    assert seen["x-road-client"] and seen["apikey"] and seen["soapaction"] == '""'


def test_not_found_is_an_answer_not_an_error(gateway: Gateway, simulator: Simulator) -> None:
    person = simulator.people(1)[0]
    wrong_name = gateway.post("/v1/citizens/lookup", query_for(person, HoVaTen="Người Không Có"))
    assert wrong_name.status_code == 200 and wrong_name.json() == {**wrong_name.json(), "found": False,
                                                                    "citizen": None}
    nobody = gateway.post("/v1/citizens/verify", query_for(person, SoDinhDanh="099000999999"))
    assert nobody.status_code == 200 and nobody.json()["match"] is False
    outcomes = [e.detail["outcome"] for e in audit_rows(gateway)]
    assert outcomes == ["not_found", "no_match"]


@pytest.mark.parametrize(("key", "changes", "status", "rule"), [
    ("unapproved", {}, 403, "auth.citizen_lookups"),  # not approved for look-ups: deny by default
    ("sector", {"MaCanBo": ""}, 403, "lookup.purpose"),  # no officer
    ("sector", {"MaDVC": None}, 403, "lookup.purpose"),  # no service
    ("stranger", {}, 403, "auth.dossier"),  # approved, but the dossier is another agency's
    ("sector", {"MaHoSo": "000.00.01.H22-241201-9999"}, 403, "auth.dossier"),  # a dossier nobody holds
    ("sector", {"SoDinhDanh": 99012345678}, 422, "lookup.request"),  # a number: its leading zero is lost
])
def test_refused(gateway: Gateway, simulator: Simulator, key: str, changes: dict[str, Any], status: int,
                 rule: str) -> None:
    person = simulator.people(1)[0]
    answer = gateway.post("/v1/citizens/lookup", query_for(person, **changes), key=key)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == rule and answer.json()["message_vi"] and answer.json()["message_en"]
    assert simulator.stats()["calls"] == 0  # refused before anything reached the database
    rows = audit_rows(gateway)
    assert [r.detail["outcome"] for r in rows] == ["refused"] and rows[0].actor == key


def test_unauthenticated_gets_nothing(gateway: Gateway, simulator: Simulator) -> None:
    answer = gateway.post("/v1/citizens/lookup", query_for(simulator.people(1)[0]), key="portal")
    assert answer.status_code == 403  # the portal's key is valid but not approved
    anonymous = httpx.post(gateway.url + "/v1/citizens/lookup", json={}, timeout=10)
    assert anonymous.status_code == 401 and simulator.stats()["calls"] == 0
    gateway.flush_audit()
    denied = [e for e in gateway.app.state.intake.store.audit_entries(0, None, 10000) if e.action == "auth.denied"]
    assert [(e.detail["endpoint"], e.detail["rule"], e.detail["key"]) for e in denied] == [
        ("/v1/citizens/lookup", "auth.missing", None)]  # the 401 audited, with the caller's address


def test_slow_database_times_out_then_breaker_opens(gateway: Gateway, simulator: Simulator) -> None:
    person = simulator.people(1)[0]
    simulator.faults(delay_seconds=2.5)  # read_timeout is 1 s
    for _ in range(3):  # breaker_failures = 3
        started = time.monotonic()
        answer = gateway.post("/v1/citizens/lookup", query_for(person))
        assert answer.status_code == 503 and answer.headers["retry-after"] == "7", answer.text
        assert time.monotonic() - started < 2.4  # cut by the timeout, not waiting for the database
    assert gateway.lookups.breaker.state == "open"
    calls = simulator.stats()["calls"]
    started = time.monotonic()
    answer = gateway.post("/v1/citizens/lookup", query_for(person))
    assert answer.status_code == 503 and time.monotonic() - started < 0.5  # at once
    assert 1 <= int(answer.headers["retry-after"]) <= 30 and answer.json()["error"] == "population.unavailable"
    assert simulator.stats()["calls"] == calls  # the open breaker sent nothing
    reasons = [r.detail.get("reason") for r in audit_rows(gateway)]
    assert reasons == ["timeout:ReadTimeoutError"] * 3 + ["breaker.open"]


def test_breaker_closes_after_a_good_trial(start_gateway: Any, simulator: Simulator) -> None:
    gateway = start_gateway(breaker_open_seconds=0.5)
    simulator.faults(soap_fault="soap:Server", times=3)
    person = simulator.people(1)[0]
    own_dossier(gateway)
    for _ in range(3):
        assert gateway.post("/v1/citizens/lookup", query_for(person)).status_code == 503
    assert gateway.lookups.breaker.state == "open"
    time.sleep(0.6)
    answer = gateway.post("/v1/citizens/lookup", query_for(person))
    assert answer.status_code == 200 and answer.json()["found"] is True
    assert gateway.lookups.breaker.state == "closed"


@pytest.mark.parametrize(("faults", "status", "reason"), [
    ({"soap_fault": "soap:Client"}, 502, "soap:soap:Client"),  # refused by the database: not worth retrying
    ({"soap_fault": "soap:Server"}, 503, "soap:soap:Server"),  # its own trouble: come back later
    ({"http_status": 503, "retry_after": 12}, 503, "http:503"),
    ({"http_status": 401}, 502, "http:401"),
    ({"malformed": "not_xml"}, 503, "malformed:XMLSyntaxError"),
    ({"malformed": "truncated"}, 503, "malformed:InvalidXML"),
    ({"malformed": "wrong_namespace"}, 503, "malformed:XMLParseError"),
    ({"malformed": "huge"}, 502, "too_large:size"),  # cut at max_answer_bytes, never read whole
])
def test_faults_classified(gateway: Gateway, simulator: Simulator, faults: dict[str, Any], status: int,
                           reason: str) -> None:
    simulator.faults(**faults)
    answer = gateway.post("/v1/citizens/lookup", query_for(simulator.people(1)[0]))
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == ("population.refused" if status == 502 else "population.unavailable")
    assert (status == 503) == ("retry-after" in answer.headers)
    rows = audit_rows(gateway)
    assert rows[-1].detail["reason"] == reason


def test_connection_errors_are_retried_once(gateway: Gateway, simulator: Simulator) -> None:
    simulator.faults(http_status=502, times=1)  # 502 is "retry": the second attempt succeeds
    answer = gateway.post("/v1/citizens/lookup", query_for(simulator.people(1)[0]))
    assert answer.status_code == 200 and answer.json()["found"] is True
    assert simulator.stats()["calls"] == 2


def test_timestamp_unit_is_configurable(start_gateway: Any, simulator: Simulator) -> None:
    simulator.settings(timestamp_unit="seconds")
    gateway = start_gateway(timestamp_unit="seconds")
    from connectors.population_db.transform import read_query

    person = simulator.people(1)[0]
    query = read_query(query_for(person))
    assert gateway.lookups.client.lookup(query)["SoDinhDanh"] == person["SoDinhDanh"]
    assert len(simulator.stats()["headers_seen"][-1]["timestamp"]) == 10
    simulator.settings(timestamp_unit="milliseconds")  # the database now expects the other unit: refused
    with pytest.raises(Exception) as refused:
        gateway.lookups.client.lookup(query)
    assert getattr(refused.value, "code", None) == "401" and simulator.stats()["refused_auth"] == 1


def test_audit_and_logs_hold_nothing_of_the_citizen(gateway: Gateway, simulator: Simulator,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    person = simulator.people(2)[1]
    query = query_for(person)
    simulator.faults(soap_fault="soap:Server", fault_string=f"Lỗi với {person['SoDinhDanh']} {query['HoVaTen']}",
                     times=1)
    assert gateway.post("/v1/citizens/lookup", query).status_code == 503
    assert gateway.post("/v1/citizens/lookup", query).status_code == 200
    assert gateway.post("/v1/citizens/verify", query).status_code == 200
    rows = audit_rows(gateway)
    assert [r.detail["outcome"] for r in rows] == ["unavailable", "found", "match"]
    personal = [person["SoDinhDanh"], person["SoCMND"], query["HoVaTen"], person["HoVaTen"]["Ten"] + " ",
                person["NgayThangNamSinh"]["NgayThangNam"], person["ThuongTru"]["ChiTiet"], query["MaCanBo"]]
    for row in rows:
        text = repr(row.detail)
        assert not [value for value in personal if value in text], text
        assert row.detail["identifier"] == person["SoDinhDanh"][:4] + "****" + person["SoDinhDanh"][-4:]
        assert len(row.detail["identifier_hmac"]) == 64 and row.subject == DOSSIER
        assert row.detail["MaDVC"] == "1.004227" and row.detail["MaCanBo"] == "0010****0123"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "population lookup by sector" in logged
    assert not [value for value in personal if value in logged], logged


def test_report_counts_per_account_and_month(gateway: Gateway, simulator: Simulator, tmp_path: Any) -> None:
    people = simulator.people(3)
    for person in people:
        assert gateway.post("/v1/citizens/lookup", query_for(person)).json()["found"] is True
    assert gateway.post("/v1/citizens/lookup", query_for(people[0], HoVaTen="Không Ai")).json()["found"] is False
    assert gateway.post("/v1/citizens/verify", query_for(people[0])).json()["match"] is True
    assert gateway.post("/v1/citizens/lookup", query_for(people[0]), key="stranger").status_code == 403
    gateway.flush_audit()
    config = tmp_path / "report.toml"
    config.write_text(f'[store]\nurl = "{gateway.config.section("store")["url"]}"\n', encoding="utf-8")
    result = CliRunner().invoke(CONNECTOR.cli(), ["report", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    month = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    rows = {(r["account"], r["operation"]): r for r in json.loads(result.output)}
    assert rows[("sector", "TraCuuThongTinCongDan")] == {
        "account": "sector", "month": month, "operation": "TraCuuThongTinCongDan", "total": 4, "found": 3,
        "not_found": 1, "match": 0, "no_match": 0, "refused": 0, "unavailable": 0, "failed": 0}
    assert rows[("sector", "XacThucThongTinCongDan")]["match"] == 1
    assert rows[("stranger", "TraCuuThongTinCongDan")]["refused"] == 1 and len(rows) == 3
    table = CliRunner().invoke(CONNECTOR.cli(), ["report", "--config", str(config)])
    assert table.exit_code == 0 and f"sector\t{month}\tTraCuuThongTinCongDan\t4\t3\t1" in table.output


def test_per_account_rate_limit(start_gateway: Any, simulator: Simulator) -> None:
    gateway = start_gateway(extra="[limits]\nlookup_rate = 0.01\nlookup_burst = 2")
    own_dossier(gateway)
    person = simulator.people(1)[0]
    assert [gateway.post("/v1/citizens/lookup", query_for(person)).status_code for _ in range(2)] == [200, 200]
    third = gateway.post("/v1/citizens/lookup", query_for(person))
    assert third.status_code == 429 and int(third.headers["retry-after"]) >= 1
    assert simulator.stats()["calls"] == 2
    assert [(r.detail["outcome"], r.detail.get("reason")) for r in audit_rows(gateway)][-1] == (
        "refused", "limit.lookups")


@pytest.mark.parametrize(("content", "status", "rule"), [
    (b'{"MaHoSo": "a", "MaHoSo": "b"}', 400, "json.duplicate_key"),  # one name for the check, another for the peer
    (b"\xff\xfe{}", 400, "text.not_utf8"),
    (b'{"HoVaTen": "' + b"a" * 9000 + b'"}', 413, "input.too_large"),
])
def test_unreadable_bodies_refused_and_audited(gateway: Gateway, simulator: Simulator, content: bytes, status: int,
                                               rule: str) -> None:
    answer = httpx.post(gateway.url + "/v1/citizens/lookup", content=content, timeout=10, headers={
        "content-type": "application/json", "Authorization": f"Bearer {KEYS['sector']}"})
    assert answer.status_code == status and answer.json()["error"] == rule, answer.text
    assert [(r.detail["outcome"], r.detail["reason"]) for r in audit_rows(gateway)] == [("refused", rule)]
    assert simulator.stats()["calls"] == 0
