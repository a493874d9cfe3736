"""What an operator set from the console (held in the store) over the configuration's defaults: a
destination's rate limit and maintenance windows. The configuration stays the default; the store's
value overrides it until reset."""

from dataclasses import dataclass
import logging

from gateway.config import ConfigError
from gateway.deliver.policy import DestinationPolicy
from gateway.deliver.windows import Window, parse_windows
from gateway.store.api import DestinationState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Effective:
    rate_per_second: float
    burst: int
    windows: tuple[Window, ...]
    rate_overridden: bool = False
    windows_overridden: bool = False


def effective(policy: DestinationPolicy, state: DestinationState) -> Effective:
    windows, overridden = policy.windows, False
    if state.windows is not None:
        try:
            windows, overridden = parse_windows(state.windows, f"store.destinations.{policy.name}"), True
        except ConfigError:  # checked when set; a hand-edited row must not stop delivery: the configuration's
            log.exception("destination %s: stored maintenance windows unreadable; the configuration's apply",
                          policy.name)
    rate = state.rate_per_second if state.rate_per_second and state.rate_per_second > 0 else None
    burst = state.burst if state.burst and state.burst > 0 else None
    return Effective(rate or policy.rate_per_second, burst or policy.burst, windows,
                     rate is not None or burst is not None, overridden)
