"""The newer token protocol behind the same connector interface: token login, create, progress, renewal."""

import httpx

from connectors.national_portal.answers import AnswerKind
from connectors.national_portal.connector import NationalPortalConnector
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.token_client import TokenClient
from connectors.national_portal.transform import Transformer
from gateway.deliver.connector import OutcomeKind

from .conftest import Simulator, deliveries, dossier_code, make_dossier, make_step


def test_token_connector_creates_and_updates_progress(token_client: TokenClient, ledger: SyncLedger,
                                                      simulator: Simulator) -> None:
    connector = NationalPortalConnector(token_client, ledger)
    code = dossier_code()
    outcomes = connector.deliver(deliveries(make_dossier(code), *[make_step(code, n) for n in range(3)]))
    assert [o.kind for o in outcomes] == [OutcomeKind.DELIVERED] * 4
    record = simulator.record(code)
    assert record["protocol"] == "token" and ledger.portal_id(code) == record["IdHoSo"]
    assert record["dossier"]["NgayTiepNhan"] == "2024-12-01T09:30:00.000"
    assert [(s["IDHoSo"], s["ThoiDiemXuLy"]) for s in record["progress"]] == [
        (record["IdHoSo"], f"2024-12-10T08:0{n}:00.000") for n in range(3)]
    # the dossier again: the ledger says it is there, so its status is updated rather than re-created
    assert connector.deliver(deliveries(make_dossier(code, TrangThaiHoSo=4)))[0].kind is OutcomeKind.DELIVERED
    assert simulator.record(code)["dossier"]["TrangThai"] == 4
    fees = [{"TenPhiLePhi": "Lệ phí cấp giấy phép", "Gia": 50000}]
    assert connector.deliver(deliveries(make_dossier(code, TrangThaiHoSo=6, DanhSachLePhi=fees))
                             )[0].kind is OutcomeKind.DELIVERED
    assert simulator.record(code)["dossier"]["DanhSachLePhi"] == [{"TenPhiLePhi": "Lệ phí cấp giấy phép", "Gia": 50000}]
    assert token_client.logins == 1


def test_progress_waits_for_its_dossier_without_a_look_up(token_client: TokenClient, ledger: SyncLedger,
                                                          simulator: Simulator) -> None:
    outcome = NationalPortalConnector(token_client, ledger).deliver(deliveries(make_step(dossier_code(), 1)))[0]
    assert outcome.kind is OutcomeKind.TRANSIENT and "not on the portal yet" in outcome.message
    assert simulator.stats()["calls"] == {}  # not even a token was needed


def test_expired_or_revoked_token_is_renewed(token_client: TokenClient, simulator: Simulator) -> None:
    code = dossier_code()
    assert token_client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    simulator.revoke_sessions()
    answer, _ = token_client.push_progress([make_step(code, 1).body], None)
    assert answer.ok and token_client.logins == 2
    assert simulator.stats()["calls"]["CapNhatTienDo → 401"] == 1


def test_duplicate_create_and_bad_credentials(token_client: TokenClient, settings: PortalSettings,
                                              transformer: Transformer) -> None:
    code = dossier_code()
    assert token_client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    assert token_client.sync_dossier(make_dossier(code).body, updating=False)[0].kind is AnswerKind.ALREADY_EXISTS
    wrong = TokenClient(PortalSettings(**{**settings.__dict__, "client_secret": "sai"}), transformer)
    answer, _ = wrong.push_progress([make_step(code, 1).body], None)
    assert answer.kind is AnswerKind.TRANSIENT and "token refused" in answer.message
    wrong.close()


def test_the_simulator_wants_iso_dates_with_milliseconds(simulator: Simulator, token_client: TokenClient) -> None:
    code = dossier_code()
    assert token_client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    http = httpx.Client(base_url=simulator.url, trust_env=False,
                        headers={"Authorization": f"Bearer {token_client.tokens.token()}"})
    step = {"MaHoSo": code, "NguoiXuLy": "Lê Thị Mai", "ThoiDiemXuLy": "20241210080000", "TrangThai": 4}
    answer = http.post("/api/v1/hoso/tiendo", json=[step]).json()
    assert answer["code"] == "1" and "[0].ThoiDiemXuLy: ngày giờ không hợp lệ" in answer["message"]
    answer = http.post("/api/v1/hoso/tiendo", json=[{**step, "ThoiDiemXuLy": "2024-12-10T08:00:00.000"}]).json()
    assert answer["code"] == "0"
    http.close()


def test_configured_token_protocol(simulator: Simulator, tmp_path) -> None:
    from gateway.config import Config

    from .conftest import CREDENTIALS
    path = tmp_path / "gateway.toml"
    path.write_text(f'[national_portal]\nprotocol = "token"\nadapter_url = "{simulator.url}"\n'
                    f'madonvi = "000.00.00.H22"\nledger_url = "sqlite:///{tmp_path}/ledger.sqlite"\n', encoding="utf-8")
    environ = {"GATEWAY_PORTAL_CLIENT_ID": CREDENTIALS["client_id"],
               "GATEWAY_PORTAL_CLIENT_SECRET": CREDENTIALS["client_secret"]}
    connector = NationalPortalConnector.from_config(Config.load(path), environ=environ)
    assert isinstance(connector.client, TokenClient)
    code = dossier_code()
    outcomes = connector.deliver(deliveries(make_dossier(code), make_step(code, 1)))
    assert [o.kind for o in outcomes] == [OutcomeKind.DELIVERED] * 2
    assert simulator.record(code)["protocol"] == "token"
    connector.close()
