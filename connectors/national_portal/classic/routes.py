"""The classic protocol's three addresses on the gateway (login, integration, share), checked in
the portal's order: dstcode, session, madonvi, service. Every answer is HTTP 200 in the portal's
format, as existing clients expect."""

from collections.abc import Callable
import hashlib
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from gateway.kit import Config, text
from gateway.kit.inbound import Limited, PacketIntake, Unread, account_key, audit_lock, close_on_shutdown, read_body, wellformed
from connectors.national_portal.classic import answers, lookups
from connectors.national_portal.classic.lookups import Lookups
from connectors.national_portal.classic.orphans import OrphanCheck
from connectors.national_portal.classic.passwords import Busy, ClassicPasswords
from connectors.national_portal.classic.reading import (DOSSIER_LOOKUPS, NOTHING, DossierReads, looked_up_dossier,
                                             relayed_look_up)
from connectors.national_portal.classic.sessions import Sessions, secret_from
from connectors.national_portal.classic.settings import InboundClient, InboundSettings
from connectors.national_portal.classic.sync import ClassicSync

log = logging.getLogger(__name__)

WRITES = ("DongBoHoSoMC", "CapNhatTienDoHoSoMC")
INTEGRATION = (*WRITES, "TraCuuHoSo", "LayThuTuc")  # where the portal's clients call them
SHARE = ("LayThuTuc", "LayDanhSachTTHC", "TraCuuHoSo")
# An envelope's session, read from the bytes so that it is checked before the body is parsed.
_SESSION = re.compile(rb'"session"\s*:\s*"([A-Za-z0-9_.\-]{1,1024})"')


class Unreadable(Exception):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en


def _parse(raw: bytes) -> tuple[dict[str, Any], bool]:
    """The JSON body and whether it was a bare array (a provincial proxy's variant), kept as ``data``."""
    try:
        value = wellformed.parse_json_document(wellformed.decode_utf8(raw))
    except wellformed.Unreadable as exc:
        head_vi, head_en = text("national_portal.body_not_json")
        raise Unreadable(f"{head_vi}: {exc.issue.message_vi}", f"{head_en}: {exc.issue.message_en}") from None
    return ({"data": value}, True) if isinstance(value, list) else (value, False)


async def _read(request: Request, max_bytes: int, timeout: float = 30.0) -> tuple[dict[str, Any], bool]:
    """The JSON body, as ``_parse`` reads it."""
    try:
        return _parse(await read_body(request, max_bytes, timeout))
    except Unread as exc:
        raise Unreadable(exc.issue.message_vi, exc.issue.message_en) from None


def presented_session(request: Request, raw: bytes) -> str | None:
    """The session token before the body is parsed: the ``session`` header (bare-array bodies), else the
    envelope's ``session`` member found in the bytes (the parsed body must then say the same)."""
    if header := request.headers.get("session"):
        return header
    found = _SESSION.search(raw)
    return found.group(1).decode("ascii") if found else None


def install(app: FastAPI, config: Config, intake: PacketIntake,
            portal: Callable[[Config], Any] = lookups.portal_client) -> InboundSettings:
    settings = InboundSettings.from_config(config)
    if not settings.enabled:
        return settings
    codes = settings.codes
    sessions = Sessions(settings, secret_from(settings))
    passwords = ClassicPasswords(lambda: intake.store)
    lockout = intake.lockout
    relays = Lookups(config, codes, portal)
    reads = DossierReads(intake.ownership, lambda: intake.store, intake.trail)
    limits = intake.limits
    orphans = OrphanCheck(relays, settings.orphan_check_seconds) if settings.lookups and settings.orphan_check_seconds \
        else None
    sync = ClassicSync(settings, intake, orphans)
    app.state.inbound_classic = sessions

    def audit(actor: str, action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
        """Logins and look-ups do not need the store (sessions are signed tokens): one that is down delays
        nothing, and the gateway's log says which event was not audited."""
        try:
            intake.store.audit(actor, action, subject, detail)
        except (SQLAlchemyError, OSError):
            log.exception("%s by %s not audited (store unavailable)", action, actor)

    def refused(request: Request, rule: str, account: str | None, token: str | None = None,
                **detail: str) -> None:
        """A classic-sync refusal in the audit chain (through the intake's batcher: never a store write on
        the event loop): the account's name when the session was good, else a 12-digit SHA-256 digest of
        the presented session — never the session itself, never a password."""
        hint = None if token is None else "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]
        address = request.client.host if request.client else "unknown"
        intake.trail.add(account or "anonymous", "classic.refused", account or address,
                         {"rule": rule, "session": hint, "address": address, **detail})

    def dstcode_refused(request: Request) -> JSONResponse | None:
        if settings.dstcodes and request.headers.get("dstcode") not in settings.dstcodes:
            return answers.refused(codes.envelope, *text("national_portal.dstcode"))
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
        # A typed name that is no account's goes into the lockout (and so its log line and audit) only
        # as a keyed digest: it may be anything typed, a password say.
        keys = (account_key(client.username if client is not None else str(username)[:100], client is not None),
                f"address:{request.client.host if request.client else '-'}")
        if (wait := lockout.retry_after(*keys)) > 0:  # nothing checked: the right password does not help now
            return answers.refused(codes.login, *text("national_portal.login_locked", seconds=f"{wait:.0f}"))
        try:
            good = await run_in_threadpool(passwords.check, client, password if isinstance(password, str) else "")
        except Busy:
            return answers.refused(codes.unavailable, *text("national_portal.busy"))
        if not good or client is None:  # an unknown name never logs in
            # A name that is no account's may be anything typed (a password, say): only that it was unknown.
            await run_in_threadpool(audit, "inbound_classic", "login.failed",
                                    client.username if client is not None else "unknown")
            locked = lockout.failed(*keys)
            if locked:
                await run_in_threadpool(audit_lock, lambda: intake.store, "classic", "login.locked", locked)
            return answers.refused(codes.login, *text("national_portal.wrong_login"))
        lockout.succeeded(keys[0])
        await run_in_threadpool(audit, client.username, "login", client.username)
        return answers.ok(session=sessions.open(client))

    async def classic(request: Request, offered: tuple[str, ...], share: bool) -> JSONResponse:
        if (refusal := dstcode_refused(request)) is not None:
            return refusal
        try:
            raw = await read_body(request, config.max_bytes, limits.settings.read_timeout_seconds)
        except Unread as exc:
            return answers.refused(codes.invalid, exc.issue.message_vi, exc.issue.message_en)
        token = presented_session(request, raw)
        client = sessions.check(token)
        if client is None:
            refused(request, "session", None, token)
            return session_refused()
        try:
            with limits.request(f"classic:{client.name}"):
                return await work(request, client, token, raw, offered, share)
        except Limited as exc:
            return too_many(exc)

    def too_many(exc: Limited) -> JSONResponse:
        return answers.refused(codes.unavailable, *text("national_portal.too_many"), status_code=429,
                               headers={"Retry-After": str(exc.seconds)})

    def session_refused() -> JSONResponse:
        return answers.refused(codes.session, *text("national_portal.session"))

    async def work(request: Request, client: InboundClient, token: str | None, raw: bytes,
                   offered: tuple[str, ...], share: bool) -> JSONResponse:
        try:
            body, bare = await limits.intake(_parse, raw)  # a large body is parsed off the event loop
        except Unreadable as exc:
            return answers.refused(codes.invalid, exc.message_vi, exc.message_en)
        if bare:  # no envelope: the session travels as a header (never in the URL, which gets logged),
            for name in ("madonvi", "service", "isUpdating"):  # the rest as query parameters or headers
                value = request.query_params.get(name) or request.headers.get(name)
                if value is not None:
                    body[name] = value
        elif body.get("session", token) != token:  # the bytes named another session than the body
            refused(request, "session.mismatch", client.username)
            return session_refused()
        madonvi = body.get("madonvi")
        if not isinstance(madonvi, str) or madonvi not in client.madonvi:
            refused(request, "madonvi", client.username, madonvi=str(madonvi)[:64])
            return answers.refused(codes.envelope, *text("national_portal.madonvi"))
        service = str(body.get("service", ""))
        if service not in offered:
            refused(request, "service.not_offered", client.username, service=service[:64])
            return answers.refused(codes.unknown_service, *text("national_portal.service_not_offered", service=service))
        if service in WRITES:
            return await limits.intake(sync.handle, client, madonvi, service, body, bare)
        if not settings.lookups:
            refused(request, "service.disabled", client.username, service=service[:64])
            return answers.refused(codes.unknown_service, *text("national_portal.service_disabled", service=service))
        limits.lookup(f"classic:{client.name}")
        return await limits.relayed(lookup, client, service, body, share)

    def lookup(client: InboundClient, service: str, body: dict[str, Any], share: bool) -> JSONResponse:
        """Blocking: a dossier look-up only for what the client may read, audited; then the relay."""
        if service not in DOSSIER_LOOKUPS:
            return relays.relay(service, body, share)
        dossier = looked_up_dossier(body)
        held = None if dossier is None else reads.held(client, dossier)
        reads.audit(client, service, dossier, "refused" if dossier is None or held is False else "relayed")
        if dossier is None or held is False:  # the same answer as for a dossier nobody knows
            return JSONResponse(NOTHING)
        # only the checked code goes to the portal, and only records of the caller's agencies come back
        return relays.relay(service, relayed_look_up(body, dossier), share,
                            keep=lambda raw: reads.readable_records(client, raw, dossier, held is True))

    async def bare(request: Request, token: str, service: str) -> JSONResponse:
        """The session-less variant: a bare array at a URL carrying the client's secret token; see README."""
        client = settings.bare_client(token, request.client.host if request.client else None)
        if client is None:
            refused(request, "bare.token", None, token)
            return answers.refused(codes.session, *text("national_portal.not_allowed"))
        if (refusal := dstcode_refused(request)) is not None:
            return refusal
        try:
            with limits.request(f"classic:{client.name}"):
                try:
                    raw = await read_body(request, config.max_bytes, limits.settings.read_timeout_seconds)
                    body, is_bare = await limits.intake(_parse, raw)
                except (Unread, Unreadable) as exc:
                    issue = exc.issue if isinstance(exc, Unread) else exc
                    return answers.refused(codes.invalid, issue.message_vi, issue.message_en)
                agencies = sorted(client.madonvi)
                madonvi = request.query_params.get("madonvi") or (agencies[0] if len(agencies) == 1 else None)
                if not is_bare or madonvi not in client.madonvi or service not in WRITES:
                    refused(request, "bare.envelope", client.username, madonvi=str(madonvi)[:64],
                            service=service[:64])
                    return answers.refused(codes.envelope, *text("national_portal.bare_envelope"))
                return await limits.intake(sync.handle, client, madonvi, service, body, True)
        except Limited as exc:
            return too_many(exc)

    async def integration(request: Request) -> JSONResponse:
        return await classic(request, INTEGRATION, share=False)

    async def share(request: Request) -> JSONResponse:
        return await classic(request, SHARE, share=True)

    summary = "{1} — {0}".format(*text("national_portal.openapi"))
    app.add_api_route(settings.auth_endpoint, login, methods=["POST"], summary=f"{summary} (login)")
    app.add_api_route(settings.integration_endpoint, integration, methods=["POST"], summary=summary)
    app.add_api_route(settings.share_endpoint, share, methods=["POST"], summary=f"{summary} (share)")
    if any(client.bare is not None for client in settings.clients):
        app.add_api_route(settings.bare_endpoint + "/{token}/{service}", bare, methods=["POST"],
                          summary=f"{summary} (bare array, no session)")

    close_on_shutdown(app, relays.close)
    if orphans is not None:
        close_on_shutdown(app, orphans.close)
    return settings
