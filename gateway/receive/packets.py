"""``POST /v1/packets``: authenticate, verify, validate, route, store durably, then answer.

The answer comes only after the packet and its jobs are committed (group commit): a 202
receipt means nothing can be lost any more; no answer means the sender must resend, and
the same MaGoiTin with the same bytes then gets the original receipt back (200).
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
import hashlib
import json
import logging
import math
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from gateway.audit.service import AuditDuties
from gateway.config import Config
from gateway.packets.envelope import GoiTin
from gateway.receipt import ReceiptSigner, build_receipt, receipt_signer
from gateway.receive.auth import LOCKED, Client, Clients, Denied
from gateway.receive.body import Refused, read_packet
from gateway.receive.committer import GroupCommitter
from gateway.receive.keys import ManagedClients
from gateway.receive.lifespan import close_on_shutdown, run_while_serving
from gateway.receive.limits import ClientLimits, Limited, LimitSettings
from gateway.receive.lockout import Lockout, LockoutPolicy, audit_lock
from gateway.receive.ownership import GuardedHistory, Ownership
from gateway.route import Router, Unrouted
from gateway.store.api import NewPacket, NotAdmitted, Store, open_store
from gateway.store.trail import AuditBatcher
from gateway.validate.pipeline import Encoding, Validator
from gateway.validate.semantic import (TRANSITION_RULES, NoHistory, StatusHistory, status_of, status_path,
                                       transition_issues)
from gateway.verify import SignatureCheck, SignatureVerifier, not_checked

log = logging.getLogger(__name__)


# The verify seam: (client name, received bytes, encoding) → verdict, decision and the signed content.
# By default the configured ``SignatureVerifier`` (gateway.verify); ``unchecked`` turns it off.
Verifier = Callable[[str, bytes, Encoding], SignatureCheck]


def unchecked(client: str, raw: bytes, encoding: Encoding) -> SignatureCheck:
    """A verifier that checks nothing (tests of other steps; ``signatures = "off"`` does it by config)."""
    return not_checked()


class Answer(Exception):
    """A finished HTTP answer raised from deep inside the intake."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = JSONResponse(body, status_code=status, headers=headers)


# A single packet's status transition is checked where it is stored (``PacketIntake.admit``, inside the
# accepting transaction), not while validating: two steps of one dossier sent at the same instant are then
# checked one after the other, and no request thread reads the store.
AT_COMMIT = NoHistory()


def _error(status: int, rule: str, vi: str, en: str, **extra: Any) -> Answer:
    return Answer(status, {"error": rule, "message_vi": vi, "message_en": en, **extra})


class PacketIntake:
    def __init__(self, config: Config, *, verify: Verifier | None = None, signer: ReceiptSigner | None = None,
                 store: Store | None = None) -> None:
        self.config = config
        self.validator = Validator(config, history=self)  # statuses come from the store
        self.router = Router.from_config(config)
        self.clients = replace(Clients.from_config(config), managed=ManagedClients(lambda: self.store))
        self.lockout = Lockout(LockoutPolicy.from_config(config))  # API keys here, classic logins too
        self.ownership = Ownership.from_config(config)
        self.limits = ClientLimits(LimitSettings.from_config(config))
        self.trail = AuditBatcher(lambda: self.store)  # frequent audit rows (look-ups), written together
        self.verify = verify or SignatureVerifier.from_config(config)  # trust loaded once, at start-up
        self.signer = signer or receipt_signer(config)
        self._store = store
        self._committer: GroupCommitter | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """Opened on first use, so an app that never receives packets never touches a database."""
        with self._lock:
            if self._store is None:
                self._store = open_store(str(self.config.section("store").get("url", "sqlite:///gateway.db")))
            return self._store

    @property
    def committer(self) -> GroupCommitter:
        store = self.store
        with self._lock:
            if self._committer is None:
                settings = self.config.section("store")
                self._committer = GroupCommitter(store, admit=self.admit, guard=self.ownership.guard,
                                                 batch_max=int(settings.get("batch_max", 128)),
                                                 batch_wait_ms=float(settings.get("batch_wait_ms", 0)))
            return self._committer

    def previous_status(self, dossier: str) -> int | None:
        """Validation's StatusHistory outside the accepting transaction: the last status accepted for
        the dossier (the full report of a refused packet; the classic sync protocol's calls)."""
        return self.store.previous_status(dossier)

    def history_for(self, client: Client) -> GuardedHistory:
        """The status history as ``client`` may see it: none for another agency's dossiers."""
        return GuardedHistory(self.store, self.ownership, client.agencies)

    def admit(self, packet: NewPacket, previous: int | None) -> NewPacket | NotAdmitted:
        """The status transition of a packet about to be stored (the store's ``Admit``): refused with the
        validation report a 422 carries, or let through with a policy's warning in its verdicts. A
        transition warning found before, against an older history (the classic path checks each call
        first), gives way to this one."""
        assert packet.dossier is not None and packet.status is not None  # the store checks steps only
        path = status_path(packet.packet_type)
        errors, warnings = transition_issues(self.config, packet.dossier, packet.status, previous, path)
        validation = packet.verdicts["validation"]
        before = validation.get("warnings", [])
        found = [w for w in before if not (w["path"] == path and w["rule"] in TRANSITION_RULES)]
        found += [issue.to_dict() for issue in warnings]
        amended = {key: value for key, value in validation.items() if key != "warnings"} | (
            {"warnings": found} if found else {})
        if errors:
            heading = {"MaGoiTin": packet.packet_id, "LoaiGoiTin": packet.packet_type, "MaHoSo": packet.dossier}
            return NotAdmitted({**amended, "valid": False, "errors": [issue.to_dict() for issue in errors],
                                "packet": heading})
        if found == before:
            return packet
        return replace(packet, verdicts={**packet.verdicts, "validation": amended})

    def close(self) -> None:
        self.trail.close()  # first: it writes to the store
        with self._lock:
            if self._committer is not None:
                self._committer.close()
                self._committer = None
            if self._store is not None:
                self._store.close()
                self._store = None

    def prepare(self, client: Client, data: bytes, encoding: Encoding,
                history: StatusHistory | None = None) -> tuple[NewPacket, GoiTin, list[str],
                                                                SignatureCheck, dict[str, Any]]:
        """Everything before storing; raises Answer for every refusal. ``history`` replaces the
        store's status history, e.g. to see earlier packets of the same call not stored yet, or
        AT_COMMIT to leave the transition to ``admit``."""
        # Verify first, on the bytes received; then validate, route and store from what the
        # signature covers (the signed XML element, the JWS payload), never another reading.
        signature = self.verify(client.name, data, encoding)
        if signature.refuse:
            vi, en = signature.message
            if signature.retry_after is not None:
                raise Answer(503, {"error": "signature.try_later", "message_vi": vi, "message_en": en,
                                   "signature": signature.report}, {"Retry-After": str(signature.retry_after)})
            raise _error(422, signature.rule, vi, en, signature=signature.report)
        signed = data if signature.content is None else signature.content
        report = self.validator.validate(signed, encoding, history)
        if not report.valid and history is AT_COMMIT:  # the full report, the transition included
            report = self.validator.validate(signed, encoding, self.history_for(client))
        if report.packet is None or (not report.valid and not self._accepted_before(client, report.packet, data)):
            raise Answer(422, report.to_dict(self.limits.settings.report_issues))
        packet = report.packet
        try:
            self.clients.authorize(client, packet)
        except Denied as exc:
            raise Answer(exc.status, exc.to_dict()) from None
        try:
            routes = self.router.route(packet)
        except Unrouted:
            raise _error(422, "route.none", f"Không có nơi nhận nào được cấu hình cho gói tin {packet.LoaiGoiTin} này.",
                         f"No destination is configured for this {packet.LoaiGoiTin} packet.") from None
        validation = report.to_dict(self.limits.settings.report_issues)  # a resend keeps the original's verdicts: the store ignores this one
        validation.pop("packet", None)
        new = NewPacket(packet.MaGoiTin, hashlib.sha256(data).hexdigest(), data, encoding, client.name,
                        datetime.now(UTC), packet.LoaiGoiTin, packet.dossier_code,
                        {"validation": validation, "signature": signature.report}, packet.NoiGui, status_of(packet),
                        client.agencies)
        return new, packet, routes, signature, validation

    def _audit_refusal(self, client: Client, data: bytes, response: JSONResponse) -> None:
        """A packet refused before storing, in the audit log: its hash and the rules, never its values."""
        try:
            body = json.loads(bytes(response.body))
            rules = sorted({str(e.get("rule")) for e in body.get("errors") or [] if isinstance(e, dict)}
                           | ({str(body["error"])} if body.get("error") else set()))
            signature = body.get("signature")
            self.store.audit(client.name, "packet.refused", hashlib.sha256(data).hexdigest(), {
                "status": response.status_code, "rules": rules,
                "signature": signature.get("verdict") if isinstance(signature, dict) else None})
        except (SQLAlchemyError, OSError, ValueError):  # the answer goes out anyway; the log says why not
            log.exception("refusal not audited (sender %s)", client.name)

    def _accepted_before(self, client: Client, packet: GoiTin, data: bytes) -> bool:
        """These exact bytes were accepted already: a resend after a lost receipt. The status
        history has moved on since (its own step is in it), so the resend gets the original
        receipt instead of a transition error."""
        original = self.store.get_packet(packet.MaGoiTin)
        return (original is not None and original.sender == client.name
                and original.sha256 == hashlib.sha256(data).hexdigest())

    async def handle(self, request: Request) -> JSONResponse:
        address = f"address:{request.client.host if request.client else '-'}"
        if (wait := self.lockout.retry_after(address)) > 0:  # nothing checked while locked
            return JSONResponse(LOCKED.to_dict(), status_code=429, headers={"Retry-After": str(math.ceil(wait))})
        try:
            client = self.clients.authenticate(request.headers)
        except Denied as exc:
            if exc.rule == "auth.invalid" and (locked := self.lockout.failed(address)):
                await run_in_threadpool(audit_lock, lambda: self.store, "api", "apikey.locked", locked)
            return JSONResponse(exc.to_dict(), status_code=exc.status, headers={"WWW-Authenticate": "Bearer"})
        try:
            with self.limits.request(client.name):
                try:
                    data, encoding = await read_packet(request, self.config.max_bytes,
                                                       self.limits.settings.read_timeout_seconds)
                except Refused as exc:
                    return JSONResponse({"valid": False, "errors": [exc.issue.to_dict()]}, status_code=exc.status)
                # One trip off the event loop, in the intake bulkhead, for everything that blocks:
                # verification, validation, waiting for the group commit, signing the receipt.
                return await self.limits.intake(self.receive, client, data, encoding)
        except Limited as exc:
            return exc.response()

    def receive(self, client: Client, data: bytes, encoding: Encoding) -> JSONResponse:
        """Blocking: prepare, store durably, answer with the receipt."""
        try:
            new, packet, routes, signature, validation = self.prepare(client, data, encoding, AT_COMMIT)
            result = self.committer.submit(new, routes).result()
        except Answer as answer:
            self._audit_refusal(client, data, answer.response)
            return answer.response
        except (SQLAlchemyError, OSError):  # the store is unreachable or failing: nothing was accepted
            log.exception("packet not stored (sender %s)", client.name)
            return JSONResponse(
                {"error": "store.unavailable",
                 "message_vi": "Chưa lưu được gói tin (kho dữ liệu tạm thời không sẵn sàng); hãy gửi lại sau.",
                 "message_en": "The packet was not stored (the store is unavailable); send it again later."},
                status_code=503, headers={"Retry-After": "5"})
        if result.refused is not None:
            return JSONResponse(result.refused, status_code=403 if result.refused.get("error") == "auth.dossier"
                                else 422)
        if result.verdicts is not None:
            validation = result.verdicts["validation"]  # as admitted: a transition warning added
        if result.conflict:
            log.warning("conflict: packet %s resent by %s with other content", new.packet_id, client.name)
            return _error(409, "packet.conflict",
                          f"Mã gói tin {new.packet_id} đã được dùng cho một nội dung khác; hãy tạo MaGoiTin mới.",
                          f"Packet id {new.packet_id} was already used for other content; use a new MaGoiTin.",
                          MaGoiTin=new.packet_id).response
        log.info("%s packet %s (%s) from %s → %s", "duplicate" if result.duplicate else "accepted",
                 new.packet_id, new.packet_type, client.name, ", ".join(result.destinations))
        receipt = build_receipt(result, packet, new.raw, signature.verdict, encoding, self.signer)  # type: ignore[arg-type]
        body = receipt.to_dict(self.config.zone)
        if validation.get("warnings"):
            body["warnings"] = validation["warnings"]
        return JSONResponse(body, status_code=200 if result.duplicate else 202)


def install(app: FastAPI, config: Config, **options: Any) -> PacketIntake:
    """Adds ``POST /v1/packets`` to ``app``; the store closes with the app."""
    intake = PacketIntake(config, **options)
    app.state.intake = intake
    app.add_api_route("/v1/packets", intake.handle, methods=["POST"], status_code=202,
                      summary="Submit a packet for delivery — gửi gói tin để chuyển tiếp")
    duties = AuditDuties(config)
    run_while_serving(app, lambda: duties.start(lambda: intake.store), duties.stop)
    close_on_shutdown(app, intake.close)  # after the duties stopped: they use the store
    return intake
