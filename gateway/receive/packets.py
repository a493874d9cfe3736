"""``POST /v1/packets``: the HTTP adapter over the intake (``gateway.receive.intake``).

Here only what is HTTP's: the address lock-out, the API key, the body read within its limits, the
bulkhead off the event loop — and the intake's outcome as an answer: 202 with the receipt (200 for a
resend), the refusal's status with its report, 503 with Retry-After.
"""

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.audit.service import AuditDuties
from gateway.config import Config
from gateway.messages import summary
from gateway.receive.auth import Client
from gateway.receive.body import Unread, read_packet
from gateway.receive.intake import PacketIntake
from gateway.receive.lifespan import close_on_shutdown, run_while_serving
from gateway.receive.limits import Limited
from gateway.receive.gate import authenticated
from gateway.receive.outcomes import Accepted, IntakeOutcome, Refused
from gateway.validate.pipeline import Encoding


def response(outcome: IntakeOutcome, zone: ZoneInfo) -> JSONResponse:
    """The intake's outcome as ``POST /v1/packets`` answers it."""
    if isinstance(outcome, Accepted):
        body = outcome.receipt.to_dict(zone)
        if outcome.warnings:
            body["warnings"] = outcome.warnings
        return JSONResponse(body, status_code=200 if outcome.duplicate else 202)
    if isinstance(outcome, Refused):
        return JSONResponse(outcome.report, status_code=outcome.status)
    return JSONResponse(outcome.report(), status_code=outcome.status,
                        headers={"Retry-After": str(outcome.retry_after)})


class PacketsEndpoint:
    def __init__(self, intake: PacketIntake) -> None:
        self.intake = intake

    async def handle(self, request: Request) -> JSONResponse:
        intake = self.intake
        client = await authenticated(intake, request, "/v1/packets")
        if not isinstance(client, Client):
            return client  # type: ignore[return-value]  # the refusal (None only when anonymous is allowed)
        try:
            with intake.limits.request(client.name):
                try:
                    data, encoding = await read_packet(request, intake.config.max_bytes,
                                                       intake.limits.settings.read_timeout_seconds)
                except Unread as exc:
                    return JSONResponse({"valid": False, "errors": [exc.issue.to_dict()]}, status_code=exc.status)
                # One trip off the event loop, in the intake bulkhead, for everything that blocks:
                # verification, validation, waiting for the group commit, signing the receipt.
                return await intake.limits.intake(self.answer, client, data, encoding)
        except Limited as exc:
            return exc.response()

    def answer(self, client: Client, data: bytes, encoding: Encoding) -> JSONResponse:
        """Blocking: the intake's outcome for these bytes, as an answer."""
        return response(self.intake.receive(client, data, encoding), self.intake.config.zone)


def install(app: FastAPI, config: Config, **options: Any) -> PacketIntake:
    """Adds ``POST /v1/packets`` to ``app``; the store closes with the app."""
    intake = PacketIntake(config, **options)
    app.state.intake = intake
    app.add_api_route("/v1/packets", PacketsEndpoint(intake).handle, methods=["POST"], status_code=202,
                      summary=summary("api.packets"))
    duties = AuditDuties(config)

    def start() -> None:
        intake.lockout.start()  # the shared counts' thread lives while the app serves (closed with the intake)
        intake.managed.refresh()  # the managed keys read once before the first request, in a thread
        duties.start(lambda: intake.store)

    run_while_serving(app, start, duties.stop)
    close_on_shutdown(app, intake.close)  # after the duties stopped: they use the store
    return intake
