"""Search, timeline, masking, agency scoping, dead-letter replay, destinations, reports, metrics: each
checked against the store the CLI reads too (SQLite and PostgreSQL)."""

import csv
from dataclasses import replace
from datetime import UTC, datetime
import io
import json
import re
import zipfile

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.api import create_app
from gateway.cli import app as cli
from gateway.console.accounts import Accounts
from gateway.config import Config
from gateway.pii import mask
from gateway.store import JobFilter, JobState, Store
from tests.console.conftest import NEW_PASSWORD, PASSWORD, console_config, csrf_of, log_in, replay_finished
from tests.console.seed import AGENCY_A, AGENCY_B, CITIZEN, REFUSAL, Seeded, packet


def _code(seeded: Seeded, agency: str, dead: bool = False) -> str:
    return next(c for c, a in seeded.dossiers.items() if a == agency and (int(c[-4:]) % 5 == 0) == dead)


def test_search_by_dossier_and_the_timeline(client: TestClient, seeded: Seeded, store: Store) -> None:
    log_in(client, "vanhanh_a")
    code = _code(seeded, AGENCY_A, dead=True)
    found = client.get("/console/search", params={"dossier": code})
    assert found.text.count(f'href="/console/dossier/{code}"') == 2  # both packets
    timeline = client.get(f"/console/dossier/{code}")
    assert timeline.status_code == 200 and REFUSAL in timeline.text  # the failed packet's reason, readable
    assert "Thư chết" in timeline.text and "Đã chuyển" in timeline.text
    assert store.audit_log(code)[0]["action"] == "console.view_dossier"
    by_state = client.get("/console/search", params={"state": "dead", "destination": "national_portal"})
    dead_a = {c for c, a in seeded.dossiers.items() if a == AGENCY_A and int(c[-4:]) % 5 == 0}
    assert set(re.findall(r'/console/dossier/([^"]+)"', by_state.text)) == dead_a


def test_an_operator_of_agency_a_never_sees_agency_b(client: TestClient, seeded: Seeded) -> None:
    log_in(client, "vanhanh_a")
    code_b = _code(seeded, AGENCY_B)
    assert client.get(f"/console/dossier/{code_b}").status_code == 404
    searched = client.get("/console/search", params={"dossier": code_b}).text
    assert f"/console/dossier/{code_b}" not in searched and "Không có gói tin nào khớp" in searched
    everything = client.get("/console/search", params={"type": "HoSo"}).text
    assert AGENCY_B not in everything and AGENCY_A in everything
    assert AGENCY_B not in client.get("/console/dead").text
    assert client.get("/console/packet/pkt-0000003").status_code == 404  # dossier 1 is B's


def test_content_is_masked_and_revealing_is_audited(client: TestClient, seeded: Seeded, store: Store) -> None:
    log_in(client, "vanhanh_a")
    masked = client.get("/console/packet/pkt-0000001")
    assert CITIZEN not in masked.text and mask(CITIZEN) in masked.text
    shown = client.get("/console/packet/pkt-0000001?reveal=1")
    assert CITIZEN in shown.text
    assert [r["detail"]["personal_data_shown"] for r in store.audit_log("pkt-0000001")
            if r["action"] == "console.view_content"] == [True, False]
    client.cookies.clear()
    log_in(client, "xem_a")
    assert CITIZEN not in client.get("/console/packet/pkt-0000001?reveal=1").text  # a viewer cannot reveal


def test_bulk_replay_counts_first_then_replays_with_a_reason(client: TestClient, seeded: Seeded, store: Store) -> None:
    log_in(client, "vanhanh_a")
    page = client.get("/console/dead")
    jobs_a = re.findall(r'name="job" value="([^"]+)"', page.text)
    assert sorted(jobs_a) == sorted(j for j in seeded.dead if j.split("/")[0] in {
        p.packet_id for c, a in seeded.dossiers.items() if a == AGENCY_A for p in _packets(store, c)})
    csrf = csrf_of(page.text)
    forged = jobs_a + [j for j in seeded.dead if j not in jobs_a]  # B's job smuggled into the form
    no_reason = client.post("/console/dead/replay", data={"csrf": csrf, "job": forged, "why": "", "action": "replay"})
    assert no_reason.status_code == 400
    dry = client.post("/console/dead/replay", data={"csrf": csrf, "job": forged, "why": "danh mục đã sửa",
                                                    "action": "dry_run"})
    assert f"Sẽ gửi lại {len(jobs_a)} việc" in dry.text
    assert store.count_jobs(JobFilter(state=JobState.DEAD)) == len(seeded.dead)  # nothing changed yet
    done = client.post("/console/dead/replay", data={"csrf": csrf, "job": forged, "why": "danh mục đã sửa",
                                                     "action": "replay"})
    state = replay_finished(client, done)
    assert (state["done"], state["queued"], state["total"]) == (len(jobs_a), len(jobs_a), len(jobs_a))
    assert f"{len(jobs_a)}/{len(jobs_a)}" in client.get(str(done.url)).text  # the page once finished
    assert store.count_jobs(JobFilter(state=JobState.DEAD)) == len(seeded.dead) - len(jobs_a)
    replays = [r for r in store.audit_log("jobs") if r["action"] == "replay"]
    assert {r["actor"] for r in replays} == {"console:vanhanh_a"} and replays[0]["detail"]["reason"] == "danh mục đã sửa"


def _packets(store: Store, dossier: str) -> list:
    return [store.get_packet(j.packet_id) for j in store.find_jobs(JobFilter(dossier=dossier))]


def test_pause_from_the_console_is_what_the_cli_sees(client: TestClient, store_url: str) -> None:
    log_in(client, "vanhanh_chung")  # an operator of all agencies: the destinations are shared by all
    page = client.get("/console/destinations")
    answer = client.post("/console/destinations/postal", data={"csrf": csrf_of(page.text), "action": "pause",
                                                               "why": "bưu điện bảo trì"})
    assert "Đã ghi nhận" in answer.text
    status = CliRunner().invoke(cli, ["destinations", "status", "--json", "--store", store_url])
    postal = next(r for r in json.loads(status.stdout) if r["destination"] == "postal")
    assert postal["paused"] and postal["pause_reason"] == "bưu điện bảo trì"
    overview = client.get("/console/")
    assert "Tạm dừng" in overview.text and overview.text.count("<svg") == 4 and "<rect" in overview.text


def test_reports_files_and_cli_agree(client: TestClient, seeded: Seeded, store_url: str) -> None:
    log_in(client, "quantri")
    page = client.get("/console/reports")
    cli_rows = json.loads(CliRunner().invoke(cli, ["report", "monthly", "--from", _month(), "--json",
                                                   "--store", store_url]).stdout)["rows"]
    assert sum(r["received"] for r in cli_rows) == seeded.packets
    assert sum(r["delivered"] for r in cli_rows) == seeded.delivered
    assert {r["agency"] for r in cli_rows} == {AGENCY_A, AGENCY_B} and AGENCY_B in page.text
    assert "Hồ sơ có đồng bộ trong kỳ" in client.get("/console/reports", params={"quality": 1}).text
    rows = list(csv.reader(io.StringIO(client.get("/console/reports/monthly.csv").content.decode("utf-8-sig"))))
    assert rows[0][0] == "Cơ quan" and sum(int(r[2]) for r in rows[1:]) == seeded.packets
    ods = zipfile.ZipFile(io.BytesIO(client.get("/console/reports/monthly.ods").content))
    assert ods.namelist()[0] == "mimetype" and AGENCY_A in ods.read("content.xml").decode()


def _month() -> str:
    from datetime import datetime

    from gateway.deliver.windows import LOCAL
    return datetime.now(LOCAL).strftime("%Y-%m")


def test_metrics_and_readiness_match_the_store(client: TestClient, seeded: Seeded, store: Store) -> None:
    log_in(client, "xem_a")
    client.get("/console/search", params={"dossier": next(iter(seeded.dossiers))})
    text = client.get("/metrics").text
    assert 'gateway_console_lookups_total{account="xem_a",kind="search"}' in text
    counts = store.counts()
    assert f'gateway_jobs{{destination="national_portal",state="dead"}} {float(counts["national_portal"]["dead"])}' in text
    assert f"gateway_packets_accepted_total {float(seeded.packets)}" in text
    assert f'gateway_delivered_total{{destination="postal"}} {float(counts["postal"]["delivered"])}' in text
    assert f'gateway_backlog{{destination="postal"}} {float(counts["postal"]["pending"])}' in text
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["schema"]["current"] == ready["schema"]["head"]


def test_english_switch(client: TestClient) -> None:
    log_in(client, "quantri")
    assert "Dead letters" in client.get("/console/lang?to=en&back=/console/dead").text
    assert "Thư chết" in client.get("/console/lang?to=vi&back=//evil.example").text  # no open redirect


def test_sync_quality_dossier_by_dossier(store: Store, store_url: str) -> None:
    """On time, complete, backwards, silent — judged from the stored stream as the national index set scores it."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    import hashlib

    from tests.console.seed import packet

    now, n = datetime.now(UTC), 100

    def send(code: str, status: int, at: datetime, end: str | None = None, due: str = "20261210170000") -> None:
        nonlocal n
        n += 1
        base = packet(n, code, AGENCY_A, at)
        body = json.loads(base.raw)
        body["NoiDung"]["HoSo"] |= {"TrangThaiHoSo": status, "NgayHenTra": due}
        body["NoiDung"]["HoSo"]["NgayKetThucXuLy"] = end  # None: not finished
        raw = json.dumps(body, ensure_ascii=False).encode()
        store.accept(replace(base, raw=raw, sha256=hashlib.sha256(raw).hexdigest(), status=status), ["postal"])

    hour = timedelta(hours=1)
    for i, status in enumerate([1, 2, 4, 9, 10]):  # complete, on time
        send("Q-ONTIME", status, now - 5 * hour + i * hour, end="20261201100000" if status == 10 else None)
    for i, status in enumerate([1, 4, 8]):  # 2 skipped; late
        send("Q-LATE", status, now - 4 * hour + i * hour, end="20261215100000" if status == 8 else None)
    send("Q-BACK", 4, now - 3 * hour)
    send("Q-BACK", 2, now - 2 * hour)  # 4 → 2: outside the graph, backwards
    send("Q-SILENT", 2, now - timedelta(days=9))
    answer = CliRunner().invoke(cli, ["report", "monthly", "--from", (now - timedelta(days=40)).strftime("%Y-%m"),
                                      "--to", _month(), "--json", "--store", store_url])
    quality = json.loads(answer.stdout)["quality"]
    assert quality["dossiers"] == 4 and (quality["finished"], quality["on_time"]) == (2, 1)
    assert (quality["terminal"], quality["steps_complete"]) == (2, 1)
    assert quality["backwards"] == ["Q-BACK"] and quality["stale"] == ["Q-SILENT"] and quality["on_time_share"] == 0.5


def test_the_console_takes_the_apis_ownership_decision_recorded_owner_and_handover(
        store_url: str, store: Store, seeded: Seeded, accounts: Accounts) -> None:
    """A dossier recorded as A's though its packet says NoiGui B (an any-agency client created it under A's
    code): A's operator reads it, B's does not; with ``[ownership] handover`` B → A, A also reads B's."""
    code = f"{AGENCY_A}-261203-0999"
    store.accept(replace(packet(900, code, AGENCY_B, datetime.now(UTC)), owner=AGENCY_A), ["national_portal"])
    assert store.dossier_owner(code) == AGENCY_A
    accounts.add("vanhanh_b", PASSWORD, "operator", [AGENCY_B])
    base = console_config(store_url)
    handover = Config({**base.raw, "ownership": {"handover": {AGENCY_B: [AGENCY_A]}}}, base.source)
    code_b = _code(seeded, AGENCY_B)
    with TestClient(create_app(base), base_url="http://localhost") as plain:
        log_in(plain, "vanhanh_a")
        assert plain.get(f"/console/dossier/{code}").status_code == 200
        assert plain.get("/console/packet/pkt-0000900").status_code == 200
        assert plain.get(f"/console/dossier/{code_b}").status_code == 404
        plain.cookies.clear()
        log_in(plain, "vanhanh_b")
        assert plain.get(f"/console/dossier/{code}").status_code == 404  # its NoiGui, not its owner
        assert plain.get("/console/packet/pkt-0000900").status_code == 404
        assert plain.get(f"/console/dossier/{code_b}").status_code == 200
    with TestClient(create_app(handover), base_url="http://localhost") as handed:
        log_in(handed, "vanhanh_a", password=NEW_PASSWORD, new=NEW_PASSWORD)
        assert handed.get(f"/console/dossier/{code_b}").status_code == 200  # B hands over to A
        handed.cookies.clear()
        log_in(handed, "vanhanh_b", password=NEW_PASSWORD, new=NEW_PASSWORD)
        assert handed.get(f"/console/dossier/{code}").status_code == 404  # A hands nothing over to B
