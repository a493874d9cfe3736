"""The destinations page's controls (who may steer a shared destination, rate limits, maintenance windows),
refusals in the monthly report, /metrics' access and refusals by rule, /readyz's workers — on both stores."""

from collections.abc import Iterator
from datetime import datetime, timedelta
import hashlib
import json

from fastapi.testclient import TestClient
import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.config import Config
from gateway.deliver.windows import LOCAL
from gateway.api import create_app
from gateway.store import Store
from tests.console.conftest import console_config, csrf_of, log_in
from tests.console.seed import AGENCY_A, Seeded

pytestmark = pytest.mark.postgres

KEY = "khoa-thu-nghiem-mot-cua-01-dai-du"


def _post(client: TestClient, name: str, **form: str) -> object:
    page = client.get("/console/destinations")
    return client.post(f"/console/destinations/{name}", data={"csrf": csrf_of(page.text), **form})


def test_an_agency_operator_may_not_steer_a_shared_destination(client: TestClient, store: Store) -> None:
    log_in(client, "vanhanh_a")
    page = client.get("/console/destinations")
    assert 'value="pause"' not in page.text  # not offered
    refused = client.post("/console/destinations/postal", data={"csrf": csrf_of(page.text), "action": "pause",
                                                                "why": "thử"})
    assert refused.status_code == 403
    assert "Đích nhận dùng chung cho mọi cơ quan" in refused.text and "shared by all agencies" in refused.text
    assert not store.destination_state("postal").paused
    assert any(r["action"] == "destination.refused" and r["actor"] == "console:vanhanh_a"
               for r in store.audit_log("postal"))
    for action in ("reset", "window"):
        assert _post(client, "postal", action=action).status_code == 403


def test_rate_limit_is_admin_only_audited_and_reset(client: TestClient, store: Store, store_url: str) -> None:
    log_in(client, "vanhanh_chung")
    assert 'name="rate"' not in client.get("/console/destinations").text
    assert _post(client, "postal", action="rate", rate="2", burst="1").status_code == 403
    assert store.destination_state("postal").rate_per_second is None
    client.cookies.clear()
    log_in(client, "quantri")
    assert "phải là số dương" in _post(client, "postal", action="rate", rate="-1", burst="1").text
    assert store.destination_state("postal").rate_per_second is None  # refused: not a positive number
    done = _post(client, "postal", action="rate", rate="2,5", burst="3", why="bưu điện giới hạn")
    assert "Đã ghi nhận" in done.text and "2.5 /" in done.text and "đặt từ bảng điều khiển" in done.text
    state = store.destination_state("postal")
    assert (state.rate_per_second, state.burst) == (2.5, 3)
    entry = next(r for r in store.audit_log("postal") if r["action"] == "destination.rate_limit")
    assert entry["actor"] == "console:quantri" and entry["detail"]["reason"] == "bưu điện giới hạn"
    status = CliRunner().invoke(cli, ["destinations", "status", "--json", "--store", store_url])
    postal = next(r for r in json.loads(status.stdout) if r["destination"] == "postal")
    assert (postal["rate_per_second"], postal["burst"], postal["limits_from"]) == (2.5, 3, "console")
    _post(client, "postal", action="rate_reset", why="xong")
    assert store.destination_state("postal").rate_per_second is None
    assert any(r["action"] == "destination.rate_limit_reset" for r in store.audit_log("postal"))


def test_maintenance_window_scheduled_removed_and_reset(client: TestClient, store: Store) -> None:
    log_in(client, "vanhanh_chung")
    start = datetime.now(LOCAL) - timedelta(minutes=1)
    end = start + timedelta(hours=2)
    assert _post(client, "postal", action="window", start_at=end.strftime("%Y-%m-%dT%H:%M"),
                 end_at=start.strftime("%Y-%m-%dT%H:%M")).status_code == 200  # end before start: refused
    assert store.destination_state("postal").windows is None
    _post(client, "postal", action="window", start_at=start.strftime("%Y-%m-%dT%H:%M"),
          end_at=end.strftime("%Y-%m-%dT%H:%M"), note="nâng cấp máy chủ", why="bưu điện báo")
    windows = store.destination_state("postal").windows
    assert windows is not None and windows[-1]["note"] == "nâng cấp máy chủ"
    page = client.get("/console/destinations").text
    assert "Bảo trì" in page or "bảo trì" in page
    assert "Bảo trì" in client.get("/console/").text or "bảo trì" in client.get("/console/").text
    entry = next(r for r in store.audit_log("postal") if r["action"] == "destination.windows")
    assert entry["actor"] == "console:vanhanh_chung" and entry["detail"]["reason"] == "bưu điện báo"
    _post(client, "postal", action="window_remove", index=str(len(windows) - 1))
    assert store.destination_state("postal").windows == windows[:-1]
    _post(client, "postal", action="windows_reset")
    assert store.destination_state("postal").windows is None


def _client_config(store_url: str, **observability: object) -> Config:
    config = console_config(store_url)
    return Config({**config.raw, "clients": {"motcua-01": {"key_sha256": hashlib.sha256(KEY.encode()).hexdigest(),
                                                           "agencies": [AGENCY_A]}},
                   "observability": {**config.section("observability"), **observability}}, config.source)


@pytest.fixture
def with_client(store_url: str, store: Store, seeded: Seeded, accounts: object) -> Iterator[TestClient]:
    with TestClient(create_app(_client_config(store_url)), base_url="http://localhost") as test_client:
        yield test_client


def test_refused_packets_count_for_the_senders_agency(with_client: TestClient, store_url: str, seeded: Seeded) -> None:
    bad = {"MaGoiTin": "refused-1", "LoaiGoiTin": "HoSo", "NoiGui": AGENCY_A, "NoiDung": {"HoSo": {"MaHoSo": ""}}}
    for n in range(2):
        answer = with_client.post("/v1/packets", json={**bad, "MaGoiTin": f"refused-{n}"},
                                  headers={"Authorization": f"Bearer {KEY}"})
        assert answer.status_code in (400, 422), answer.text
    month = datetime.now(LOCAL).strftime("%Y-%m")
    runner = CliRunner().invoke(cli, ["report", "monthly", "--from", month, "--json", "--store", store_url])
    rows = {r["agency"]: r for r in json.loads(runner.stdout)["rows"]}
    # the CLI reads the configuration, which has no such client: its refusals count for no agency ("—")
    assert sum(r["refused"] for r in rows.values()) == 2
    log_in(with_client, "quantri")
    csv_text = with_client.get("/console/reports/monthly.csv").content.decode("utf-8-sig")
    assert "Bị từ chối" in csv_text.splitlines()[0]
    a_row = next(line for line in csv_text.splitlines() if line.startswith(AGENCY_A))
    stored_a = sum(1 for agency in seeded.dossiers.values() if agency == AGENCY_A) * 2
    assert a_row.split(",")[2:5] == [str(stored_a + 2), str(stored_a), "2"]  # received, valid, refused
    with_client.cookies.clear()
    log_in(with_client, "xem_a")
    assert f"<td class=\"num\">{stored_a + 2}</td>" in with_client.get("/console/reports").text
    metrics = with_client.get("/metrics").text
    refused = [line for line in metrics.splitlines() if line.startswith("gateway_packets_refused_total{")]
    assert refused and all(float(line.rsplit(" ", 1)[1]) >= 2 for line in refused)  # each rule broken by both


def test_metrics_token_denies_by_default(store_url: str, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "bi-mat-cua-prometheus")
    app = create_app(_client_config(store_url, metrics_token_env="GATEWAY_METRICS_TOKEN"))
    with TestClient(app, base_url="http://localhost") as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer sai"}).status_code == 401
        good = client.get("/metrics", headers={"Authorization": "Bearer bi-mat-cua-prometheus"})
        assert good.status_code == 200 and "gateway_packets_accepted_total" in good.text
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "")  # configured but empty: nobody
    with TestClient(create_app(_client_config(store_url, metrics_token_env="GATEWAY_METRICS_TOKEN"))) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    with TestClient(create_app(_client_config(store_url, metrics_networks=["10.0.0.0/8"]))) as client:
        assert client.get("/metrics").status_code == 403  # the test client is no address in 10/8


def test_metrics_off_and_no_console_still_ready(store_url: str, store: Store) -> None:
    config = _client_config(store_url, metrics=False)
    config = Config({**config.raw, "console": {**config.section("console"), "enabled": False}}, config.source)
    with TestClient(create_app(config)) as client:
        assert client.get("/metrics").status_code == 404  # off entirely
        assert client.get("/console/login").status_code == 404
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok" and ready["workers"]["alive"] == 0
    with TestClient(create_app(_client_config(store_url))) as client:
        config_on = client.get("/metrics")
        assert config_on.status_code == 200


def test_readiness_counts_workers_alive(store_url: str, store: Store) -> None:
    store.worker_seen("may-1:100:abc", "may-1", 100, ["postal"])
    with TestClient(create_app(_client_config(store_url, workers_required=2))) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503 and answer.json()["workers"]["alive"] == 1
        store.worker_seen("may-2:200:def", "may-2", 200, ["postal"])
        answer = client.get("/readyz")
        assert answer.status_code == 200 and answer.json()["workers"]["names"] == ["may-1:100:abc", "may-2:200:def"]
        assert "gateway_workers_alive 2.0" in client.get("/metrics").text
        store.worker_gone("may-2:200:def")
        assert client.get("/readyz").status_code == 503
