"""Routing by configuration: the default rules on real example packets, fan-out, and bad rules."""

import json
from pathlib import Path

import pytest

from gateway import registry
from gateway.config import Config, ConfigError
from gateway.packets.envelope import GoiTin
from gateway.route import Router, Unrouted

EXAMPLES = Path(__file__).parents[2] / "examples"


def example(kind: str, **body_changes: object) -> GoiTin:
    data = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    body = data["NoiDung"][kind]
    for field, value in body_changes.items():
        if value is None:
            body.pop(field, None)
        else:
            body[field] = value
    return GoiTin.model_validate(data)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_config(Config.load())


def test_progress_and_dossiers_go_to_the_national_portal(router: Router) -> None:
    assert router.route(example("TienDoXuLy", TrangThai=4)) == ["national_portal"]
    assert router.route(example("HoSo", TrangThaiHoSo=4, HinhThuc=0)) == ["national_portal"]


def test_finished_dossier_returned_by_post_fans_out_to_postal(router: Router) -> None:
    assert router.route(example("HoSo", TrangThaiHoSo=9, HinhThuc=1)) == ["national_portal", "postal"]
    assert router.route(example("HoSo", TrangThaiHoSo=9, HinhThuc=0)) == ["national_portal"]
    assert router.route(example("HoSo", TrangThaiHoSo=10, HinhThuc=1)) == ["national_portal"]


def test_payment_requested_with_fees_goes_to_payment(router: Router) -> None:
    with_fees = example("HoSo", TrangThaiHoSo=6, HinhThuc=0)
    assert with_fees.body.DanhSachLePhi
    assert router.route(with_fees) == ["national_portal", "payment"]
    assert router.route(example("HoSo", TrangThaiHoSo=6, HinhThuc=0, DanhSachLePhi=None)) == ["national_portal"]
    # The one-stop system's own payment request: routed by the payment connector's fragment.
    assert router.route(example("YeuCauThanhToan")) == ["payment"]


def test_other_types_follow_their_rules(router: Router) -> None:
    assert router.route(example("BienLaiThanhToan")) == ["provincial_portal"]
    assert router.route(example("PhanAnhKienNghi")) == ["provincial_portal"]
    assert router.route(example("DanhGiaHaiLong")) == ["provincial_portal"]
    assert router.route(example("VanDonBuuChinh")) == ["postal"]
    assert router.route(example("TrangThaiVanDon")) == ["provincial_portal"]
    assert router.route(example("ThuTucHanhChinh")) == ["catalogue"]


def test_the_national_portal_is_routed_only_what_its_connector_carries(router: Router) -> None:
    from connectors.national_portal.connector import NationalPortalConnector

    config = Config.load()
    assert config.section("destinations")["national_portal"]["connector"] == "national_portal"
    assert registry.specs(config)["national_portal"].packet_types == NationalPortalConnector.carries
    for path in sorted(EXAMPLES.glob("*.json")):
        if path.stem == "BienNhan":  # the gateway's own receipt: never routed
            continue
        packet = GoiTin.model_validate_json(path.read_text(encoding="utf-8"))
        if "national_portal" in router.route(packet):
            assert packet.LoaiGoiTin in NationalPortalConnector.carries, path.name


def write(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return Config.load(path)


def test_unrouted_packets_are_refused_or_kept_by_policy(tmp_path: Path) -> None:
    rules = '[[routes.rules]]\ntypes = ["HoSo"]\nto = ["x"]\n'
    strict = Router.from_config(write(tmp_path, "[routes]\nrules = []\n"))
    with pytest.raises(Unrouted):
        strict.route(example("TienDoXuLy"))
    keep = write(tmp_path, '[routes]\nunrouted = "keep"\n' + rules)
    assert Router.from_config(keep).route(example("TienDoXuLy")) == []


def test_a_deployment_replaces_the_rules(tmp_path: Path) -> None:
    config = write(tmp_path, '[[routes.rules]]\nname = "sở"\ntypes = ["TienDoXuLy"]\n'
                   'where = { NguoiXuLy = true, TrangThai = ["2", 4] }\nto = ["so_nganh", "so_nganh"]\n')
    router = Router.from_config(config)
    assert router.route(example("TienDoXuLy", TrangThai=4)) == ["so_nganh"]
    with pytest.raises(Unrouted):
        router.route(example("TienDoXuLy", TrangThai=9))
    with pytest.raises(Unrouted):  # the connectors' fragment rules are replaced with the product's
        router.route(example("YeuCauThanhToan"))


def test_a_connector_fragment_adds_its_rules_to_the_products() -> None:
    names = [rule.get("name", "") for rule in Config.load().section("routes")["rules"]]
    assert "Yêu cầu thanh toán — payment requests" in names  # from connectors/payment/defaults.toml
    assert "Đồng bộ hồ sơ, tiến độ lên Cổng DVC quốc gia — dossier and progress sync" in names  # kept


@pytest.mark.parametrize("rule, complaint", [
    ('types = ["HoSo"]', "'to' must be"),
    ('types = ["Nope"]\nto = ["x"]', "unknown packet types"),
    ('to = ["x"]\nwhere = { TrangThai = 9 }', "where.TrangThai"),
])
def test_bad_rules_are_named(tmp_path: Path, rule: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        Router.from_config(write(tmp_path, f"[[routes.rules]]\n{rule}\n"))
