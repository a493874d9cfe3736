"""``python -m demo`` (what ``./run`` shows) runs the whole flow by itself — the simulated national portal and
the gateway as real processes, a day of packets over HTTP — and its checks hold: the portal's record is what
was sent, in order, per dossier; the wrong packets were refused with reasons; the faults happened; the dead
letter was replayed by the operator command."""

import json
from pathlib import Path
import re
import subprocess
import sys

from gateway.console.accounts import Accounts
from gateway.store import open_store


def _an_earlier_run(folder: Path) -> None:
    """What an earlier run leaves in its folder: a store holding the demo operator (a rerun used to stop on
    ``AccountError: account.exists``)."""
    folder.mkdir()
    store = open_store(f"sqlite:///{folder}/gateway.db")
    try:
        Accounts(store.engine).add("demo-admin", "an-earlier-password", "admin", ["*"])
    finally:
        store.close()


def test_the_demo_delivers_a_day_to_the_simulated_portal_and_checks_it(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    _an_earlier_run(folder)
    result = subprocess.run([sys.executable, "-m", "demo",
                             "--folder", str(folder), "--day-seconds", "15"],
                            capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-3000:]
    assert "Traceback" not in out + result.stderr

    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    record = json.loads((folder / "portal-record.json").read_text(encoding="utf-8"))
    assert summary["passed"] is True
    # a few hundred packets; every dossier that reached the gateway is on the portal, step for step
    assert summary["packets"] >= 300 and summary["dossiers"] >= 60
    assert summary["dossiers_matched"] == summary["dossiers"] and not summary["problems"]
    assert summary["steps_recorded"] == summary["steps_expected"] > 150 and summary["repeated_steps"] == 0
    assert summary["unexpected_dossiers"] == []
    # the record itself: the day's dossiers (and the bundled example, and the tampered-receipt dossier of the
    # payment step) and nothing else
    assert record["dossier_count"] == summary["dossiers"] + 2 and record["repeated_steps"] == 0
    statuses = {step["TrangThai"] for entry in record["dossiers"].values() for step in entry["progress"]}
    statuses |= {entry["dossier"]["TrangThaiHoSo"] for entry in record["dossiers"].values()}
    assert statuses == set(range(2, 11))  # 1 is never last: online dossiers are received (2) or refused (3)
    assert summary["statuses_accepted"] == list(range(1, 11))
    # valid packets accepted, every wrong one refused with a reason in both languages
    assert summary["accepted"] == summary["valid"] and summary["refused_with_reasons"] == summary["flawed"] >= 8
    assert all(r["message_vi"] and r["message_en"] for r in summary["refusals"])
    assert any("DanhSachLePhi" in r["message_en"] for r in summary["refusals"])
    # the fault episode happened and was ridden through
    episode = summary["episode"]
    assert episode["http_500"] > 0 and episode["http_503"] > 0 and episode["session_refused"] > 0
    assert episode["logins"] >= 2 and episode["jobs_retried"] > 0
    # the catalogue got its share through the generic test peer; the other peers have their simulators
    assert summary["peers_ok"] and summary["peer_destinations"] == {"catalogue": 1}
    # the provincial portal's simulator (a real process, its own connector: a signed webhook) got every packet
    # accepted for it once, in order per dossier, signatures verified, after failing its first calls
    province = summary["provincial_portal"]
    assert province["ok"] is True and province["received"] == province["expected"] > 0
    assert province["repeated"] == province["unexpected"] == 0 and province["out_of_order"] == []
    assert province["signed"] == province["received"] and province["failed_calls"] > 0
    provincial_record = json.loads((folder / "provincial-record.json").read_text(encoding="utf-8"))
    assert len(provincial_record["received"]) == province["expected"]
    # the dead letter and its replay, through the operator's command, audited
    assert summary["replayed"] is True
    assert re.search(r"HoSo → dead sau \d+ lần", out) and "the portal refused" in out
    assert "Sẽ gửi lại / would replay: 1 việc" in out and "đã gửi lại / replayed 1/1" in out
    assert "demo-operator · replay" in out
    # where to watch, and the logs left behind
    assert re.search(r"http://127\.0\.0\.1:\d+/_admin/record", out) and "POST /v1/packets" in out
    # receipts and checkpoints timestamped by the test TSA; the bundle verified with its root, time proven
    assert summary["audit_and_evidence"] is True and re.search(r"timestamp passed \d{4}-\d\d-\d\dT[^ ]+\+07:00", out)
    assert summary["receipts_timestamped"][0] == summary["receipts_timestamped"][1] > 0
    for log in ("gateway.log", "simulator.log", "tsa.log", "operator.log", "demo.toml", "provincial-record.json"):
        assert (folder / log).stat().st_size > 0, log
    # online payment through the payment platform's simulator (a real process calling the gateway back): every
    # dossier asked for fees paid, its bank receipt verified under this run's test bank CA and forwarded to the
    # provincial portal, which recorded it; the tampered receipt stopped with its reason; INIT faults retried
    paid = summary["payment"]
    assert paid["ok"] is True and paid["asked"] >= 5 and not paid["problems"]
    assert paid["payments"] == paid["forwarded"] == paid["verified"] == paid["delivered"] == paid["asked"]
    assert list(paid["stopped"].values()) == ["receipt_rejected: HASH_FAILURE"]
    assert paid["init_failed_attempts"] > 0
    assert province["received"] >= paid["forwarded"]  # the originated receipts are among what it got
    assert "the tampered receipt stopped" in out and (folder / "bank-ca.pem").exists()
    # results by post through the postal service's simulator (a real process): one order per dossier at status 9
    # returned by post; each delivered shipment brought its dossier to status 10 on the national portal after its
    # earlier steps (the gateway originated it from the tracking feed), and its TrangThaiVanDon packets (sender
    # "gateway") reached the provincial portal
    shipped = summary["postal"]
    assert shipped["ok"] is True and not shipped["problems"] and shipped["expected"] >= 3
    assert shipped["orders"] == shipped["expected"] and shipped["status_10"] == shipped["delivered"] > 0
    assert shipped["tracking_received"] == shipped["tracking"] >= shipped["delivered"] * 3
    by_post = [entry for entry in record["dossiers"].values() if entry["dossier"].get("HinhThuc") == 1
               and entry["dossier"]["TrangThaiHoSo"] == 9]
    assert len(by_post) == shipped["delivered"] == shipped["expected"]  # every shipment of the day delivered
    assert all(entry["progress"][-1]["TrangThai"] == 10 and entry["status"] == 10 for entry in by_post)
    assert "postal service is flaky" in out and (folder / "postal.log").exists()
    # a folder from an earlier run: the old store removed, the run starts afresh
    assert "a folder from an earlier run: its store was removed" in out
    # citizen look-ups through the gateway to the population database's simulator (SOAP, a real process): found,
    # not found, refused for lack of a purpose before reaching the database, its fault answered 503 + Retry-After
    looked_up = summary["lookups"]
    assert looked_up["ok"] is True and all(looked_up["expected"].values())
    calls = {call["case"]: call for call in looked_up["calls"]}
    assert calls["found"]["status"] == 200 and calls["found"]["found"] is True
    assert calls["not_found"]["status"] == 200 and calls["not_found"]["found"] is False
    assert calls["no_purpose"]["status"] == 403 and calls["no_purpose"]["error"] == "lookup.purpose"
    assert calls["fault"]["status"] == 503 and calls["fault"]["error"] == "population.unavailable"
    assert calls["fault"]["retry_after"] and calls["after_fault"]["found"] is True
    assert looked_up["database_calls"] == 4 and "POST /v1/citizens/lookup" in out
    assert (folder / "population-db.log").exists()
    assert "Mọi kiểm tra đều đạt / every check passed" in out


def test_validate_only_checks_the_examples_and_starts_nothing(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "demo", "--validate-only",
                             "--folder", str(tmp_path / "unused")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "examples/HoSo.json  ✓ hợp lệ / valid" in result.stdout
    assert re.search(r"missing-field\.json\s+✗ \d+ lỗi", result.stdout)
    assert "Bước 1" not in result.stdout and not (tmp_path / "unused").exists()
