"""The API key check every keyed route shares (``/v1/packets``, ``/v1/validate``, ``/v1/evidence``): a
locked source address is answered 429 before anything is checked, a wrong key counts against the
address (and a lock it causes is audited), so guessing keys costs the same on every route."""

import math

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from gateway.receive.auth import LOCKED, Client, Denied
from gateway.receive.denials import audit_denied
from gateway.receive.intake import PacketIntake
from gateway.receive.lockout import audit_lock


def address_key(request: Request) -> str:
    return f"address:{request.client.host if request.client else '-'}"


async def authenticated(intake: PacketIntake, request: Request, endpoint: str, *,
                        anonymous: bool = False) -> Client | None | JSONResponse:
    """The request's client; None when it carries no key at all and ``anonymous`` allows that; otherwise
    the refusal to answer with (429 while the address is locked, 401/403 for the key: a 401 audited under
    ``endpoint``)."""
    address = address_key(request)
    if (wait := intake.lockout.retry_after(address)) > 0:  # nothing checked while locked
        return JSONResponse(LOCKED.to_dict(), status_code=429, headers={"Retry-After": str(math.ceil(wait))})
    try:
        return intake.clients.authenticate(request.headers)
    except Denied as exc:
        if exc.rule == "auth.missing" and anonymous:
            return None
        audit_denied(intake.trail, endpoint, address, request.headers, exc)
        if exc.rule == "auth.invalid" and (locked := intake.lockout.failed(address)):
            await run_in_threadpool(audit_lock, lambda: intake.store, "api", "apikey.locked", locked)
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers={"WWW-Authenticate": "Bearer"})
