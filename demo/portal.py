"""The simulated portal's admin endpoints, as the demo uses them (faults, sessions, the record, counters)."""

from collections import Counter
from typing import Any

import httpx


class PortalAdmin:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10, trust_env=False)

    def faults(self, **changes: Any) -> dict[str, Any]:
        answer = self.http.post("/_admin/faults", json=changes)
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]

    def revoke_sessions(self) -> int:
        return int(self.http.post("/_admin/sessions/revoke").json()["revoked"])

    def record(self, code: str | None = None) -> Any:
        answer = self.http.get(f"/_admin/record/{code}" if code else "/_admin/record")
        return answer.json() if answer.status_code == 200 else None

    def stats(self) -> dict[str, Any]:
        return self.http.get("/_admin/stats").json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http.close()


def outcomes(stats: dict[str, Any]) -> Counter[str]:
    """Calls per answer over every service: "0", "error", "timeout", "HTTP 503", "-1" (session refused), …"""
    counted: Counter[str] = Counter()
    for key, n in stats.get("calls", {}).items():
        counted[key.rpartition(" → ")[2]] += int(n)
    return counted
