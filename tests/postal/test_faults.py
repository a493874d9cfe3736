"""The service failing under the delivery engine: throttling, errors, malformed and lost answers are
retried until every dossier is ordered exactly once; refusals are dead letters whose stored message has
the citizen's data masked; an agency without a configured sender is refused with the reason; a wrong
access token is retried (an operator's matter), never dead-lettered as the packet's fault."""

import pytest

from gateway.config import Config
from gateway.receive.auth import Client
from gateway.receive.intake import PacketIntake
from gateway.store.api import JobState, Store

from .conftest import Simulator, dossier, dossier_code, submit, wait_for
from .helpers import count, jobs, postal_engine


@pytest.mark.postgres
def test_every_dossier_is_ordered_once_through_throttling_errors_and_lost_answers(
        config: Config, store: Store, intake: PacketIntake, simulator: Simulator) -> None:
    simulator.faults(throttle_rate=0.2, error_rate=0.15, malformed_rate=0.1, lost_answer_rate=0.1,
                     hang_seconds=2.5, latency_ms=5, seed=7)
    codes = [dossier_code() for _ in range(12)]
    for code in codes:
        submit(intake, dossier(code, 9, HinhThuc=1))
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == len(codes), timeout=90,
                 what="every order delivered")
    record = simulator.record()
    assert sorted(record["orders"]) == sorted(codes)  # each exactly once at the service
    outcomes = [a.outcome for j in jobs(store, destination="postal") for a in store.get_job(j.job_id).attempt_log]
    assert outcomes.count("transient") > 0 and outcomes.count("delivered") == len(codes)
    assert count(store, "postal", JobState.DEAD) == 0


@pytest.mark.postgres
def test_a_refused_order_is_a_dead_letter_with_the_citizens_data_masked(
        config: Config, store: Store, intake: PacketIntake, simulator: Simulator) -> None:
    code = dossier_code()
    # Valid for the gateway (digits), not for the service (a phone starts with 0 or +84): it quotes it back.
    submit(intake, dossier(code, 9, HinhThuc=1, SoDienThoai="812345678"))
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DEAD) == 1, what="the refusal")
    (job,) = jobs(store, destination="postal")
    message = job.last_error or ""
    assert "ReceiverTel" in message and "103" in (store.get_job(job.job_id).attempt_log[-1].peer_status or "")
    assert "812345678" not in message and "81*****78" in message
    assert simulator.record()["orders"] == {}


@pytest.mark.postgres
def test_an_agency_without_a_sender_is_refused_with_the_reason(config: Config, store: Store, intake: PacketIntake,
                                                               simulator: Simulator) -> None:
    other = "000.00.02.H22"
    code = f"{other}-241201-{dossier_code()[-8:]}"
    data = dossier(code, 9, HinhThuc=1).replace(b'"NoiGui": "000.00.01.H22"', f'"NoiGui": "{other}"'.encode())
    submit(intake, data, Client("mot-cua-02", agencies=frozenset({other})))
    with postal_engine(config, store):
        wait_for(lambda: count(store, "postal", JobState.DEAD) == 1, what="the refusal")
    (job,) = jobs(store, destination="postal")
    assert f'[postal.senders."{other}"]' in (job.last_error or "") and "no sender configured" in (job.last_error or "")
    assert simulator.record()["calls"].get("orders", 0) == 0


@pytest.mark.postgres
def test_a_wrong_access_token_is_retried_not_dead_lettered(config: Config, store: Store, intake: PacketIntake,
                                                          simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_POSTAL_ACCESS_TOKEN", "not-the-token")
    code = dossier_code()
    submit(intake, dossier(code, 9, HinhThuc=1))
    with postal_engine(config, store):
        wait_for(lambda: simulator.record()["calls"].get("orders", 0) >= 2, what="two refused tries")
        assert count(store, "postal", JobState.DEAD) == 0 and count(store, "postal", JobState.DELIVERED) == 0
    (job,) = jobs(store, destination="postal")
    attempts = store.get_job(job.job_id).attempt_log
    assert attempts and all(a.outcome == "transient" and a.peer_status == "401" for a in attempts)
    assert simulator.record()["orders"] == {}


@pytest.mark.postgres
def test_maintenance_and_a_busy_answer_are_retried(config: Config, store: Store, intake: PacketIntake,
                                                   simulator: Simulator) -> None:
    simulator.faults(maintenance=True, maintenance_retry_after=1)
    code = dossier_code()
    submit(intake, dossier(code, 9, HinhThuc=1))
    with postal_engine(config, store):
        wait_for(lambda: simulator.record()["calls"].get("orders", 0) >= 1, what="a try in maintenance")
        simulator.faults(maintenance=False, business_status=110)  # "busy, try later" in the body
        wait_for(lambda: simulator.record()["calls"].get("orders", 0) >= 3, what="a busy answer")
        simulator.faults(business_status=0)
        wait_for(lambda: count(store, "postal", JobState.DELIVERED) == 1, timeout=30, what="the order")
    (job,) = jobs(store, destination="postal")
    statuses = [a.peer_status for a in store.get_job(job.job_id).attempt_log]
    assert statuses[0] == "503" and "200/110" in statuses and statuses[-1] == "200/100"
