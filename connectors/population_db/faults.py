"""Faults of the database classified by the configured table: ``retry`` (at once), ``later`` (the database is
unavailable: callers told to come back, the breaker counts it), ``refuse`` (it refused this request)."""

from dataclasses import dataclass

from connectors.population_db.settings import PopulationSettings


@dataclass
class PopulationFault(Exception):
    kind: str  # retry | later | refuse
    cause: str  # soap | http | timeout | connection | malformed | too_large | breaker | token (LGSP)
    code: str  # the fault code, HTTP status or error class
    detail: str = ""  # the raw fault text for the operator (masked before it is logged or audited)
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.kind} ({self.cause} {self.code})"


def _local(code: str) -> str:
    """``soap:Server.Busy`` / ``{ns}Server`` → ``Server.Busy`` / ``Server``."""
    return code.rpartition("}")[2].rpartition(":")[2]


def soap_kind(settings: PopulationSettings, code: str) -> str:
    local = _local(code or "")
    table = settings.fault_codes
    return table.get(local) or table.get(local.partition(".")[0]) or table.get("default", "later")


def http_kind(settings: PopulationSettings, status: int) -> str:
    table = settings.http_status
    return table.get(str(status)) or table.get("default", "later")


def transport_kind(settings: PopulationSettings, cause: str) -> str:
    defaults = {"timeout": "later", "connection": "retry", "malformed": "later", "too_large": "refuse"}
    return settings.transport.get(cause) or defaults.get(cause, "later")
