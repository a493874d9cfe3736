"""The gateway's HTTP API, composed: the intake, the connectors' inbound routes, the console, metrics — one endpoint family for the provincial portal and sector systems."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from gateway import console, observe, registry
from gateway.config import Config
from gateway.messages import line, summary, text
from gateway.packets.stored import packet_bytes
from gateway.receive import evidence, packets
from gateway.receive.gate import authenticated
from gateway.receive.body import Unread, read_packet
from gateway.receive.limits import Limited
from gateway.validate.pipeline import Validator

log = logging.getLogger(__name__)


def _refusal(exc: Unread) -> JSONResponse:
    return JSONResponse({"valid": False, "errors": [exc.issue.to_dict()]}, status_code=exc.status)


def create_app(config: Config | None = None) -> FastAPI:
    config = config or Config.load()
    validator = Validator(config)
    # The API's description is public only where configured ([server] docs; the embedded demo turns it on).
    docs = bool(config.section("server").get("docs", False))
    app = FastAPI(title=text("api.title")[0], version="0.1.0", description=summary("api.description"),
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None)
    app.state.config = config
    intake = packets.install(app, config)
    limits = intake.limits

    @app.exception_handler(ClientDisconnect)
    async def hung_up(request: Request, exc: ClientDisconnect) -> Response:
        log.info("%s", line("log.client_hung_up", method=request.method, path=request.url.path))
        return Response(status_code=499)  # nobody reads it

    @app.post("/v1/validate", summary=summary("api.validate"))
    async def validate(request: Request) -> JSONResponse:
        # anonymous only without any key, and only when a quota is configured; a wrong key counts
        # toward the address lockout as on /v1/packets
        client = await authenticated(intake, request, "/v1/validate", anonymous=limits.settings.anonymous_validate_rate > 0)
        if isinstance(client, JSONResponse):
            return client
        try:
            if client is None:
                limits.anonymous()
            with limits.request(client.name if client else ""):
                try:
                    data, encoding = await read_packet(request, config.max_bytes,
                                                       limits.settings.read_timeout_seconds)
                except Unread as exc:
                    return _refusal(exc)
                # A JWS is validated by its payload, the packet itself; its signature is /v1/packets' business.
                report = await limits.intake(validator.validate, packet_bytes(data, encoding), encoding)
                return JSONResponse(report.to_dict(limits.settings.report_issues))
        except Limited as exc:
            return exc.response()

    registry.install_routes(app, config, intake)  # connectors' inbound endpoints (the portal's classic drop-in)
    evidence.install(app, config, intake)  # evidence bundles for clients allowed them

    if config.section("console").get("enabled", True):
        console.web.install(app, config, lambda: intake.store)  # the operators' web console
    observe.install(app, config, lambda: intake.store.engine)  # type: ignore[attr-defined]  # the SQL store has an engine; the Store protocol does not name it

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
