"""A simulator of the provincial one-stop system's webhook: strict about what it takes, it records every
packet it got (once per MaGoiTin, in arrival order per dossier) and verifies the gateway's signature.

Faults (``POST /_admin/faults``): ``fail_next`` (the next N calls answer ``fail_status``, default 503,
with Retry-After 0), ``refuse_types`` (packet types answered ``{"ok": false}`` in ``results``),
``slow_seconds``, ``reject_all`` (400). A missing or failing signature is always refused 401 when
``require_signature`` (default). ``GET /_admin/record`` — what it holds; ``POST /_admin/reset``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import asyncio
import json
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gateway.kit import TrustPolicy, b64url, verify_jws

DEFAULT_FAULTS: dict[str, Any] = {"fail_next": 0, "fail_status": 503, "refuse_types": [], "slow_seconds": 0.0,
                                  "reject_all": False}


@dataclass
class PortalSimulatorSettings:
    trust: TrustPolicy | None  # the gateway's CA; None: signatures not checked
    signature_header: str = "X-Gateway-Signature"
    require_signature: bool = True
    max_bytes: int = 4_194_304


@dataclass
class Record:
    received: dict[str, dict[str, Any]] = field(default_factory=dict)  # MaGoiTin → item
    order: dict[str, list[str]] = field(default_factory=dict)  # MaHoSo → MaGoiTin in arrival order
    calls: list[dict[str, Any]] = field(default_factory=list)


def create_app(settings: PortalSimulatorSettings) -> FastAPI:
    faults = dict(DEFAULT_FAULTS)
    record = Record()
    lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(title="Provincial portal webhook simulator", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.record = record

    def check_signature(body: bytes, header: str | None) -> tuple[bool, str]:
        if settings.trust is None:
            return True, "not checked"
        if not header or header.count(".") != 2 or header.split(".")[1] != "":
            return False, "no detached JWS"
        protected, _, signature = header.split(".")
        report, _payload = verify_jws(f"{protected}.{b64url(body)}.{signature}", settings.trust,
                                      max_bytes=settings.max_bytes)
        verdict = report.to_dict()
        reasons = [s.get("reason") for s in verdict["signatures"]]
        return verdict["verdict"] == "passed", f"{verdict['verdict']} {reasons}"

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        call: dict[str, Any] = {"bytes": len(body), "batch": request.headers.get("x-gateway-batch"),
                                "ordering_key": request.headers.get("x-ordering-key")}
        if len(body) > settings.max_bytes:
            return JSONResponse({"error": "too large"}, status_code=413)
        signed, how = await run_in_threadpool(check_signature, body, request.headers.get(settings.signature_header))
        call["signature"] = how
        with lock:
            record.calls.append(call)
            if faults["fail_next"] > 0:
                faults["fail_next"] -= 1
                call["answer"] = faults["fail_status"]
                return JSONResponse({"error": "bảo trì — maintenance"}, status_code=int(faults["fail_status"]),
                                    headers={"Retry-After": "0"})
        if faults["slow_seconds"]:
            await asyncio.sleep(float(faults["slow_seconds"]))
        if settings.require_signature and not signed:
            call["answer"] = 401
            return JSONResponse({"error": f"chữ ký không hợp lệ — invalid signature: {how}"}, status_code=401)
        if faults["reject_all"]:
            call["answer"] = 400
            return JSONResponse({"error": "từ chối — refused"}, status_code=400)
        try:
            items = json.loads(body)["packets"]
            if not (isinstance(items, list) and items and  # not assert: python -O would accept anything
                    all(isinstance(i, dict) and i.get("MaGoiTin") and i.get("LoaiGoiTin") for i in items)):
                raise ValueError("packets")
        except (ValueError, KeyError, TypeError):
            call["answer"] = 400
            return JSONResponse({"error": "thân không đúng dạng — malformed body"}, status_code=400)
        results = []
        with lock:
            for item in items:
                if item["LoaiGoiTin"] in faults["refuse_types"]:
                    results.append({"ok": False, "error": f"không nhận loại {item['LoaiGoiTin']}"})
                    continue
                if item["MaGoiTin"] not in record.received:  # a retry of what it has is taken, not doubled
                    record.received[item["MaGoiTin"]] = {**item, "signature": how}
                    record.order.setdefault(str(item.get("MaHoSo")), []).append(item["MaGoiTin"])
                results.append({"ok": True})
        call["answer"] = 200
        return JSONResponse({"results": results})

    @app.post("/_admin/faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        changes = json.loads(await request.body() or b"{}")
        unknown = set(changes) - set(DEFAULT_FAULTS)
        if unknown:
            return {"error": f"unknown faults {sorted(unknown)}"}
        faults.update(changes)
        return faults

    @app.get("/_admin/record")
    async def get_record() -> dict[str, Any]:
        with lock:
            return {"received": record.received, "order": record.order, "calls": record.calls}

    @app.post("/_admin/reset")
    async def reset() -> dict[str, Any]:
        with lock:
            record.received.clear()
            record.order.clear()
            record.calls.clear()
            faults.clear()
            faults.update(DEFAULT_FAULTS)
        return {"ok": True}

    return app
