"""The mediated look-up for sector systems: ``POST /v1/citizens/lookup`` (TraCuuThongTinCongDan) and
``POST /v1/citizens/verify`` (XacThucThongTinCongDan), JSON in and out.

Deny by default: only clients approved for look-ups (``gateway population-db allow-lookups X``, kept in the
store, or ``[clients.X] citizen_lookups = true``; see ``approvals``), naming the
officer (MaCanBo), the service (MaDVC) and a dossier (MaHoSo) they own. Each call is audited (who, when,
purpose, found or not — the identifier only masked and keyed-hashed, nothing else of the citizen), nothing
is cached, and the database is reached off the event loop in the look-up bulkhead, behind a per-client rate,
timeouts and a circuit breaker.
"""

from dataclasses import dataclass
import hashlib
import hmac
import logging
import math
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from connectors.population_db import messages  # noqa: F401 - joins the connector's sentences
from connectors.population_db.approvals import Approvals
from connectors.population_db.breaker import Breaker, BreakerOpen
from connectors.population_db.client import PopulationClient
from connectors.population_db.faults import PopulationFault
from connectors.population_db.settings import PopulationSettings
from connectors.population_db.transform import BadRequest, Query, read_query
from gateway.kit import Config, Unreadable, line, mask_identifier, parse_json_document, refusal, scrub, text
from gateway.kit.inbound import Denied, Limited, Unread, audit_denied, read_body

log = logging.getLogger(__name__)
MAX_BODY = 8192  # a look-up is a few hundred bytes
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # citizen data is never kept on the way
OPERATIONS = {"lookup": "TraCuuThongTinCongDan", "verify": "XacThucThongTinCongDan"}
OWNER_TTL = 10.0  # seconds a dossier's owner is taken as read (an officer looks up several people per dossier)
OWNERS_KEPT = 4096


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def _refused(status: int, rule: str, vi: str, en: str, **extra: Any) -> JSONResponse:
    return _answer(status, {"error": rule, "message_vi": vi, "message_en": en, **extra})


def _refused_as(status: int, error: str, rule: str, extra: dict[str, Any] | None = None, **fields: Any) -> JSONResponse:
    """A refusal answering ``error`` (the API's stable code) in the words of the catalogue's ``rule``."""
    return _refused(status, error, *text(rule, **fields), **(extra or {}))


@dataclass
class Outcome:
    response: JSONResponse
    outcome: str  # found | not_found | match | no_match | refused | unavailable | failed
    reason: str = ""


class CitizenLookups:
    def __init__(self, config: Config, services: Any, client: PopulationClient | None = None) -> None:
        self.config, self.services = config, services
        self.settings = PopulationSettings.from_config(config)
        self.breaker = Breaker(self.settings.breaker_failures, self.settings.breaker_open_seconds)
        self._client = client
        self._lock = threading.Lock()
        self.approvals = Approvals(config, lambda: services.store)
        self._owners: dict[str, tuple[float, str]] = {}

    @property
    def client(self) -> PopulationClient:
        with self._lock:
            if self._client is None:
                self._client = PopulationClient(self.settings)
            return self._client

    def owner(self, dossier: str) -> str | None:
        """Blocking when not read in the last ``OWNER_TTL`` s: the dossier's owning agency (None: unknown, never
        kept, so a dossier accepted a moment later is found)."""
        now = time.monotonic()
        kept = self._owners.get(dossier)
        if kept is not None and now - kept[0] < OWNER_TTL:
            return kept[1]
        owner: str | None = self.services.store.dossier_owner(dossier)
        if owner is not None:
            if len(self._owners) >= OWNERS_KEPT:
                self._owners.clear()
            self._owners[dossier] = (now, owner)
        return owner

    def approved(self, name: str) -> bool:
        """Blocking: the store's allow/revoke for ``name``, else the configuration's ``citizen_lookups``."""
        return self.approvals.approved(name)

    def audit(self, actor: str, kind: str, query: Query | None, body: Any, outcome: str, reason: str = "") -> None:
        """Who, when (the entry's time), purpose, found or not; the identifier masked and HMAC-keyed only."""
        detail: dict[str, Any] = {"operation": OPERATIONS[kind], "outcome": outcome}
        if reason:
            detail["reason"] = reason
        if query is not None:
            detail.update(MaDVC=query.ma_dvc, MaCanBo=mask_identifier(query.ma_can_bo), MaHoSo=query.ma_ho_so,
                          identifier=mask_identifier(query.identifier), MaYeuCau=query.request_id)
            if self.settings.identifier_key:
                detail["identifier_hmac"] = hmac.new(self.settings.identifier_key.encode(),
                                                     query.identifier.encode(), hashlib.sha256).hexdigest()
        elif isinstance(body, dict):  # what the refused call named of its purpose, never who was looked up
            for key in ("MaDVC", "MaHoSo"):
                value = next((v for k, v in body.items() if str(k).lower() == key.lower()), None)
                if isinstance(value, str) and value.strip():
                    detail[key] = value.strip()[:100]
        subject = str(detail.get("MaHoSo", ""))
        self.services.trail.add(actor, f"population.{kind}", subject, detail)
        log.info("population %s by %s for dossier %s: %s%s", kind, actor, subject or "-", outcome,
                 f" ({reason})" if reason else "")

    async def handle(self, request: Request, kind: str) -> JSONResponse:
        services = self.services
        address = f"address:{request.client.host if request.client else '-'}"
        if (wait := services.lockout.retry_after(address)) > 0:
            return _answer(429, refusal("auth.locked"), {"Retry-After": str(math.ceil(wait))})
        try:
            client = services.clients.authenticate(request.headers)
        except Denied as exc:
            if exc.rule == "auth.invalid":
                services.lockout.failed(address)
            audit_denied(services.trail, f"/v1/citizens/{kind}", address, request.headers, exc)
            return JSONResponse(exc.to_dict(), status_code=exc.status, headers={"WWW-Authenticate": "Bearer"})
        try:
            with services.limits.request(client.name):
                return await self._handle(request, client, kind)
        except Limited as exc:
            return exc.response()

    async def _handle(self, request: Request, client: Any, kind: str) -> JSONResponse:
        body: Any = None
        approved = self.approvals.cached(client.name)  # a thread only when the decision must be read again
        if approved is None:
            approved = await run_in_threadpool(self.approved, client.name)
        if not approved:
            self.audit(client.name, kind, None, None, "refused", "auth.citizen_lookups")
            return _refused_as(403, "auth.citizen_lookups", "population_db.not_approved", client=client.name)
        try:
            raw = await read_body(request, MAX_BODY, self.services.limits.settings.read_timeout_seconds)
            body = parse_json_document(raw.decode("utf-8"))
            query = read_query(body)
        except Unread as exc:
            self.audit(client.name, kind, None, None, "refused", exc.issue.rule)
            return _refused(exc.status, exc.issue.rule, exc.issue.message_vi, exc.issue.message_en)
        except (Unreadable, UnicodeDecodeError) as exc:
            issue = getattr(exc, "issue", None)
            self.audit(client.name, kind, None, None, "refused", issue.rule if issue else "text.not_utf8")
            if issue is None:
                return _refused_as(400, "text.not_utf8", "population_db.not_utf8")
            return _refused(400, issue.rule, issue.message_vi, issue.message_en)
        except BadRequest as exc:
            purpose = exc.field in ("MaCanBo", "MaDVC", "MaHoSo")
            self.audit(client.name, kind, None, body, "refused", f"purpose.{exc.field}" if purpose else "request")
            return _refused(403 if purpose else 422, "lookup.purpose" if purpose else "lookup.request",
                            exc.vi, exc.en, field=exc.field)
        try:
            self.services.limits.lookup(f"population:{client.name}")
        except Limited as exc:
            self.audit(client.name, kind, query, None, "refused", exc.rule)
            raise
        if self.breaker.state == "open":  # at once: no thread, no wait
            return self._unavailable(client.name, kind, query, self._breaker_wait()).response
        result: Outcome = await self.services.limits.relayed(self.work, client, kind, query)
        return result.response

    def _breaker_wait(self) -> float:
        try:
            self.breaker.enter()
        except BreakerOpen as exc:
            return exc.retry_after
        self.breaker.released()
        return 1.0

    def _unavailable(self, actor: str, kind: str, query: Query, wait: float, reason: str = "breaker.open") -> Outcome:
        seconds = max(1, math.ceil(wait))
        self.audit(actor, kind, query, None, "unavailable", reason)
        vi, en = text("population_db.unavailable", seconds=seconds)
        return Outcome(_answer(503, {"error": "population.unavailable", "message_vi": vi, "message_en": en},
                               {"Retry-After": str(seconds)}), "unavailable", reason)

    def work(self, client: Any, kind: str, query: Query) -> Outcome:
        """Blocking, in the look-up bulkhead: the dossier's ownership, the breaker, then the database."""
        services = self.services
        owner = self.owner(query.ma_ho_so)
        if owner is None or not services.ownership.may_act(client.agencies, owner):
            self.audit(client.name, kind, query, None, "refused", "auth.dossier")
            return Outcome(_refused_as(403, "auth.dossier", "population_db.dossier", dossier=query.ma_ho_so),
                           "refused")
        try:
            self.breaker.enter()
        except BreakerOpen as exc:
            return self._unavailable(client.name, kind, query, exc.retry_after)
        try:
            if kind == "verify":
                match = self.client.verify(query)
                result = Outcome(_answer(200, {"match": match, "MaYeuCau": query.request_id}),
                                 "match" if match else "no_match")
            else:
                person = self.client.lookup(query)
                result = Outcome(_answer(200, {"found": person is not None, "citizen": person,
                                               "MaYeuCau": query.request_id}), "found" if person else "not_found")
        except PopulationFault as fault:
            return self._fault(client.name, kind, query, fault)
        except Exception:
            self.breaker.released()
            raise
        self.breaker.succeeded()
        self.audit(client.name, kind, query, None, result.outcome)
        return result

    def _fault(self, actor: str, kind: str, query: Query, fault: PopulationFault) -> Outcome:
        detail = scrub(fault.detail, (query.identifier, query.name, query.phone, query.ma_can_bo), 300)
        log.warning("population database %s: %s %s %s", fault.kind, fault.cause, fault.code, detail)
        reason = f"{fault.cause}:{fault.code}"
        if fault.kind == "refuse":
            self.breaker.released()
            self.audit(actor, kind, query, None, "failed", reason)
            return Outcome(_refused_as(502, "population.refused", "population_db.refused", {"fault": fault.code}),
                           "failed", reason)
        if self.breaker.failed():
            log.error("%s", line("population_db.log.breaker_opened", failures=self.settings.breaker_failures))
        wait = fault.retry_after or float(self.settings.retry_after_seconds)
        return self._unavailable(actor, kind, query, wait, reason)


def install(app: FastAPI, config: Config, services: Any) -> CitizenLookups:
    lookups = CitizenLookups(config, services)
    app.state.citizen_lookups = lookups

    async def lookup(request: Request) -> JSONResponse:
        return await lookups.handle(request, "lookup")

    async def verify(request: Request) -> JSONResponse:
        return await lookups.handle(request, "verify")

    app.add_api_route("/v1/citizens/lookup", lookup, methods=["POST"],
                      summary=" — ".join(reversed(text("population_db.route.lookup"))))
    app.add_api_route("/v1/citizens/verify", verify, methods=["POST"],
                      summary=" — ".join(reversed(text("population_db.route.verify"))))
    return lookups
