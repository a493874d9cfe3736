"""The [national_portal] section: embedded defaults, a deployment's overrides, credentials only from the environment."""

from pathlib import Path

import pytest

from connectors.national_portal.settings import PortalSettings
from gateway.config import Config, ConfigError


def test_defaults_and_credentials_from_the_environment() -> None:
    settings = PortalSettings.from_config(Config.load(), {"GATEWAY_PORTAL_USERNAME": "tinh-h22",
                                                          "GATEWAY_PORTAL_PASSWORD": "mat-khau"})
    assert settings.protocol == "classic" and settings.batch_size == 10
    assert settings.field_limits == {"TrichYeuHoSo": 1000, "GhiChu": 2000, "NoiDungXuLy": 2000}
    assert settings.answers.already_exists == {"3", "-3"} and settings.answers.success == {"0", "00"}
    assert settings.username == "tinh-h22" and settings.password == "mat-khau"
    assert "mat-khau" not in repr(settings)
    assert PortalSettings.from_config(Config.load(), {}).password == ""  # nothing in any file


def test_a_deployment_overrides_keys(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('[national_portal]\nprotocol = "token"\nmadonvi = "000.00.00.H22"\n'
                    '[national_portal.field_limits]\nTrichYeuHoSo = 500\n'
                    '[national_portal.answers]\ntransient = ["99", -5]\n', encoding="utf-8")
    settings = PortalSettings.from_config(Config.load(path), {})
    assert settings.protocol == "token" and settings.madonvi == "000.00.00.H22"
    assert settings.field_limits["TrichYeuHoSo"] == 500 and settings.field_limits["GhiChu"] == 2000
    assert settings.answers.transient == {"99", "-5"}


@pytest.mark.parametrize("text", ['[national_portal]\nadaptor_url = "x"\n', '[national_portal]\nprotocol = "soap"\n',
                                  '[national_portal]\nbatch_size = 0\n', '[national_portal.token]\ntokens = "/t"\n'])
def test_unusable_sections_fail_early(tmp_path: Path, text: str) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="national_portal"):
        PortalSettings.from_config(Config.load(path), {})
