"""What the simulated database expects of its callers (the brief's direct-access headers)."""

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
    seed: int = 7
