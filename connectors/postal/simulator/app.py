"""The simulated postal service over HTTP: orders, cancellations, the tracking feed, and /_admin."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import hmac
import secrets
import json
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from connectors.postal.simulator.faults import FaultPlayer, Faults
from connectors.postal.simulator.state import CANCELLED, FINAL, PostalState, ROUTES
from connectors.postal.simulator.validation import order_errors
from gateway.kit.harness import add_fault_routes

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class SimulatorSettings:
    customer_code: str = "KH-TINH-TEST"
    access_token: str = ""  # required on every call when set
    oauth_clients: dict[str, str] = field(default_factory=dict)  # client_id → secret; any: a bearer token required
    token_path: str = "/oauth/token"  # noqa: S105 - a path, not a secret
    token_seconds: float = 3600.0  # a token's lifetime (expires_in)
    order_path: str = "/api/orders"
    cancel_path: str = "/api/orders/cancel"
    tracking_path: str = "/api/tracking"
    max_page: int = 200


def _answer(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"Status": status, "Message": message, **extra})


def create_app(settings: SimulatorSettings | None = None, *, step_seconds: float = 3600.0,
               time_scale: float = 1.0, clock_running: bool = True, seed: int = 1) -> FastAPI:
    settings = settings or SimulatorSettings()
    state = PostalState(seed)
    state.clock.step_seconds, state.clock.time_scale, state.clock.running = step_seconds, time_scale, clock_running
    faults = Faults(seed=seed)
    player = FaultPlayer(faults, state.rng)

    async def tick() -> None:
        """One step every ``clock.tick`` real seconds while running; a changed clock applies at once."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(max(state.clock.tick, 0.01), 0.25))
            now = time.monotonic()
            if not state.clock.running:
                last = now
            elif now - last >= state.clock.tick:
                state.advance()
                last = now

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(tick())
        yield
        task.cancel()

    app = FastAPI(title="Bưu chính công ích mô phỏng — simulated postal service", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.postal, app.state.faults = state, faults

    # OAuth client credentials, switchable at run time (/_admin/oauth): clients, live tokens, their lifetime
    oauth: dict[str, Any] = {"clients": dict(settings.oauth_clients), "seconds": settings.token_seconds}
    tokens: dict[str, float] = {}  # token → monotonic expiry

    def authorised(request: Request) -> bool:
        if settings.access_token:
            given = request.headers.get("access_token", "")
            if not hmac.compare_digest(given.encode(), settings.access_token.encode()):
                return False
        if oauth["clients"]:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            return scheme.lower() == "bearer" and tokens.get(token, 0.0) > time.monotonic()
        return True

    @app.post(settings.token_path)
    async def issue_token(request: Request) -> JSONResponse:
        state.count("token")
        raw = await request.body()
        form = {k: v[0] for k, v in parse_qs(raw[:MAX_BODY].decode("utf-8", "replace")).items()}
        client, given = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        known = oauth["clients"].get(client)
        if form.get("grant_type") != "client_credentials" or known is None \
                or not hmac.compare_digest(given.encode(), str(known).encode()):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = secrets.token_urlsafe(24)
        tokens[token] = time.monotonic() + float(oauth["seconds"])
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": oauth["seconds"]})

    @app.post("/_admin/oauth")
    async def set_oauth(request: Request) -> dict[str, Any]:
        """{"clients": {id: secret} ({} turns OAuth off), "seconds": lifetime, "revoke": true (every live token)}."""
        changes = json.loads(await request.body() or b"{}")
        if "clients" in changes:
            oauth["clients"] = {str(k): str(v) for k, v in changes["clients"].items()}
        if "seconds" in changes:
            oauth["seconds"] = float(changes["seconds"])
        if changes.get("revoke"):
            tokens.clear()
        return {"clients": sorted(oauth["clients"]), "seconds": oauth["seconds"], "live": len(tokens)}

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ValueError("body too large")
        return json.loads(raw)

    async def guarded(request: Request, call: str) -> Response | None:
        state.count(call)
        if not authorised(request):
            return JSONResponse({"Status": 401, "Message": "access_token không hợp lệ"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"} if oauth["clients"] else None)
        return await player.before(call)

    @app.post(settings.order_path)
    async def create_order(request: Request) -> Response:
        if (fault := await guarded(request, "orders")) is not None:
            return fault
        try:
            body = await body_of(request)
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"Status": 400, "Message": "Dữ liệu không phải JSON"}, status_code=400)
        if faults.business_status:
            return _answer(faults.business_status, "Hệ thống bận, vui lòng thử lại")
        errors = order_errors(body, settings.customer_code)
        if errors:
            state.count("orders refused")
            return _answer(103, "Dữ liệu không hợp lệ: " + "; ".join(errors))
        existing = state.orders.get(body["OrderNumber"])
        if existing is not None and existing.status != CANCELLED:
            existing.creates += 1
            return _answer(102, "Đơn hàng đã tồn tại", ItemCode=existing.item_code)
        order = state.create(body)
        if (lost := await player.lose_answer("orders")) is not None:
            return lost
        return _answer(100, "Thành công", ItemCode=order.item_code)

    @app.post(settings.cancel_path)
    async def cancel_order(request: Request) -> Response:
        if (fault := await guarded(request, "cancel")) is not None:
            return fault
        try:
            body = await body_of(request)
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"Status": 400, "Message": "Dữ liệu không phải JSON"}, status_code=400)
        if not isinstance(body, dict) or set(body) != {"CustomerCode", "OrderNumber"}:
            return _answer(103, "Huỷ đơn cần đúng CustomerCode và OrderNumber")
        if body["CustomerCode"] != settings.customer_code:
            return _answer(103, f"Mã khách hàng không đúng: {body['CustomerCode']}")
        order = state.orders.get(str(body["OrderNumber"]))
        if order is None:
            return _answer(104, "Không tìm thấy đơn hàng")
        if order.status == CANCELLED:
            return _answer(102, "Đơn hàng đã được huỷ trước đó")
        if order.status in FINAL:
            return _answer(105, "Đơn hàng đã phát hoặc đã chuyển hoàn, không thể huỷ")
        state.cancel(order)
        if (lost := await player.lose_answer("cancel")) is not None:
            return lost
        return _answer(100, "Đã huỷ đơn hàng")

    @app.get(settings.tracking_path)
    async def tracking(request: Request) -> Response:
        if (fault := await guarded(request, "tracking")) is not None:
            return fault
        query = request.query_params
        if query.get("customerCode", settings.customer_code) != settings.customer_code:
            return JSONResponse({"Status": 403, "Message": "Mã khách hàng không đúng"}, status_code=403)
        try:
            size = int(query.get("pageSize", "50"))
            last_id = int(query.get("lastId", "0") or 0)
        except ValueError:
            return JSONResponse({"Status": 400, "Message": "pageSize, lastId phải là số"}, status_code=400)
        if not 1 <= size <= settings.max_page or last_id < 0:
            return JSONResponse({"Status": 400, "Message": f"pageSize từ 1 đến {settings.max_page}"}, status_code=400)
        items = state.page(last_id, size)
        return JSONResponse({"Status": 100, "Data": items, "LastId": items[-1]["Id"] if items else last_id})

    # --- admin -----------------------------------------------------------------------

    add_fault_routes(app, faults, state.rng.seed)

    @app.post("/_admin/clock")
    async def set_clock(request: Request) -> dict[str, Any]:
        changes = json.loads(await request.body() or b"{}")
        for name in ("step_seconds", "time_scale"):
            if name in changes:
                setattr(state.clock, name, float(changes[name]))
        if "running" in changes:
            state.clock.running = bool(changes["running"])
        return {"step_seconds": state.clock.step_seconds, "time_scale": state.clock.time_scale,
                "running": state.clock.running}

    @app.post("/_admin/advance")
    async def advance(request: Request) -> dict[str, int]:
        steps = int(json.loads(await request.body() or b"{}").get("steps", 1))
        return {"moved": state.advance(steps)}

    @app.post("/_admin/plan")
    async def plan(request: Request) -> Response:
        """{"OrderNumber or prefix*": "delivered" | "failed_then_delivered" | "returned"}, or {"weights": {…}}."""
        changes = json.loads(await request.body() or b"{}")
        weights = changes.pop("weights", None)
        if weights is not None:
            state.route_weights = {str(k): float(v) for k, v in weights.items() if k in ROUTES}
        bad = [v for v in changes.values() if v not in ROUTES]
        if bad:
            return JSONResponse({"error": f"unknown routes {bad}; known: {sorted(ROUTES)}"}, status_code=400)
        state.plans.update(changes)
        return JSONResponse({"plans": state.plans, "weights": state.route_weights})

    @app.get("/_admin/record")
    async def record() -> dict[str, Any]:
        return {"orders": {n: o.to_dict() for n, o in state.orders.items()}, "events": len(state.events),
                "calls": state.calls}

    @app.post("/_admin/reset")
    async def reset() -> dict[str, str]:
        clock = state.clock
        state.reset()
        state.clock = clock
        faults.__init__()  # type: ignore[misc]  # reset to the defaults in place
        oauth.update(clients=dict(settings.oauth_clients), seconds=settings.token_seconds)
        tokens.clear()
        player.rng = state.rng
        return {"status": "reset"}

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
