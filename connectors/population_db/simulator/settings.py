"""What the simulated database expects of its callers (the brief's direct-access headers, or the LGSP's token)."""

from dataclasses import dataclass


@dataclass
class SimulatorSettings:
    username: str = "sim-user"
    secret: str = "sim-secret"  # tests pass a per-run one  # noqa: S105 - the simulator's default, not a credential
    api_key: str = "sim-api-key"
    x_road_client: str = "VN/GOV/000.00.00.H99/MOTCUA"
    timestamp_unit: str = "milliseconds"  # or "seconds": which the database expects
    window_seconds: float = 300.0  # a Timestamp further than this from the simulator's clock is refused
    auth_url: str | None = None  # hashed into Authorization; None: the URL the request was sent to
    path: str = "/dancu"
    population_size: int = 500
    # The LGSP variant (the province's platform in front of the database): which one the simulator serves
    variant: str = "national"  # "national": POST {path} (SOAP); "lgsp": POST /lgsp/token and /lgsp{path} (JSON)
    lgsp_client_id: str = "sim-lgsp-client"
    lgsp_client_secret: str = "sim-lgsp-secret"  # noqa: S105 - the simulator's default, not a credential
    lgsp_token_seconds: float = 300.0
    lgsp_credentials_in: str = "body"  # or "basic"
    lgsp_request_field: str = "data"
    lgsp_answer_field: str = "data"
    seed: int = 7
