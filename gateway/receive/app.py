"""The gateway's HTTP API: one endpoint family for the provincial portal and sector systems."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.config import Config
from gateway.packets.stored import packet_bytes
from gateway.receive import classic, evidence, packets
from gateway.receive.body import Refused, read_packet
from gateway.validate.pipeline import Validator


def _refusal(exc: Refused) -> JSONResponse:
    return JSONResponse({"valid": False, "errors": [exc.issue.to_dict()]}, status_code=exc.status)


def create_app(config: Config | None = None) -> FastAPI:
    config = config or Config.load()
    validator = Validator(config)
    app = FastAPI(title="Cổng kết nối", version="0.1.0",
                  description="QCVN 120 integration gateway — cổng kết nối hệ thống một cửa điện tử.")
    app.state.config = config

    @app.post("/v1/validate", summary="Validate a packet (stores nothing) — kiểm tra gói tin, không lưu")
    async def validate(request: Request) -> JSONResponse:
        try:
            data, encoding = await read_packet(request, config.max_bytes)
        except Refused as exc:
            return _refusal(exc)
        # A JWS is validated by its payload, the packet itself; its signature is /v1/packets' business.
        return JSONResponse(validator.validate(packet_bytes(data, encoding), encoding).to_dict())

    packets.install(app, config)
    classic.install(app, config, app.state.intake)  # drop-in for the portal's classic protocol
    evidence.install(app, config, app.state.intake)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
