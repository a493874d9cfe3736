"""The simulated portal's admin endpoints, as the demo uses them (faults, sessions, the record, counters)."""

from collections import Counter
from typing import Any

from gateway.kit.harness import AdminClient


class PortalAdmin(AdminClient):
    """The simulated portal's admin endpoints (``gateway.kit.harness``)."""


def outcomes(stats: dict[str, Any]) -> Counter[str]:
    """Calls per answer over every service: "0", "error", "timeout", "HTTP 503", "-1" (session refused), …"""
    counted: Counter[str] = Counter()
    for key, n in stats.get("calls", {}).items():
        counted[key.rpartition(" → ")[2]] += int(n)
    return counted
