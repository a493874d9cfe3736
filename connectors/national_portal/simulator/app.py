"""The simulated national portal: a FastAPI app speaking the classic adapter protocol and the
token protocol, strict about what it accepts, recording everything, with switchable faults.

Admin endpoints (for tests, the demo and operators): ``GET|POST /_admin/faults``,
``POST /_admin/sessions/revoke``, ``POST /_admin/session_ttl``, ``GET /_admin/record``,
``GET /_admin/record/{MaHoSo}``, ``GET /_admin/stats``, ``POST /_admin/reset``.
"""

from typing import Any

from fastapi import FastAPI

from connectors.national_portal.simulator import admin, classic, token_routes
from connectors.national_portal.simulator.catalogue import CATALOGUE
from connectors.national_portal.simulator.faults import FaultPlayer
from connectors.national_portal.simulator.portal import Simulation
from connectors.national_portal.simulator.settings import SimulatorSettings
from connectors.national_portal.simulator.state import PortalState


def create_app(settings: SimulatorSettings | None = None, catalogue: list[dict[str, Any]] | None = None) -> FastAPI:
    settings = settings or SimulatorSettings()
    sim = Simulation(settings, catalogue if catalogue is not None else CATALOGUE, PortalState(settings.session_ttl))
    player = FaultPlayer(sim)
    app = FastAPI(title="Cổng DVC quốc gia (mô phỏng) — simulated national portal")
    app.state.simulation = sim
    classic.add_routes(app, sim, player)
    token_routes.add_routes(app, sim, player)
    admin.add_routes(app, sim)
    return app
