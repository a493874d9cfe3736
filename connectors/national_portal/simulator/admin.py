"""The simulator's admin endpoints, for tests, the demo and operators: the record, counters,
fault switches, session control, reset."""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from connectors.national_portal.simulator.portal import Simulation
from gateway.kit.harness import add_fault_routes


def add_routes(app: FastAPI, sim: Simulation) -> None:
    state, faults, rng = sim.state, sim.faults, sim.rng

    add_fault_routes(app, faults, rng.seed)

    @app.post("/_admin/session_ttl")
    async def set_session_ttl(request: Request) -> dict[str, float]:
        state.session_ttl = float(json.loads(await request.body())["seconds"])
        return {"session_ttl": state.session_ttl}

    @app.post("/_admin/sessions/revoke")
    async def revoke() -> dict[str, int]:
        return {"revoked": state.revoke_sessions()}

    @app.get("/_admin/record")
    async def record() -> dict[str, Any]:
        return state.record()

    @app.get("/_admin/record/{code:path}")
    async def record_of(code: str) -> Response:
        entry = state.dossiers.get(code)
        if entry is None:
            return JSONResponse({"error": "unknown dossier"}, status_code=404)
        return JSONResponse(entry.to_dict())

    @app.get("/_admin/stats")
    async def stats() -> dict[str, Any]:
        return {"calls": state.calls, "logins": state.logins, "sessions": len(state.sessions),
                "dossiers": len(state.dossiers), "progress": sum(len(r.progress) for r in state.dossiers.values())}

    @app.post("/_admin/reset")
    async def reset() -> dict[str, str]:
        state.dossiers.clear()
        state.calls.clear()
        state.revoke_sessions()
        state.logins = 0
        faults.__init__()  # type: ignore[misc]  # reset to the defaults in place
        return {"status": "reset"}

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}
