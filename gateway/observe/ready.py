"""/readyz: ready to take traffic — the store answers, its schema is current; the destinations' states."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    import sqlalchemy as sa


WORKER_STALE_SECONDS = 45.0  # a worker beats every 10 s (gateway.deliver.engine.HEARTBEAT_SECONDS)


def readiness(engine: sa.Engine, workers_required: int = 0) -> tuple[bool, dict[str, Any]]:
    """Ready when the store answers, its schema is current and at least ``workers_required`` delivery workers
    beat within ``WORKER_STALE_SECONDS`` (0: workers are reported, not required — an API process takes
    packets durably whether or not a worker delivers them now)."""
    import sqlalchemy as sa  # on the first check: a server process starts sooner

    from gateway.store import migrate
    from gateway.store.tables import destinations, workers

    checks: dict[str, Any] = {}
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            checks["destinations"] = {row.name: {"paused": bool(row.paused), "circuit": row.breaker_state}
                                      for row in connection.execute(sa.select(destinations))}
            now = datetime.now(UTC)
            alive: list[str] = []
            stale: list[str] = []
            try:
                for row in connection.execute(sa.select(workers.c.name, workers.c.seen_at)):
                    seen = row.seen_at if row.seen_at.tzinfo else row.seen_at.replace(tzinfo=UTC)
                    (alive if (now - seen).total_seconds() <= WORKER_STALE_SECONDS else stale).append(row.name)
                checks["workers"] = {"alive": len(alive), "stale": len(stale), "names": sorted(alive),
                                     "required": workers_required}
            except sa.exc.SQLAlchemyError:  # an older schema without the registry: the schema check says so
                checks["workers"] = {"alive": None, "required": workers_required}
        checks["store"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        return False, {"store": f"unreachable: {exc.__class__.__name__}"}
    current, head = migrate.current(engine), migrate.head()
    checks["schema"] = {"current": current, "head": head}
    enough = (checks["workers"].get("alive") or 0) >= workers_required
    return current == head and enough, checks


def install(app: FastAPI, engine: Callable[[], sa.Engine], workers_required: int = 0) -> None:
    @app.get("/readyz", include_in_schema=False)
    def ready() -> JSONResponse:
        ok, checks = readiness(engine(), workers_required)
        return JSONResponse({"status": "ok" if ok else "not ready", **checks}, status_code=200 if ok else 503)
