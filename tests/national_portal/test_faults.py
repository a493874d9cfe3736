"""Every simulated fault reaches the engine as the right OutcomeKind, and under a mix of faults a retrying
caller still gets every step to the portal, complete and in order."""

import time

import pytest

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.deliver.connector import Delivery, OutcomeKind

from .conftest import Simulator, deliveries, dossier_code, make_dossier, make_step


@pytest.fixture
def quick_connector(settings: PortalSettings, transformer: Transformer, ledger: SyncLedger):
    """Read timeout 1 s, so a hanging portal is given up on quickly."""
    client = ClassicClient(PortalSettings(**{**settings.__dict__, "read_timeout": 1.0}), transformer)
    connector = NationalPortalConnector(client, ledger)
    yield connector
    client.close()


@pytest.mark.parametrize(("faults", "peer_status", "retry_after", "message"), [
    ({"error_rate": 1.0}, "HTTP 500", None, "Internal Server Error"),
    ({"http_status": 502}, "HTTP 502", None, "Lỗi hệ thống"),
    ({"maintenance": True, "maintenance_retry_after": 120}, "HTTP 503", 120.0, "đang bảo trì"),
    ({"throttle_rate": 1.0}, "HTTP 429", 1.0, "Too many requests"),
    ({"malformed_rate": 1.0}, "HTTP 200", None, "answer is not JSON"),
    ({"timeout_rate": 1.0, "hang_seconds": 2.0}, "no answer", None, "timed out"),
])
def test_each_fault_is_transient(quick_connector: NationalPortalConnector, simulator: Simulator, faults: dict,
                                 peer_status: str, retry_after: float | None, message: str) -> None:
    code = dossier_code()
    assert quick_connector.deliver(deliveries(make_dossier(code)))[0].kind is OutcomeKind.DELIVERED
    simulator.faults(**faults)
    outcomes = quick_connector.deliver(deliveries(make_step(code, 1), make_step(code, 2)))
    assert [o.kind for o in outcomes] == [OutcomeKind.TRANSIENT] * 2
    assert outcomes[0].peer_status == peer_status and outcomes[0].retry_after == retry_after
    assert message in outcomes[0].message
    simulator.faults(error_rate=0.0, http_status=0, maintenance=False, throttle_rate=0.0, malformed_rate=0.0,
                     timeout_rate=0.0)
    assert simulator.record(code)["progress"] == []  # a faulted call changed nothing


def test_a_down_portal_is_transient(settings: PortalSettings, transformer: Transformer, ledger: SyncLedger) -> None:
    from .conftest import free_port
    client = ClassicClient(PortalSettings(**{**settings.__dict__, "adapter_url": f"http://127.0.0.1:{free_port()}"}),
                           transformer)
    outcome = NationalPortalConnector(client, ledger).deliver(deliveries(make_dossier(dossier_code())))[0]
    assert outcome.kind is OutcomeKind.TRANSIENT and "connection error" in outcome.message
    client.close()


def test_rate_limit_answers_429_beyond_the_allowed_calls(connector: NationalPortalConnector,
                                                         simulator: Simulator) -> None:
    simulator.faults(rate_limit=5.0)
    code = dossier_code()
    results = [connector.deliver(deliveries(make_dossier(code)))[0] for _ in range(12)]
    throttled = [o for o in results if o.kind is OutcomeKind.TRANSIENT]
    assert throttled and all(o.peer_status == "HTTP 429" and o.retry_after == 1.0 for o in throttled)
    assert any(o.kind is OutcomeKind.DELIVERED for o in results)
    assert simulator.stats()["calls"].get("DongBoHoSoMC → HTTP 429", 0) + \
        simulator.stats()["calls"].get("TraCuuHoSo → HTTP 429", 0) == len(throttled)


def test_latency_slows_but_delivers(connector: NationalPortalConnector, simulator: Simulator) -> None:
    simulator.faults(latency_ms=150)
    started = time.monotonic()
    assert connector.deliver(deliveries(make_dossier(dossier_code())))[0].kind is OutcomeKind.DELIVERED
    assert time.monotonic() - started >= 0.3  # login, look-up and create each waited


def test_revoked_sessions_are_renewed_transparently(connector: NationalPortalConnector, simulator: Simulator) -> None:
    code = dossier_code()
    assert connector.deliver(deliveries(make_dossier(code)))[0].kind is OutcomeKind.DELIVERED
    assert simulator.revoke_sessions() == 1
    assert [o.kind for o in connector.deliver(deliveries(make_step(code, 1)))] == [OutcomeKind.DELIVERED]
    assert connector.client.logins == 2


def retry_until_delivered(connector: NationalPortalConnector, jobs: list[Delivery], rounds: int = 200) -> int:
    """What the delivery engine does, minus durability: hand over the first pending jobs of the dossier
    (at most max_batch), keep what was delivered, retry the rest later. Returns the rounds needed."""
    pending = list(jobs)
    for round_number in range(1, rounds + 1):
        outcomes = connector.deliver(pending[:connector.max_batch])
        assert all(o.kind is not OutcomeKind.PERMANENT for o in outcomes), outcomes
        delivered = 0
        for outcome in outcomes:
            if outcome.kind is not OutcomeKind.DELIVERED:
                break
            delivered += 1
        pending = pending[delivered:]
        if not pending:
            return round_number
    raise AssertionError(f"{len(pending)} jobs still pending")


def test_order_and_completeness_under_faults(quick_connector: NationalPortalConnector, simulator: Simulator) -> None:
    simulator.faults(error_rate=0.30, timeout_rate=0.05, hang_seconds=1.5, seed=20241201)
    codes = [dossier_code() for _ in range(3)]
    for code in codes:
        jobs = deliveries(make_dossier(code), *[make_step(code, n) for n in range(25)])
        rounds = retry_until_delivered(quick_connector, jobs)
        assert rounds > 3  # faults really happened
    simulator.faults(error_rate=0.0, timeout_rate=0.0)
    for code in codes:
        assert [s["NoiDungXuLy"] for s in simulator.record(code)["progress"]] == [f"Bước {n}" for n in range(25)]
    calls = simulator.stats()["calls"]
    assert calls.get("CapNhatTienDoHoSoMC → error", 0) > 0


def test_fault_switches_are_checked(simulator: Simulator) -> None:
    for bad in ({"error_rate": 1.5}, {"maintenance": "yes"}, {"latency_ms": "slow"}, {"refuse": ["X"]},
                {"flood": 1}):
        response = simulator.http.post("/_admin/faults", json=bad)
        assert response.status_code == 400, bad
    assert simulator.faults(error_rate="0.25", latency_ms=5)["error_rate"] == 0.25
    assert simulator.http.get("/_admin/faults").json()["latency_ms"] == 5.0


def test_a_lost_answer_after_the_portal_applied_the_call(quick_connector: NationalPortalConnector,
                                                         simulator: Simulator) -> None:
    """Ambiguous failures: a dossier is settled by the look-up (no double create); a step sent again is
    recorded twice — the classic protocol has no idempotency key for steps — and the record marks it."""
    code = dossier_code()
    simulator.faults(lost_answer_rate=1.0, hang_seconds=1.5, services=["DongBoHoSoMC", "CapNhatTienDoHoSoMC"])
    assert quick_connector.deliver(deliveries(make_dossier(code)))[0].kind is OutcomeKind.TRANSIENT
    simulator.faults(lost_answer_rate=0.0)
    assert simulator.record(code) is not None  # it was applied
    assert quick_connector.deliver(deliveries(make_dossier(code)))[0].kind is OutcomeKind.DELIVERED
    assert simulator.record(code)["updates"] == 1 and "DongBoHoSoMC → 3" not in simulator.stats()["calls"]
    simulator.faults(lost_answer_rate=1.0)
    assert quick_connector.deliver(deliveries(make_step(code, 1)))[0].kind is OutcomeKind.TRANSIENT
    simulator.faults(lost_answer_rate=0.0)
    assert quick_connector.deliver(deliveries(make_step(code, 1)))[0].kind is OutcomeKind.DELIVERED
    progress = simulator.record(code)["progress"]
    assert [s["NoiDungXuLy"] for s in progress] == ["Bước 1", "Bước 1"] and progress[1]["repeat"] is True
    assert simulator.record()["repeated_steps"] == 1
