"""What the simulated portal expects (credentials, codes, limits) and the faults it can play."""

from dataclasses import asdict, dataclass, field, fields
import os
from typing import Any

from connectors.national_portal.settings import DEFAULTS, PortalSettings


_PORTAL = PortalSettings()  # the portal's addresses, codes and limits, as the connector states them once
_ENV = DEFAULTS["national_portal"]  # the environment variables naming the credentials


@dataclass
class SimulatorSettings:
    """The peer's own settings: the credentials it accepts, its agency and dstcode, its addresses, how long a
    session lasts, the lengths it accepts and whether it knows every procedure; values as the connector's
    defaults state them, credentials from the same environment variables."""

    username: str = field(default_factory=lambda: os.environ.get(_ENV["username_env"], "simulator"), repr=False)
    password: str = field(default_factory=lambda: os.environ.get(_ENV["password_env"], "simulator"), repr=False)
    client_id: str = field(default_factory=lambda: os.environ.get(_PORTAL.token.client_id_env, "simulator"), repr=False)
    client_secret: str = field(default_factory=lambda: os.environ.get(_PORTAL.token.client_secret_env, "simulator"),
                               repr=False)
    madonvi: str = _PORTAL.madonvi
    dstcode: str = _PORTAL.dstcode
    auth_endpoint: str = _PORTAL.auth_endpoint
    integration_endpoint: str = _PORTAL.integration_endpoint
    share_endpoint: str = _PORTAL.share_endpoint
    token_endpoint: str = _PORTAL.token.token
    token_dossier_endpoint: str = _PORTAL.token.dossier
    token_progress_endpoint: str = _PORTAL.token.progress
    token_status_endpoint: str = _PORTAL.token.status
    session_ttl: float = 1800.0  # seconds a session or token stays valid
    field_limits: dict[str, int] = field(default_factory=lambda: dict(_PORTAL.field_limits))
    require_known_procedure: bool = True  # refuse dossiers whose MaTTHC is not in the catalogue


@dataclass
class Faults:
    """Switchable over ``POST /_admin/faults``; every rate is a fraction of calls (0–1)."""

    error_rate: float = 0.0  # HTTP 500
    timeout_rate: float = 0.0  # hang ``hang_seconds`` (past any sane client timeout), then 504, nothing applied
    hang_seconds: float = 30.0
    latency_ms: float = 0.0  # added to every call
    http_status: int = 0  # non-zero: every call answered with this HTTP status
    maintenance: bool = False  # 503 with Retry-After
    maintenance_retry_after: int = 60
    throttle_rate: float = 0.0  # HTTP 429 regardless of the rate
    rate_limit: float = 0.0  # calls/s allowed (0: no limit); above it HTTP 429 with Retry-After
    malformed_rate: float = 0.0  # HTTP 200 with a truncated JSON body, nothing applied
    lost_answer_rate: float = 0.0  # the call IS applied, then the answer is lost (hang, then 504)
    exists_code: int = 3  # the "already exists" code this portal uses (3 or -3)
    refuse: dict[str, str] = field(default_factory=dict)  # MaHoSo → message: refused permanently (error_code 9)
    services: list[str] = field(default_factory=list)  # faults hit only these services (empty: every call)
    seed: int | None = None

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            current = getattr(self, name)
            if name == "seed":
                checked[name] = None if value is None else int(value)
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                checked[name] = value
            elif isinstance(current, list):
                if not isinstance(value, list):
                    raise ValueError(f"{name} must be a list")
                checked[name] = [str(v) for v in value]
            elif isinstance(current, dict):
                if not isinstance(value, dict):
                    raise ValueError(f"{name} must be an object")
                checked[name] = {str(k): str(v) for k, v in value.items()}
            else:
                checked[name] = type(current)(value)  # int or float; raises ValueError/TypeError
            if name.endswith("_rate") and not 0.0 <= checked[name] <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name, value in checked.items():  # all or nothing
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
