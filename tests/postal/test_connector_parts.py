"""The connector's parts without the network (its imports: tests/registry/test_layout.py): its
configuration (fragment merged under the deployment's), the mapping of postal codes, the times the
service writes, the spec the registry reads, and the operators' commands."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.postal import CONNECTOR
from connectors.postal.client import FeedItem
from connectors.postal.settings import PostalSettings
from connectors.postal.transform import item_time, returned_step, tracking_packet
from gateway.config import Config, ConfigError
from gateway.packets.envelope import GoiTin

FOLDER = Path(__file__).resolve().parents[2] / "connectors" / "postal"


def test_the_spec_names_what_it_carries_and_its_parts() -> None:
    assert CONNECTOR.name == "postal" and CONNECTOR.packet_types == {"HoSo", "TienDoXuLy", "VanDonBuuChinh"}
    assert CONNECTOR.defaults == FOLDER / "defaults.toml" and CONNECTOR.defaults.exists()
    assert CONNECTOR.create and CONNECTOR.tasks and CONNECTOR.cli


def config(tmp_path: Path, postal: str) -> Config:
    """The deployment's ``[postal]`` keys over the connector's fragment, merged by ``Config.load``."""
    path = tmp_path / "gateway.toml"
    path.write_text(postal, encoding="utf-8")
    return Config.load(path)


def test_settings_take_the_fragment_and_the_deployments_keys(tmp_path: Path) -> None:
    settings = PostalSettings.from_config(config(tmp_path, '[postal]\ncustomer_code = "KH-1"\n'
                                                           '[postal.statuses.4]\ncode = "GIAO_XONG"\nname = "x"\n'
                                                           'delivered = true\n'))
    assert settings.customer_code == "KH-1" and settings.statuses["4"].code == "GIAO_XONG"
    assert settings.statuses["7"].state == "returned"  # from the fragment
    assert settings.answers.accepted == frozenset({"100", "101"})  # from the fragment too
    assert settings.status("99").code == "BC_99"  # an unmapped code still travels
    with pytest.raises(ConfigError, match="no sender configured for agency 000.00.09.H22"):
        settings.sender("000.00.09.H22")
    with pytest.raises(ConfigError, match="postal"):
        PostalSettings.from_config(config(tmp_path, "[postal]\nno_such_key = 1\n"))
    with pytest.raises(ConfigError, match="unknown state"):
        PostalSettings.from_config(config(tmp_path, '[postal.statuses.4]\ncode = "X"\nname = ""\nstate = "lost"\n'))


@pytest.mark.parametrize("written, expected", [
    ("03/12/2026 20:15:00", "20261203201500"), ("2026-12-03T20:15:00", "20261203201500"),
    ("2026-12-03T13:15:00+00:00", "20261203201500"), ("20261203201500", "20261203201500"),
    ("", "20261203201500"), ("hôm qua", "20261203201500")])
def test_the_services_times_in_any_shape_become_local_packet_times(written: str, expected: str) -> None:
    now = datetime(2026, 12, 3, 13, 15, tzinfo=UTC)  # 20:15 in Hà Nội: used when the service gives none
    assert item_time(FeedItem("1", "D", "4", "", time=written), now) == expected


def test_originated_packets_are_valid_packets_with_stable_ids() -> None:
    settings = PostalSettings.from_config(Config.load())
    item = FeedItem("41", "000.00.01.H22-241201-0001", "4", "Phát thành công", "EI123456789VN")
    first, data = tracking_packet(item, settings.status("4"), "000.00.01.H22", None, "20261203201500", settings)
    again, same = tracking_packet(item, settings.status("4"), "000.00.01.H22", None, "20261203201500", settings)
    assert (first, data) == (again, same)
    packet = GoiTin.model_validate_json(data)
    assert packet.body.MaTrangThai == "PHAT_THANH_CONG" and packet.NoiNhan == "provincial_portal"
    ten_id, ten = returned_step(item, "000.00.01.H22", None, "20261203201500", settings)
    step = GoiTin.model_validate_json(ten)
    assert step.body.TrangThai == 10 and "EI123456789VN" in step.body.NoiDungXuLy and ten_id != first


def test_the_operators_commands(tmp_path: Path) -> None:
    deployment = tmp_path / "gateway.toml"
    deployment.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/g.db"\n[postal.senders."000.00.01.H22"]\n'
                          'name = "TTPVHCC"\naddress = "Số 1"\ntel = "0236382222"\nprovince = 48\ndistrict = 490\n',
                          encoding="utf-8")
    runner = CliRunner()
    checked = runner.invoke(CONNECTOR.cli(), ["check", "--config", str(deployment)])
    assert checked.exit_code == 0 and "000.00.01.H22" in checked.output and "PHAT_THANH_CONG → 10" in checked.output
    status = runner.invoke(CONNECTOR.cli(), ["status", "--config", str(deployment)])
    assert status.exit_code == 0 and "ordered: 0" in status.output and "cursor (vnpost): -" in status.output


def test_routes_send_orders_and_cancellations_to_postal() -> None:
    import json

    from gateway.route import Router

    router = Router.from_config(Config.load())
    examples = Path(__file__).resolve().parents[2] / "examples"

    def packet(kind: str, **changes: object) -> GoiTin:
        data = json.loads((examples / f"{kind}.json").read_text(encoding="utf-8"))
        data["NoiDung"][kind].update(changes)
        return GoiTin.model_validate(data)

    assert "postal" in router.route(packet("HoSo", TrangThaiHoSo=9, HinhThuc=1))
    assert "postal" not in router.route(packet("HoSo", TrangThaiHoSo=9, HinhThuc=0))
    for status in (7, 8):  # withdrawn, stopped: the connector cancels a shipment if there is one
        assert "postal" in router.route(packet("HoSo", TrangThaiHoSo=status, HinhThuc=0))
        assert "postal" in router.route(packet("TienDoXuLy", TrangThai=status))
    assert "postal" not in router.route(packet("TienDoXuLy", TrangThai=10))
    assert router.route(packet("VanDonBuuChinh")) == ["postal"]
    assert router.route(packet("TrangThaiVanDon")) == ["provincial_portal"]
