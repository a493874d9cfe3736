"""Status 6 → INIT → CONFIRM → GET_BILL → receipt verified → BienLaiThanhToan stored with its job to the
provincial portal; and every way a callback or a receipt can be wrong. Real HTTP both ways, both stores."""

import json
from typing import Any

import httpx
import pytest

from gateway.store.api import JobFilter, JobState

from .conftest import AGENCY, Bench, dossier_packet, wait_for

pytestmark = pytest.mark.postgres


def receipt_jobs(bench: Bench, dossier: str) -> list[Any]:
    return [p for p in bench.store.dossier_packets(dossier) if p.packet_type == "BienLaiThanhToan"]


def test_paid_dossier_reaches_the_provincial_portal_with_a_verified_receipt(make_bench: Any) -> None:
    bench: Bench = make_bench()
    dossier = f"{AGENCY}-241201-7001"
    assert bench.submit(dossier_packet(dossier)).status_code == 202
    payment = bench.payment_of(dossier, {"forwarded"})
    assert payment["amount"] == 3_050_000 and payment["variant"] == "national"
    report = payment["detail"]["verification"]
    assert report["verdict"] == "passed" and report["format"] == "pades"
    assert payment["detail"]["receipt_info"]["MaHoSo"] == dossier
    packets = receipt_jobs(bench, dossier)
    assert len(packets) == 1
    jobs = bench.store.find_jobs(JobFilter(destination="provincial_portal"))
    assert [j for j in jobs if j.packet_id == packets[0].packet_id]
    sent = bench.record()["sent"]
    assert sent[0]["status"] == 200 and sent[0]["reply"]["MaLoi"] == "00" and sent[0]["reply_authentic"]
    actions = [e.action for e in bench.store.audit_about(dossier)]
    assert "payment.initiated" in actions and "payment.receipt.verified" in actions
    # the same request again (a resend, a replay) does not pay twice
    assert bench.submit(dossier_packet(dossier)).status_code in (200, 202)
    wait_for(lambda: not bench.store.find_jobs(JobFilter(destination="payment", state="pending")), 10, "delivery")
    assert len(bench.record()["payments"]) == 1


def test_xml_receipt_and_duplicate_callback(make_bench: Any) -> None:
    bench: Bench = make_bench()
    bench.faults(receipt_format="xml", duplicate=True)
    dossier = f"{AGENCY}-241201-7002"
    assert bench.submit(dossier_packet(dossier)).status_code == 202
    payment = bench.payment_of(dossier, {"forwarded"})
    assert payment["detail"]["verification"]["format"] == "xmldsig"
    sent = wait_for(lambda: len(bench.record()["sent"]) >= 2 and bench.record()["sent"], 10, "both callbacks")
    assert [s["reply"]["MaLoi"] for s in sent] == ["00", "00"]
    # a late resend of the same CONFIRM: the first reply again, nothing originated twice
    late = httpx.post(f"{bench.sim_url}/_admin/resend/{payment['reference']}", timeout=10).json()
    assert late["status"] == 200 and late["reply"]["MaLoi"] == "00"
    assert len(receipt_jobs(bench, dossier)) == 1


def test_forged_callback_is_refused_and_audited(make_bench: Any) -> None:
    bench: Bench = make_bench(pay_after_seconds=3600)
    dossier = f"{AGENCY}-241201-7003"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"initiated"})
    bench.faults(wrong_checksum=True)
    answer = httpx.post(f"{bench.sim_url}/_admin/callback", timeout=10,
                        json={"reference": payment["reference"], "amount": payment["amount"]}).json()
    assert answer["status"] == 401 and answer["reply"]["MaLoi"] == "07"
    assert bench.store.payment(payment["reference"])["state"] == "initiated"
    forged = [e for e in bench.store.audit_log(payment["reference"]) if e["action"] == "payment.callback.forged"]
    assert forged
    assert not receipt_jobs(bench, dossier)


def test_unknown_reference_is_refused(make_bench: Any) -> None:
    bench: Bench = make_bench()
    answer = httpx.post(f"{bench.sim_url}/_admin/callback", timeout=10,
                        json={"reference": "GWNEVERCREATED", "amount": 1000}).json()
    assert answer["status"] == 404 and answer["reply"]["MaLoi"] == "02"
    assert [e for e in bench.store.audit_log("GWNEVERCREATED") if e["action"] == "payment.callback.unknown"]


def test_amount_mismatch_is_flagged_not_forwarded(make_bench: Any) -> None:
    bench: Bench = make_bench()
    bench.faults(amount_delta=-50_000)
    dossier = f"{AGENCY}-241201-7004"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"amount_mismatch"})
    assert payment["detail"]["expected"] == 3_050_000 and payment["detail"]["received"] == "3000000"
    assert "payment.amount_mismatch" in [e.action for e in bench.store.audit_about(dossier)]
    assert not receipt_jobs(bench, dossier)


@pytest.mark.parametrize("fault, receipt_format, reason", [
    ("tampered", "pdf", None), ("tampered", "xml", "HASH_FAILURE"),
    ("untrusted", "pdf", "NO_CERTIFICATE_CHAIN_FOUND"), ("untrusted", "xml", "NO_CERTIFICATE_CHAIN_FOUND")])
def test_bad_receipt_stops_with_its_reason(make_bench: Any, fault: str, receipt_format: str,
                                           reason: str | None) -> None:
    bench: Bench = make_bench()
    bench.faults(receipt=fault, receipt_format=receipt_format)
    dossier = f"{AGENCY}-241201-7005"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"receipt_rejected", "forwarded"})
    assert payment["state"] == "receipt_rejected"
    assert payment["detail"]["verification"]["verdict"] != "passed"
    if reason:
        assert payment["detail"]["reason"] == reason
    rejected = [e for e in bench.store.audit_about(dossier) if e.action == "payment.receipt.rejected"]
    assert rejected
    assert not receipt_jobs(bench, dossier)


def test_out_of_order_failure_after_success_changes_nothing(make_bench: Any) -> None:
    bench: Bench = make_bench()
    bench.faults(out_of_order=True)
    dossier = f"{AGENCY}-241201-7006"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"forwarded"})
    wait_for(lambda: len(bench.record()["sent"]) >= 2, 10, "the late failure callback")
    assert bench.store.payment(payment["reference"])["state"] == "forwarded"
    assert "payment.callback.after_settled" in [e.action for e in bench.store.audit_about(dossier)]


def test_paygov_variant(make_bench: Any) -> None:
    bench: Bench = make_bench("paygov")
    dossier = f"{AGENCY}-241201-7007"
    assert bench.submit(dossier_packet(dossier)).status_code == 202
    payment = bench.payment_of(dossier, {"forwarded"})
    assert payment["variant"] == "paygov"
    assert bench.record()["sent"][0]["reply"]["errorCode"] == "00"
    assert len(receipt_jobs(bench, dossier)) == 1
    bench.faults(wrong_checksum=True)
    answer = httpx.post(f"{bench.sim_url}/_admin/callback", timeout=10,
                        json={"reference": payment["reference"], "amount": payment["amount"]}).json()
    assert answer["status"] == 401 and answer["reply"]["errorCode"] == "07"


def test_receipt_reaches_the_provincial_portal_simulator_signed(make_bench: Any) -> None:
    """The whole chain: status 6 → INIT → paid → CONFIRM → GET_BILL → verified → originated → the signed
    webhook the provincial portal's simulator verifies and records."""
    bench: Bench = make_bench(portal=True)
    dossier = f"{AGENCY}-241201-7008"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"forwarded"})
    packet_id = payment["detail"]["packet"]

    def received() -> dict[str, Any] | None:
        return httpx.get(f"{bench.portal_url}/_admin/record", timeout=5).json()["received"].get(packet_id)
    got = wait_for(received, 30, "the receipt at the provincial portal")
    body = got["packet"]["NoiDung"]["BienLaiThanhToan"]
    assert body["MaYeuCau"] == payment["reference"] and body["SoTien"] == 3_050_000
    assert body["MaGiaoDich"] == payment["transaction_id"] and got["signature"].startswith("passed")


def test_receipt_not_decided_yet_is_tried_again_not_rejected(make_bench: Any) -> None:
    """Revocation required but unknown (no CRL): indeterminate for now — the callback was acknowledged when
    recorded; the worker keeps the payment confirmed with its reason and tries the receipt again on its clock."""
    bench: Bench = make_bench(bank_trust='revocation_mode = "require"')
    dossier = f"{AGENCY}-241201-7009"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"confirmed"})
    first = wait_for(lambda: bench.record()["sent"], 10, "the callback's reply")[0]
    assert first["status"] == 200 and first["reply"]["MaLoi"] == "00"
    tried = wait_for(lambda: (p := bench.store.payment(payment["reference"])) and p["attempts"] >= 2 and p, 20,
                     "two verifications")
    assert tried["state"] == "confirmed" and tried["detail"]["reason"] == "REVOCATION_UNKNOWN"
    again = httpx.post(f"{bench.sim_url}/_admin/resend/{payment['reference']}", timeout=10).json()
    assert again["status"] == 200 and again["reply"]["MaLoi"] == "00"  # the recorded reply
    assert not receipt_jobs(bench, dossier)


def test_operator_commands_show_state_and_ask_the_platform(make_bench: Any, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from connectors.payment import CONNECTOR
    bench: Bench = make_bench()
    bench.faults(receipt="tampered", receipt_format="xml")
    dossier = f"{AGENCY}-241201-7010"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"receipt_rejected"})
    config = tmp_path / "gateway-national.toml"
    cli = CONNECTOR.cli()
    shown = CliRunner().invoke(cli, ["status", dossier, "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    line = json.loads(shown.output.splitlines()[0])
    assert line["state"] == "receipt_rejected" and line["reason"] == "HASH_FAILURE" and line["verification"] == "failed"
    asked = CliRunner().invoke(cli, ["query", payment["reference"], "--config", str(config)])
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["TrangThai"] == "paid"


def test_late_callback_is_handled_like_any(make_bench: Any) -> None:
    bench: Bench = make_bench()
    bench.faults(late_seconds=1.5)
    dossier = f"{AGENCY}-241201-7011"
    bench.submit(dossier_packet(dossier))
    paid = wait_for(lambda: [p for p in bench.record()["payments"].values() if p["state"] == "paid"], 10, "payment")
    assert bench.store.payments_of(dossier)[-1]["state"] == "initiated"  # paid, but the platform has not said so
    payment = bench.payment_of(dossier, {"forwarded"})
    assert payment["transaction_id"] == paid[0]["transaction"]


def payment_request_packet(dossier: str, request_code: str) -> bytes:
    """The one-stop system's own YeuCauThanhToan (examples/YeuCauThanhToan.json) for ``dossier``."""
    import uuid

    from .conftest import EXAMPLES
    packet = json.loads((EXAMPLES / "YeuCauThanhToan.json").read_text(encoding="utf-8"))
    packet["MaGoiTin"] = str(uuid.uuid4())
    packet["NoiDung"]["YeuCauThanhToan"].update(MaHoSo=dossier, MaYeuCau=request_code)
    return json.dumps(packet, ensure_ascii=False).encode("utf-8")


def test_payment_request_packet_is_paid_and_its_code_comes_back(make_bench: Any) -> None:
    """YeuCauThanhToan → routed to payment (the connector's own rule) → INIT with its amount and fees →
    paid → CONFIRM → verified receipt → BienLaiThanhToan carrying the sender's MaYeuCau."""
    bench: Bench = make_bench()
    dossier = f"{AGENCY}-241201-7012"
    assert bench.submit(payment_request_packet(dossier, "YCTT-7012")).status_code == 202
    payment = bench.payment_of(dossier, {"forwarded"})
    assert payment["amount"] == 3_050_000 and payment["detail"]["request_code"] == "YCTT-7012"
    info = payment["detail"]["receipt_info"]
    assert info["MaHoSo"] == dossier and info["TKThuHuong"] == "3511.0.1051234"  # the request's, not the default
    assert "HoTenNguoiNop" not in info  # the payer stays in the sealed packet only
    sent_init = list(bench.record()["payments"].values())
    assert len(sent_init) == 1 and int(sent_init[0]["amount"]) == 3_050_000
    packets = receipt_jobs(bench, dossier)
    assert len(packets) == 1
    body = json.loads(bench.store.stored_raw([packets[0].packet_id])[packets[0].packet_id])["NoiDung"]["BienLaiThanhToan"]
    assert body["MaYeuCau"] == "YCTT-7012" and body["SoTien"] == 3_050_000
    # the same request resent does not pay twice
    assert bench.submit(payment_request_packet(dossier, "YCTT-7012")).status_code in (200, 202)
    wait_for(lambda: not bench.store.find_jobs(JobFilter(destination="payment", state="pending")), 10, "delivery")
    assert len(bench.record()["payments"]) == 1


def test_lost_callback_is_recovered_by_query_and_the_late_callback_changes_nothing(make_bench: Any) -> None:
    """The platform completes the payment but its CONFIRM never arrives: the worker's reconciler task (the
    connector's ConnectorSpec.tasks, with the worker's real intake) QUERYs it, settles it as the callback
    would (receipt fetched, verified, BienLaiThanhToan originated); the CONFIRM sent afterwards gets the
    recorded reply and nothing is done twice."""
    from gateway import registry
    from gateway.config import Config
    from gateway.receive.intake import PacketIntake

    bench: Bench = make_bench()
    bench.faults(drop_callback=True)
    dossier = f"{AGENCY}-241201-7013"
    assert bench.submit(dossier_packet(dossier)).status_code == 202
    payment = bench.payment_of(dossier, {"initiated"})
    wait_for(lambda: payment["reference"] in bench.record()["dropped"], 10, "the platform to drop the callback")
    assert bench.store.payment(payment["reference"])["state"] == "initiated"  # nothing told the gateway
    assert not bench.record()["sent"]
    quick = {**bench.config.section("payment"), "reconcile_after_seconds": 0.2, "reconcile_every_seconds": 0.05}
    config = Config({**bench.config.raw, "payment": quick}, bench.config.source)
    intake = PacketIntake(config, store=bench.store)
    tasks = registry.start_tasks(config, intake, only=["payment"])
    try:
        settled = bench.payment_of(dossier, {"forwarded", "receipt_rejected", "amount_mismatch"})
    finally:
        tasks.stop()
        intake.flush()
    assert settled["state"] == "forwarded" and settled["detail"]["verification"]["verdict"] == "passed"
    paid = bench.record()["payments"][payment["reference"]]
    assert settled["transaction_id"] == paid["transaction"]
    actions = [e.action for e in bench.store.audit_about(dossier)]
    assert "payment.reconciled" in actions and "payment.receipt.verified" in actions
    assert len(receipt_jobs(bench, dossier)) == 1
    # the lost CONFIRM finally arrives: answered as recorded, nothing originated again
    late = httpx.post(f"{bench.sim_url}/_admin/resend/{payment['reference']}", timeout=10).json()
    assert late["status"] == 200 and late["reply"]["MaLoi"] == "00"
    assert bench.store.payment(payment["reference"])["state"] == "forwarded"
    assert len(receipt_jobs(bench, dossier)) == 1
    assert actions.count("payment.receipt.verified") == 1


def test_reconciler_leaves_an_unpaid_payment_alone(make_bench: Any) -> None:
    """Not paid yet (the citizen has not paid): QUERY says so, the payment stays initiated, no receipt."""
    from connectors.payment.client import platform_for
    from connectors.payment.inbound import Callbacks
    from connectors.payment.reconcile import Reconciler
    from connectors.payment.settings import PaymentSettings
    from gateway.receive.intake import PacketIntake

    bench: Bench = make_bench(pay_after_seconds=3600)
    dossier = f"{AGENCY}-241201-7014"
    bench.submit(dossier_packet(dossier))
    payment = bench.payment_of(dossier, {"initiated"})
    settings = PaymentSettings.from_config(bench.config)
    intake = PacketIntake(bench.config, store=bench.store)
    callbacks = Callbacks(platform_for(settings), intake, settings)
    reconciler = Reconciler(callbacks, after_seconds=0.0, every_seconds=0.05)
    try:
        assert reconciler.once() == 0
    finally:
        callbacks.platform.close()
        intake.flush()
    assert bench.store.payment(payment["reference"])["state"] == "initiated"
    assert not receipt_jobs(bench, dossier)


def test_platform_errors_on_init_are_retried_until_it_recovers(make_bench: Any) -> None:
    """The platform answers its next two INIT calls with code 96 (system error): the delivery is retried and the
    dossier is paid once the platform recovers (the demo's count-based fault)."""
    bench: Bench = make_bench()
    bench.faults(init_error="96", init_error_times=2)
    dossier = f"{AGENCY}-241201-7096"
    assert bench.submit(dossier_packet(dossier)).status_code == 202
    bench.payment_of(dossier, {"forwarded"}, timeout=60)
    (job,) = [j for j in bench.store.find_jobs(JobFilter(destination="payment")) if j.state == JobState.DELIVERED]
    assert job.attempts == 3
    assert httpx.post(f"{bench.sim_url}/_admin/faults", json={}, timeout=5).json()["init_error"] == ""
