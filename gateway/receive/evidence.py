"""``GET /v1/evidence/{MaHoSo}``: a dossier's evidence bundle for clients allowed to ask for one
(``[clients.X] evidence = true``; deny by default), limited to dossiers of the client's agencies."""

from pathlib import Path
import tempfile

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from gateway.receipt.build import configured_tsa, gateway_signer
from gateway.config import Config
from gateway.messages import refusal, summary
from gateway.evidence.export import NoSuchDossier, export_bundle
from gateway.evidence.layout import safe_name
from gateway.receive.auth import Client
from gateway.receive.gate import authenticated
from gateway.receive.intake import PacketIntake
from gateway.receive.limits import Limited


def install(app: FastAPI, config: Config, intake: PacketIntake) -> None:
    signer, tsa = gateway_signer(config), configured_tsa(config)

    def not_found(dossier: str) -> JSONResponse:
        return JSONResponse(refusal("evidence.not_found", dossier=dossier), status_code=404)

    def export(client: Client, dossier: str) -> Response:
        store = intake.store
        # The one ownership decision over the recorded owner (hand-overs included), as look-ups and the
        # console take it; another agency's dossier is answered as unknown.
        if not intake.ownership.may_read(store, client.agencies, dossier):
            store.audit(client.name, "evidence.denied", dossier, {"reason": "not found or not the client's agency"})
            return not_found(dossier)
        intake.receipts.flush()  # receipts just answered are kept before the bundle reads them
        handle, name = tempfile.mkstemp(suffix=".zip", prefix="evidence-")
        path = Path(name)
        try:
            with open(handle, "wb") as out:
                export_bundle(store, dossier, out, signer=signer, actor=client.name, tsa=tsa)
        except NoSuchDossier:
            path.unlink(missing_ok=True)
            return not_found(dossier)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return FileResponse(path, media_type="application/zip", filename=f"evidence-{safe_name(dossier)}.zip",
                            background=BackgroundTask(path.unlink, missing_ok=True))

    async def evidence(request: Request, dossier: str) -> Response:
        client = await authenticated(intake, request, "/v1/evidence")  # a wrong key counts toward the address lockout
        if not isinstance(client, Client):
            return client  # type: ignore[return-value]  # the refusal (None only when anonymous is allowed)
        if not client.evidence:
            await run_in_threadpool(intake.store.audit, client.name, "evidence.denied", dossier,
                                    {"reason": "no evidence permission"})
            return JSONResponse(refusal("auth.evidence", client=client.name), status_code=403)
        try:  # within the client's limits, in the intake's bulkhead: an export reads and signs a whole dossier
            with intake.limits.request(client.name):
                return await intake.limits.intake(export, client, dossier)
        except Limited as exc:
            return exc.response()

    app.add_api_route("/v1/evidence/{dossier}", evidence, methods=["GET"],
                      summary=summary("api.evidence"))
