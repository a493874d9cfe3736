"""Per-destination delivery settings, read from the ``[destinations.NAME]`` tables of the configuration."""

from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.config import Config, ConfigError
from gateway.deliver.windows import Window, parse_windows

OnDead = Literal["hold", "skip"]


@dataclass(frozen=True)
class DestinationPolicy:
    name: str
    url: str = ""
    connector: str = "http"  # "http", or "package.module:factory" for a connector of its own
    timeout_seconds: float = 5.0
    concurrency: int = 4  # calls in flight at once, per worker process
    rate_per_second: float = 50.0  # token bucket refill, shared by every worker process (in the store)
    burst: int = 10  # token bucket size
    max_batch: int = 1  # > 1: consecutive jobs of one dossier travel in one call
    max_attempts: int = 12
    max_age_seconds: float = 3 * 24 * 3600.0  # a job older than this is dead-lettered instead of retried
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 600.0
    breaker_threshold: int = 5  # consecutive transient failures that open the circuit
    breaker_cooldown_seconds: float = 30.0  # open → half-open after this long
    lease_seconds: float = 30.0
    on_dead: OnDead = "hold"  # a dead job holds back its dossier ("hold") or lets later steps pass ("skip")
    transient_statuses: tuple[int, ...] = (408, 425, 429)  # besides every 5xx
    headers: dict[str, str] = field(default_factory=dict)
    windows: tuple[Window, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)  # connector-specific keys, passed through

    def check(self) -> None:
        where = f"destinations.{self.name}"
        if self.on_dead not in ("hold", "skip"):
            raise ConfigError(f'{where}.on_dead must be "hold" or "skip"')
        for key in ("concurrency", "max_batch", "max_attempts", "breaker_threshold", "burst"):
            if int(getattr(self, key)) < 1:
                raise ConfigError(f"{where}.{key} must be at least 1")
        for key in ("timeout_seconds", "rate_per_second", "backoff_base_seconds", "backoff_cap_seconds",
                    "lease_seconds", "max_age_seconds", "breaker_cooldown_seconds"):
            if float(getattr(self, key)) <= 0:
                raise ConfigError(f"{where}.{key} must be positive")
        # The heartbeat renews leases; should it stall (the store briefly unreachable), a lease must still
        # outlive the call it covers, or another worker sends the job while this one's call is in flight.
        if self.lease_seconds < self.timeout_seconds:
            raise ConfigError(f"{where}.lease_seconds ({self.lease_seconds:g}) must not be shorter than "
                              f"timeout_seconds ({self.timeout_seconds:g})")


_KNOWN = set(DestinationPolicy.__dataclass_fields__) - {"name", "options", "windows"}


def policy_from(name: str, table: dict[str, Any]) -> DestinationPolicy:
    """One destination's policy; unknown keys are kept in ``options`` for its connector."""
    known = {k: v for k, v in table.items() if k in _KNOWN}
    if "max_age_hours" in table:
        known["max_age_seconds"] = float(table["max_age_hours"]) * 3600
    if "transient_statuses" in known:
        known["transient_statuses"] = tuple(int(s) for s in known["transient_statuses"])
    options = {k: v for k, v in table.items() if k not in _KNOWN and k not in ("windows", "max_age_hours")}
    policy = DestinationPolicy(name=name, windows=parse_windows(table.get("windows", []), f"destinations.{name}"),
                               options=options, **known)
    policy.check()
    return policy


def load_policies(config: Config) -> dict[str, DestinationPolicy]:
    """Every configured destination, by name."""
    return {name: policy_from(name, table) for name, table in config.section("destinations").items()
            if isinstance(table, dict)}
