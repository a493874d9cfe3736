"""The ``[national_portal]`` configuration section, read once into a typed value.

Credentials are never in a file: the section names the environment variables that hold them.
"""

from dataclasses import dataclass, field
import os
from pathlib import Path
import tomllib
from typing import Any, Literal

from gateway.kit import Config, ConfigError

Protocol = Literal["classic", "token"]

# The values are stated once, in the connector's defaults fragment; these types only read them.
DEFAULTS: dict[str, Any] = tomllib.loads(Path(__file__).with_name("defaults.toml").read_text(encoding="utf-8"))
_PORTAL: dict[str, Any] = DEFAULTS["national_portal"]
_ANSWERS: dict[str, Any] = _PORTAL["answers"]
_TOKEN: dict[str, Any] = _PORTAL["token"]


@dataclass(frozen=True)
class AnswerCodes:
    """How the portal's ``error_code`` values are read (its codes are not published)."""

    success: frozenset[str] = frozenset(_ANSWERS["success"])
    already_exists: frozenset[str] = frozenset(_ANSWERS["already_exists"])
    relogin: frozenset[str] = frozenset(_ANSWERS["relogin"])
    relogin_message: str = _ANSWERS["relogin_message"]  # a refusal whose message names the session
    transient: frozenset[str] = frozenset(_ANSWERS["transient"])  # "try later"; every other code is permanent


@dataclass(frozen=True)
class TokenEndpoints:
    token: str = _TOKEN["token"]
    dossier: str = _TOKEN["dossier"]
    progress: str = _TOKEN["progress"]
    status: str = _TOKEN["status"]
    client_id_env: str = _TOKEN["client_id_env"]
    client_secret_env: str = _TOKEN["client_secret_env"]


@dataclass(frozen=True)
class PortalSettings:
    adapter_url: str = _PORTAL["adapter_url"]
    protocol: Protocol = _PORTAL["protocol"]
    auth_endpoint: str = _PORTAL["auth_endpoint"]
    integration_endpoint: str = _PORTAL["integration_endpoint"]
    share_endpoint: str = _PORTAL["share_endpoint"]
    madonvi: str = _PORTAL["madonvi"]
    dstcode: str = _PORTAL["dstcode"]
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    connect_timeout: float = float(_PORTAL["connect_timeout"])
    read_timeout: float = float(_PORTAL["read_timeout"])
    batch_size: int = int(_PORTAL["batch_size"])
    field_limits: dict[str, int] = field(default_factory=lambda: {k: int(v) for k, v in _PORTAL["field_limits"].items()})
    answers: AnswerCodes = AnswerCodes()
    token: TokenEndpoints = TokenEndpoints()
    mapping_file: str = _PORTAL["mapping_file"]
    hold_seconds: float = float(_PORTAL["hold_seconds"])  # a step waits this long for its dossier, then dead letter
    scalars: str = _PORTAL["scalars"]  # "text": numbers as text, as the portal's clients send them; "typed": JSON numbers
    ledger_url: str = _PORTAL["ledger_url"]

    @classmethod
    def from_config(cls, config: Config, environ: dict[str, str] | None = None) -> "PortalSettings":
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = dict(config.section("national_portal"))
        answers_raw = raw.pop("answers", {})
        token_raw = raw.pop("token", {})
        limits = raw.pop("field_limits", None)
        user_env, pass_env = raw.pop("username_env", ""), raw.pop("password_env", "")
        answer_codes: dict[str, Any] = {k: frozenset(str(c) for c in v) if isinstance(v, list) else v
                                        for k, v in answers_raw.items()}
        if limits:
            raw["field_limits"] = {str(k): int(v) for k, v in limits.items()}
        try:
            token = TokenEndpoints(**token_raw)
            settings = cls(**raw, answers=AnswerCodes(**answer_codes), token=token,
                           username=env.get(user_env, ""), password=env.get(pass_env, ""),
                           client_id=env.get(token.client_id_env, ""),
                           client_secret=env.get(token.client_secret_env, ""))
        except TypeError as exc:  # an unknown key in the section
            raise ConfigError(f"national_portal: {exc}") from None
        if settings.protocol not in ("classic", "token"):
            raise ConfigError('national_portal.protocol must be "classic" or "token"')
        if settings.scalars not in ("text", "typed"):
            raise ConfigError('national_portal.scalars must be "text" or "typed"')
        if not 1 <= settings.batch_size <= 100:
            raise ConfigError("national_portal.batch_size must be between 1 and 100")
        return settings
