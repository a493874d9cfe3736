"""The classic protocol's three addresses on the gateway (login, integration, share), checked in
the portal's order: dstcode, session, madonvi, service. Every answer is HTTP 200 in the portal's
format, as existing clients expect."""

from collections.abc import Callable
import hashlib
import hmac
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from gateway.config import Config
from gateway.receive.classic import answers, lookups
from gateway.receive.classic.lookups import Lookups
from gateway.receive.classic.sessions import Sessions, secret_from
from gateway.receive.classic.settings import InboundSettings
from gateway.receive.classic.sync import ClassicSync
from gateway.receive.lifespan import close_on_shutdown
from gateway.receive.packets import PacketIntake
from gateway.validate import wellformed

log = logging.getLogger(__name__)

WRITES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
INTEGRATION = (*WRITES, "TraCuuHoSo")  # as the portal: look-ups of the catalogue are on share
SHARE = ("LayThuTuc", "LayDanhSachTTHC", "TraCuuHoSo")


class Unreadable(Exception):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en


async def _read(request: Request, max_bytes: int) -> tuple[dict[str, Any], bool]:
    """The JSON body and whether it was a bare array (a provincial proxy's variant, wrapped as ``data``)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise Unreadable(f"Nội dung vượt quá {max_bytes} byte", f"The body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    try:
        text = wellformed.decode_utf8(b"".join(chunks)).removeprefix("\ufeff")
        bare = text.lstrip().startswith("[")
        return wellformed.parse_json('{"data":' + text + "}" if bare else text), bare
    except wellformed.Unreadable as exc:
        raise Unreadable(f"Nội dung không phải JSON hợp lệ: {exc.issue.message_vi}",
                         f"The body is not valid JSON: {exc.issue.message_en}") from None


def install(app: FastAPI, config: Config, intake: PacketIntake,
            portal: Callable[[Config], Any] = lookups.portal_client) -> InboundSettings:
    settings = InboundSettings.from_config(config)
    if not settings.enabled:
        return settings
    codes = settings.codes
    sessions = Sessions(settings, secret_from(settings))
    sync = ClassicSync(settings, intake)
    relays = Lookups(config, codes, portal)
    app.state.inbound_classic = sessions

    def audit(actor: str, action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
        """Logins and look-ups do not need the store (sessions are signed tokens): one that is down delays
        nothing, and the gateway's log says which event was not audited."""
        try:
            intake.store.audit(actor, action, subject, detail)
        except (SQLAlchemyError, OSError):
            log.exception("%s by %s not audited (store unavailable)", action, actor)

    def dstcode_refused(request: Request) -> JSONResponse | None:
        if settings.dstcodes and request.headers.get("dstcode") not in settings.dstcodes:
            return answers.refused(codes.envelope, "dstcode không hợp lệ", "dstcode not accepted")
        return None

    async def login(request: Request) -> JSONResponse:
        if (refusal := dstcode_refused(request)) is not None:
            return refusal
        try:
            body, _ = await _read(request, 64 * 1024)
        except Unreadable as exc:
            return answers.refused(codes.invalid, exc.message_vi, exc.message_en)
        username, password = body.get("username"), body.get("password")
        client = settings.client_named(username) if isinstance(username, str) else None
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest() if isinstance(password, str) else ""
        if client is None or not hmac.compare_digest(digest, client.password_sha256):
            # A name that is no account's may be anything typed (a password, say): only that it was unknown.
            await run_in_threadpool(audit, "inbound_classic", "login.failed",
                                    client.username if client is not None else "unknown")
            return answers.refused(codes.login, "Tên đăng nhập hoặc mật khẩu không đúng",
                                   "Wrong username or password")
        await run_in_threadpool(audit, client.username, "login", client.username)
        return answers.ok(session=sessions.open(client))

    async def classic(request: Request, offered: tuple[str, ...], share: bool) -> JSONResponse:
        if (refusal := dstcode_refused(request)) is not None:
            return refusal
        try:
            body, bare = await _read(request, config.max_bytes)
        except Unreadable as exc:
            return answers.refused(codes.invalid, exc.message_vi, exc.message_en)
        if bare:  # no envelope: the session travels as a header (never in the URL, which gets logged),
            body["session"] = request.headers.get("session")  # the rest as query parameters or headers
            for name in ("madonvi", "service", "isUpdating"):
                value = request.query_params.get(name) or request.headers.get(name)
                if value is not None:
                    body[name] = value
        client = sessions.check(body.get("session"))
        if client is None:
            return answers.refused(codes.session, "Session không hợp lệ hoặc đã hết hạn; hãy đăng nhập lại",
                                   "Session invalid or expired; log in again")
        madonvi = body.get("madonvi")
        if not isinstance(madonvi, str) or madonvi not in client.madonvi:
            return answers.refused(codes.envelope, "madonvi không hợp lệ hoặc không được phép với tài khoản này",
                                   "madonvi is invalid or not allowed for this account")
        service = str(body.get("service", ""))
        if service not in offered:
            return answers.refused(codes.unknown_service, f"Dịch vụ {service} không được hỗ trợ tại địa chỉ này",
                                   f"Service {service} is not offered at this address")
        if service in WRITES:
            return await run_in_threadpool(sync.handle, client, madonvi, service, body, bare)
        if not settings.lookups:
            return answers.refused(codes.unknown_service, f"Dịch vụ {service} không được bật trên cổng kết nối",
                                   f"Service {service} is not enabled on the gateway")
        await run_in_threadpool(audit, client.username, "lookup", service, {"madonvi": madonvi})
        return await run_in_threadpool(relays.relay, service, body, share)

    async def integration(request: Request) -> JSONResponse:
        return await classic(request, INTEGRATION, share=False)

    async def share(request: Request) -> JSONResponse:
        return await classic(request, SHARE, share=True)

    summary = "Drop-in: national portal classic protocol — tương thích giao thức Cổng DVC quốc gia"
    app.add_api_route(settings.auth_endpoint, login, methods=["POST"], summary=f"{summary} (login)")
    app.add_api_route(settings.integration_endpoint, integration, methods=["POST"], summary=summary)
    app.add_api_route(settings.share_endpoint, share, methods=["POST"], summary=f"{summary} (share)")

    close_on_shutdown(app, relays.close)
    return settings
