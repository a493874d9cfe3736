"""/readyz: ready to take traffic — the store answers, its schema is current; the destinations' states."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    import sqlalchemy as sa


def readiness(engine: sa.Engine) -> tuple[bool, dict[str, Any]]:
    import sqlalchemy as sa  # on the first check: a server process starts sooner

    from gateway.store import migrate
    from gateway.store.tables import destinations

    checks: dict[str, Any] = {}
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            checks["destinations"] = {row.name: {"paused": bool(row.paused), "circuit": row.breaker_state}
                                      for row in connection.execute(sa.select(destinations))}
        checks["store"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        return False, {"store": f"unreachable: {exc.__class__.__name__}"}
    current, head = migrate.current(engine), migrate.head()
    checks["schema"] = {"current": current, "head": head}
    return current == head, checks


def install(app: FastAPI, engine: Callable[[], sa.Engine]) -> None:
    @app.get("/readyz", include_in_schema=False)
    def ready() -> JSONResponse:
        ok, checks = readiness(engine())
        return JSONResponse({"status": "ok" if ok else "not ready", **checks}, status_code=200 if ok else 503)
