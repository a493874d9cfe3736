"""The ``[national_portal]`` configuration section, read once into a typed value.

Credentials are never in a file: the section names the environment variables that hold them.
"""

from dataclasses import dataclass, field
import os
from typing import Any, Literal

from gateway.kit import Config, ConfigError

Protocol = Literal["classic", "token"]


@dataclass(frozen=True)
class AnswerCodes:
    """How the portal's ``error_code`` values are read (its codes are not published)."""

    success: frozenset[str] = frozenset({"0", "00"})
    already_exists: frozenset[str] = frozenset({"3", "-3"})
    relogin: frozenset[str] = frozenset({"-1"})
    relogin_message: str = r"(?i)session|phiên làm việc|phiên đăng nhập"  # a refusal whose message names the session
    transient: frozenset[str] = frozenset()  # codes that mean "try later"; every other code is permanent


@dataclass(frozen=True)
class TokenEndpoints:
    token: str = "/oauth/token"
    dossier: str = "/api/v1/hoso"
    progress: str = "/api/v1/hoso/tiendo"
    status: str = "/api/v1/hoso/trangthai"
    client_id_env: str = "GATEWAY_PORTAL_CLIENT_ID"
    client_secret_env: str = "GATEWAY_PORTAL_CLIENT_SECRET"


@dataclass(frozen=True)
class PortalSettings:
    adapter_url: str = "http://127.0.0.1:8089"
    protocol: Protocol = "classic"
    auth_endpoint: str = "/adapter/auth"
    integration_endpoint: str = "/adapter/integration"
    share_endpoint: str = "/adapter/share"
    madonvi: str = "000.00.00.H00"
    dstcode: str = "DVCQG"
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    batch_size: int = 10
    field_limits: dict[str, int] = field(default_factory=lambda: {"TrichYeuHoSo": 1000, "GhiChu": 2000,
                                                                    "NoiDungXuLy": 2000})
    answers: AnswerCodes = AnswerCodes()
    token: TokenEndpoints = TokenEndpoints()
    mapping_file: str = ""
    hold_seconds: float = 86400.0  # a progress step waits this long for its dossier to reach the portal, then dead letter
    scalars: str = "text"  # classic payloads: numbers as text, as the portal's clients send them; "typed": JSON numbers
    ledger_url: str = "sqlite:///national_portal_ledger.sqlite"

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
