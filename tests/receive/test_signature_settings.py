"""Which signature rule applies to which sender: read once at start-up, wrong values named at once."""

from pathlib import Path

import pytest

from gateway.config import Config, ConfigError
from gateway.api import create_app
from gateway.verify import IntakeSettings, SignatureVerifier


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/g.db"\n{text}', encoding="utf-8")
    return Config.load(path)


def test_embedded_defaults_check_optional_signatures_against_partner_trust() -> None:
    verifier = SignatureVerifier.from_config(Config.load(None))
    rule = verifier.settings.rule("anyone")
    assert (rule.mode, rule.purpose, rule.covers) == ("optional", "partner", frozenset({"packet"}))
    assert set(verifier.policies) == {"partner"}  # only the trust in use is loaded
    assert verifier.policies["partner"].anchors  # the shipped Vietnamese anchors


def test_a_client_overrides_the_default(tmp_path: Path) -> None:
    settings = IntakeSettings.from_config(load(tmp_path, f"""
[clients.mot_cua]
key_sha256 = "{'a' * 64}"
signatures = "required"
signature_purpose = "citizen"
[clients.ngan_hang]
key_sha256 = "{'b' * 64}"
signature_purpose = "bank"
[clients.khac]
key_sha256 = "{'c' * 64}"
"""))
    assert settings.rule("mot_cua").mode == "required" and settings.rule("mot_cua").covers == {"packet", "body"}
    assert settings.rule("ngan_hang").mode == "optional" and settings.rule("ngan_hang").purpose == "bank"
    assert settings.rule("khac") == settings.default
    assert settings.purposes == {"partner", "citizen", "bank"}


@pytest.mark.parametrize("text, key", [
    ('[signing.intake]\nsignatures = "sometimes"\n', "signing.intake.signatures"),
    ('[signing.intake]\npurpose = "nobody"\n', "signing.intake.purpose"),
    (f'[clients.x]\nkey_sha256 = "{"a" * 64}"\nsignature_purpose = "nobody"\n', "clients.x.signature_purpose"),
    ('[signing.purposes.partner]\ncover = ["envelope"]\n', "signing.purposes.partner.cover"),
    ('[signing.intake]\nretry_after_seconds = 0\n', "signing.intake.retry_after_seconds"),
])
def test_unusable_settings_stop_the_gateway_at_start_up(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        create_app(load(tmp_path, text))


def test_unreadable_trust_stops_the_gateway_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        create_app(load(tmp_path, '[signing.purposes.partner]\nanchors = ["/nonexistent/root.pem"]\n'))
