"""The connector's deliver() against the simulated portal: order, batching, isUpdating, waiting for the
dossier, cuts reported, refusals dead-lettered with the portal's message, the first failure ends the batch."""

from pathlib import Path

import pytest

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.connector import NationalPortalConnector, create
from connectors.national_portal.ledger import SyncLedger
from connectors.national_portal.mapping import Mapping
from gateway.config import ConfigError
from gateway.deliver.policy import policy_from

from .conftest import Simulator, deliveries, dossier_code, make_dossier, make_step


def kinds(outcomes: list) -> list[str]:
    return [o.kind.value for o in outcomes]


def test_dossier_then_steps_in_one_batch_keep_order(connector: NationalPortalConnector, simulator: Simulator) -> None:
    code = dossier_code()
    batch = deliveries(make_dossier(code), *[make_step(code, n) for n in range(12)])
    outcomes = connector.deliver(batch)
    assert kinds(outcomes) == ["delivered"] * 13
    record = simulator.record(code)
    assert [s["NoiDungXuLy"] for s in record["progress"]] == [f"Bước {n}" for n in range(12)]
    calls = simulator.stats()["calls"]
    # one look-up (not in the ledger yet), one create, then steps in calls of at most 10
    assert calls["TraCuuHoSo → 0"] == 1 and calls["DongBoHoSoMC → 0"] == 1 and calls["CapNhatTienDoHoSoMC → 0"] == 2


def test_is_updating_comes_from_the_ledger_then_the_portal(connector: NationalPortalConnector, simulator: Simulator,
                                                           ledger: SyncLedger) -> None:
    code = dossier_code()
    assert kinds(connector.deliver(deliveries(make_dossier(code)))) == ["delivered"]
    assert ledger.is_synced(code)
    assert kinds(connector.deliver(deliveries(make_dossier(code, TrangThaiHoSo=4)))) == ["delivered"]
    assert simulator.record(code)["updates"] == 1
    assert simulator.stats()["calls"]["TraCuuHoSo → 0"] == 1  # the second time the ledger knew


def test_already_exists_is_resent_as_an_update(client: ClassicClient, simulator: Simulator, tmp_path: Path) -> None:
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok  # synced by someone else
    simulator.faults(exists_code=-3)
    # A client that cannot look up (as with the token protocol) learns it from the "already exists" answer.
    client.supports_lookup = False
    connector = NationalPortalConnector(client, SyncLedger(f"sqlite:///{tmp_path}/l.sqlite"))
    outcomes = connector.deliver(deliveries(make_dossier(code, TrangThaiHoSo=9, NgayKetThucXuLy="20241212160000")))
    assert kinds(outcomes) == ["delivered"]
    calls = simulator.stats()["calls"]
    assert calls["DongBoHoSoMC → -3"] == 1 and calls["DongBoHoSoMC → 0"] == 2
    assert simulator.record(code)["dossier"]["TrangThaiHoSo"] == 9 and connector.ledger.is_synced(code)


def test_progress_before_its_dossier_waits(connector: NationalPortalConnector, simulator: Simulator) -> None:
    code = dossier_code()
    outcomes = connector.deliver(deliveries(make_step(code, 1), make_step(code, 2)))
    assert kinds(outcomes) == ["transient", "transient"]
    assert "not on the portal yet" in outcomes[0].message
    assert "CapNhatTienDoHoSoMC → 0" not in simulator.stats()["calls"]  # nothing was sent
    assert kinds(connector.deliver(deliveries(make_dossier(code)))) == ["delivered"]
    assert kinds(connector.deliver(deliveries(make_step(code, 1), make_step(code, 2)))) == ["delivered"] * 2
    assert [s["NoiDungXuLy"] for s in simulator.record(code)["progress"]] == ["Bước 1", "Bước 2"]


def test_a_dossier_synced_before_the_ledger_existed_is_found_by_look_up(connector: NationalPortalConnector,
                                                                        client: ClassicClient) -> None:
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    assert kinds(connector.deliver(deliveries(make_step(code, 1)))) == ["delivered"]
    assert connector.ledger.is_synced(code)


def test_cut_fields_are_reported_in_the_outcome(connector: NationalPortalConnector, simulator: Simulator) -> None:
    code = dossier_code()
    outcomes = connector.deliver(deliveries(make_dossier(code, GhiChu="ghi chú dài " * 200),
                                            make_step(code, 1), make_step(code, 2, NoiDungXuLy="x" * 2500)))
    assert kinds(outcomes) == ["delivered"] * 3
    assert outcomes[0].warnings == ("GhiChu: cắt từ 2400 xuống 2000 ký tự theo giới hạn của Cổng DVC quốc gia "
                                    "/ cut from 2400 to 2000 characters, the portal's limit",)
    assert outcomes[1].warnings == () and "cut from 2500 to 2000" in outcomes[2].warnings[0]
    record = simulator.record(code)
    assert len(record["dossier"]["GhiChu"]) == 2000 and len(record["progress"][1]["NoiDungXuLy"]) == 2000


def test_a_refused_dossier_is_permanent_and_ends_the_batch(connector: NationalPortalConnector,
                                                           simulator: Simulator) -> None:
    refused, other = dossier_code(), dossier_code()
    simulator.faults(refuse={refused: "Đơn vị chưa được cấp quyền đồng bộ thủ tục này"})
    outcomes = connector.deliver(deliveries(make_dossier(other), make_dossier(refused), make_dossier(dossier_code())))
    assert kinds(outcomes) == ["delivered", "permanent", "transient"]
    assert outcomes[1].message == ("Cổng DVC quốc gia từ chối / the portal refused: "
                                   "Đơn vị chưa được cấp quyền đồng bộ thủ tục này")
    assert outcomes[1].peer_status == "HTTP 200, error_code 9"
    assert "not sent" in outcomes[2].message
    assert simulator.record()["dossier_count"] == 1


def test_the_provinces_table_applies_on_the_wire(client: ClassicClient, ledger: SyncLedger,
                                                  simulator: Simulator) -> None:
    client.transformer.mapping = Mapping(statuses={("4", None): 5},
                                         procedures={"1.003560.000.00.00.H56": "1.003560"})
    connector = NationalPortalConnector(client, ledger)
    code = dossier_code()
    outcomes = connector.deliver(deliveries(make_dossier(code, MaTTHC="1.003560.000.00.00.H56", TrangThaiHoSo=4),
                                            make_step(code, 1, status=4), make_step(code, 2, status=9)))
    assert kinds(outcomes) == ["delivered"] * 3
    record = simulator.record(code)
    assert record["dossier"]["MaTTHC"] == "1.003560" and record["dossier"]["TrangThaiHoSo"] == 5
    assert [s["TrangThai"] for s in record["progress"]] == [5, 9]
    unmapped = dossier_code()
    outcomes = connector.deliver(deliveries(make_dossier(unmapped, MaTTHC="2.002622.H56"), make_step(unmapped, 1)))
    assert kinds(outcomes) == ["permanent", "transient"]
    assert "local procedure code '2.002622.H56' is not mapped" in outcomes[0].message
    assert simulator.record(unmapped) is None


def test_other_packet_types_are_refused(connector: NationalPortalConnector) -> None:
    from gateway.packets.envelope import GoiTin

    from .conftest import EXAMPLES
    packet = GoiTin.model_validate_json((EXAMPLES / "VanDonBuuChinh.json").read_text(encoding="utf-8"))
    outcomes = connector.deliver(deliveries(packet))
    assert kinds(outcomes) == ["permanent"] and "VanDonBuuChinh" in outcomes[0].message


def test_the_engine_factory_reads_the_configuration(simulator: Simulator, tmp_path: Path, monkeypatch) -> None:
    from .conftest import CREDENTIALS
    config = tmp_path / "gateway.toml"
    config.write_text(f'[national_portal]\nmadonvi = "000.00.00.H22"\ndstcode = "DVCQG-TEST"\n'
                      f'ledger_url = "sqlite:///{tmp_path}/ledger.sqlite"\n', encoding="utf-8")
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    monkeypatch.setenv("GATEWAY_PORTAL_USERNAME", CREDENTIALS["username"])
    monkeypatch.setenv("GATEWAY_PORTAL_PASSWORD", CREDENTIALS["password"])
    connector = create(policy_from("national_portal", {"url": simulator.url, "max_batch": 5, "timeout_seconds": 2.0,
                                                       "connector": "connectors.national_portal.connector:create",
                                                       "transient_error_codes": [77]}))
    assert connector.max_batch == 5
    assert connector.client.settings.answers.transient == {"77"}
    code = dossier_code()
    assert kinds(connector.deliver(deliveries(make_dossier(code), make_step(code, 1)))) == ["delivered"] * 2
    connector.close()
    with pytest.raises(ConfigError, match="national_portal"):
        create(policy_from("national_portal", {"url": simulator.url, "adaptor_url": "typo"}))
