"""The intake: verify, validate, authorise, route, store durably — and answer with a value (``outcomes``:
accepted with the receipt, refused with the report, try later). No HTTP here: ``POST /v1/packets``
(``gateway.receive.packets``) and the classic protocol are adapters over it, and the gateway's own
packets come in through ``originate``.

A packet is accepted only once it and its jobs are committed (group commit): ``Accepted`` means nothing
can be lost any more; a sender that got no answer resends, and the same MaGoiTin with the same bytes
then gets the original receipt back (``duplicate``).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
import hashlib
import logging
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from gateway.config import Config, ConfigError
from gateway.messages import refusal, text
from gateway.packets.envelope import GoiTin
from gateway.receipt import ReceiptSigner, build_receipt, receipt_signer
from gateway.receive.auth import Client, Clients, Denied
from gateway.receive.committer import GroupCommitter
from gateway.receive.keys import ManagedClients
from gateway.receive.limits import ClientLimits, LimitSettings
from gateway.receive.lockout import Lockout, LockoutPolicy, SharedCounts
from gateway.receive.outcomes import Accepted, IntakeOutcome, Refusal, Refused, TryLater
from gateway.receive.ownership import GuardedHistory, Ownership, refusal as dossier_refusal
from gateway.route import Router, Unrouted
from gateway.store.api import NewPacket, NotAdmitted, Store, open_store, scoped_id
from gateway.store.trail import AuditBatcher, ReceiptKeeper
from gateway.validate.pipeline import Encoding, Validator
from gateway.validate.semantic import NoHistory, StatusHistory, status_of
from gateway.validate.transitions import recheck_transition
from gateway.verify import SignatureCheck, SignatureVerifier, not_checked

log = logging.getLogger(__name__)


# The verify seam: (client name, received bytes, encoding) → verdict, decision and the signed content.
# By default the configured ``SignatureVerifier`` (gateway.verify); ``unchecked`` turns it off.
Verifier = Callable[[str, bytes, Encoding], SignatureCheck]


def unchecked(client: str, raw: bytes, encoding: Encoding) -> SignatureCheck:
    """A verifier that checks nothing (tests of other steps; ``signatures = "off"`` does it by config)."""
    return not_checked()


# A single packet's status transition is checked where it is stored (``PacketIntake.admit``, inside the
# accepting transaction), not while validating: two steps of one dossier sent at the same instant are then
# checked one after the other, and no request thread reads the store.
AT_COMMIT = NoHistory()


def originator(config: Config, clients: Clients) -> Client:
    """``[intake] originator``: the sender the gateway's own packets are stored under (any agency, any
    type). A name no API client has, so that the audit trail and the console tell them apart."""
    name = str(config.section("intake").get("originator", "gateway")).strip()
    if not name or name.startswith("classic:"):
        raise ConfigError("intake.originator: a sender name (not empty, not classic:…)")
    if name in {client.name for client in clients.by_key_hash.values()}:
        raise ConfigError(f"intake.originator: {name!r} is also a client's name ([clients.{name}])")
    return Client(name)


@dataclass(frozen=True)
class Prepared:
    """A packet that passed everything before storing: what to store, where to route it, the verdicts."""

    new: NewPacket
    packet: GoiTin
    routes: list[str]
    signature: SignatureCheck
    validation: dict[str, Any]


class PacketIntake:
    def __init__(self, config: Config, *, verify: Verifier | None = None, signer: ReceiptSigner | None = None,
                 store: Store | None = None) -> None:
        self.config = config
        self.validator = Validator(config, history=self)  # statuses come from the store
        self.router = Router.from_config(config)
        self.managed = ManagedClients(lambda: self.store)  # `gateway clients` rows, re-read off the event loop
        self.clients = replace(Clients.from_config(config), managed=self.managed)
        self.originator = originator(config, self.clients)
        policy = LockoutPolicy.from_config(config)  # API keys here, classic logins too; shared through the store
        self.lockout = Lockout(policy, shared=SharedCounts(lambda: self.store, policy) if policy.shared else None)
        self.ownership = Ownership.from_config(config)
        self.limits = ClientLimits(LimitSettings.from_config(config))
        self.trail = AuditBatcher(lambda: self.store)  # frequent audit rows (look-ups), written together
        self.receipts = ReceiptKeeper(lambda: self.store)  # the receipts as answered, for evidence bundles
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
        """The store's ``Admit``: the status transition of a packet about to be stored, checked by the
        semantic rules (``gateway.validate.transitions``) against the status the transaction found."""
        assert packet.dossier is not None and packet.status is not None  # the store checks steps only  # noqa: S101 - narrows the type
        checked = recheck_transition(self.config, packet.verdicts["validation"], packet_id=packet.packet_id,
                                     packet_type=packet.packet_type, dossier=packet.dossier, status=packet.status,
                                     previous=previous)
        if checked.refusal is not None:
            return NotAdmitted(checked.refusal)
        if not checked.changed:
            return packet
        return replace(packet, verdicts={**packet.verdicts, "validation": checked.validation})

    def flush(self) -> None:
        """Writes the rows still held (audit rows, receipts as answered) now, once nothing is received any more;
        for a caller whose store outlives this intake (``close`` closes the store)."""
        self.trail.close()
        self.receipts.close()

    def close(self) -> None:
        self.managed.close()  # no background read reopens the store
        self.trail.close()  # first: it writes to the store
        self.lockout.close()
        self.receipts.close()
        with self._lock:
            if self._committer is not None:
                self._committer.close()
                self._committer = None
            if self._store is not None:
                self._store.close()
                self._store = None

    def prepare(self, client: Client, data: bytes, encoding: Encoding, history: StatusHistory | None = None, *,
                verify: bool = True) -> Prepared | Refused | TryLater:
        """Everything before storing. ``history`` replaces the store's status history, e.g. to see earlier
        packets of the same call not stored yet, or AT_COMMIT to leave the transition to ``admit``."""
        # Verify first, on the bytes received; then validate, route and store from what the
        # signature covers (the signed XML element, the JWS payload), never another reading.
        signature = self.verify(client.name, data, encoding) if verify else not_checked()
        if signature.refuse:
            vi, en = signature.message
            if signature.retry_after is not None:
                return TryLater(signature.retry_after, "signature.try_later", vi, en, {"signature": signature.report})
            return Refused(Refusal.SIGNATURE, signature.rule, vi, en,
                           {"error": signature.rule, "message_vi": vi, "message_en": en,
                            "signature": signature.report})
        signed = data if signature.content is None else signature.content
        report = self.validator.validate(signed, encoding, history)
        if not report.valid and history is AT_COMMIT:  # the full report, the transition included
            report = self.validator.validate(signed, encoding, self.history_for(client))
        if report.packet is None or (not report.valid and not self._accepted_before(client, report.packet, data)):
            return Refused.of(Refusal.INVALID, report.to_dict(self.limits.settings.report_issues))
        packet = report.packet
        try:
            self.clients.authorize(client, packet)
        except Denied as exc:
            return Refused(Refusal.NOT_ALLOWED, exc.rule, exc.message_vi, exc.message_en, exc.to_dict())
        if packet.dossier_code and not self.ownership.may_claim(client.agencies, packet.dossier_code):
            # A code of an agency the sender may not act for: refused before the store is asked, in the
            # words another agency's dossier gets, so no answer tells an existing dossier from an unknown one.
            words = dossier_refusal(packet.dossier_code)
            return Refused(Refusal.NOT_ALLOWED, words["error"], words["message_vi"], words["message_en"], words,
                           reason="dossier.receiving_agency")
        try:
            routes = self.router.route(packet)
        except Unrouted:
            body = refusal("route.none", packet_type=packet.LoaiGoiTin)
            return Refused(Refusal.UNROUTED, "route.none", body["message_vi"], body["message_en"], body)
        validation = report.to_dict(self.limits.settings.report_issues)  # a resend keeps the original's verdicts: the store ignores this one
        validation.pop("packet", None)
        new = NewPacket(packet.MaGoiTin, hashlib.sha256(data).hexdigest(), data, encoding, client.name,
                        datetime.now(UTC), packet.LoaiGoiTin, packet.dossier_code,
                        {"validation": validation, "signature": signature.report}, packet.NoiGui, status_of(packet),
                        client.agencies,
                        self.ownership.owner_of_new(packet.dossier_code, packet.NoiGui) if packet.dossier_code else None)
        return Prepared(new, packet, routes, signature, validation)

    def _audit_refusal(self, client: Client, data: bytes, refusal: Refused | TryLater) -> None:
        """A packet refused before storing, in the audit log: its hash and the rules, never its values."""
        body = refusal.report if isinstance(refusal, Refused) else refusal.report()
        rules = refusal.rules() if isinstance(refusal, Refused) else [refusal.reason]
        signature = body.get("signature")
        try:
            self.store.audit(client.name, "packet.refused", hashlib.sha256(data).hexdigest(), {
                "status": refusal.status, "rules": rules,
                "signature": signature.get("verdict") if isinstance(signature, dict) else None,
                **({"reason": refusal.reason} if isinstance(refusal, Refused) and refusal.reason else {})})
        except (SQLAlchemyError, OSError, ValueError):  # the answer goes out anyway; the log says why not
            log.exception("refusal not audited (sender %s)", client.name)

    def _accepted_before(self, client: Client, packet: GoiTin, data: bytes) -> bool:
        """These exact bytes were accepted already: a resend after a lost receipt. The status
        history has moved on since (its own step is in it), so the resend gets the original
        receipt instead of a transition error."""
        digest = hashlib.sha256(data).hexdigest()
        for packet_id in (packet.MaGoiTin, scoped_id(client.name, packet.MaGoiTin)):  # its own, maybe scoped
            original = self.store.get_packet(packet_id)
            if original is not None and original.sender == client.name:
                return original.sha256 == digest
        return False

    def receive(self, client: Client, data: bytes, encoding: Encoding, *, verify: bool = True) -> IntakeOutcome:
        """Blocking: prepare, store durably (the transition checked in the accepting transaction), and the
        outcome — with the receipt when accepted."""
        try:
            prepared = self.prepare(client, data, encoding, AT_COMMIT, verify=verify)
            if not isinstance(prepared, Prepared):
                self._audit_refusal(client, data, prepared)
                return prepared
            result = self.committer.submit(prepared.new, prepared.routes).result()
        except (SQLAlchemyError, OSError):  # the store is unreachable or failing: nothing was accepted
            log.exception("packet not stored (sender %s)", client.name)
            return TryLater(5, "store.unavailable", *text("store.unavailable"))
        new = prepared.new
        if result.refused is not None:
            return Refused.of(Refusal.NOT_ALLOWED if result.refused.get("error") == "auth.dossier"
                              else Refusal.INVALID, result.refused)  # audited by the store, with the real reason
        validation = prepared.validation if result.verdicts is None else result.verdicts["validation"]
        if result.conflict:
            log.warning("conflict: packet %s resent by %s with other content", new.packet_id, client.name)
            body = refusal("packet.conflict", packet_id=new.packet_id)
            return Refused(Refusal.CONFLICT, "packet.conflict", body["message_vi"], body["message_en"],
                           {**body, "MaGoiTin": new.packet_id})
        log.info("%s packet %s (%s) from %s → %s", "duplicate" if result.duplicate else "accepted",
                 new.packet_id, new.packet_type, client.name, ", ".join(result.destinations))
        receipt = build_receipt(result, prepared.packet, new.raw, prepared.signature.verdict, encoding,
                                self.signer)
        if not result.duplicate:  # the first answer is the evidence (issue 17)
            self.receipts.put((new.packet_id, receipt.document, receipt.signed_by))
        return Accepted(receipt, result.duplicate, list(validation.get("warnings") or []))

    def originate(self, data: bytes, encoding: Encoding) -> IntakeOutcome:
        """A packet the gateway itself originates — a connector's postal tracking or payment receipts turned
        into QCVN 120 packets. It goes the way of a received packet, sent by ``[intake] originator`` (any
        agency, any type): validated, authorised, routed, stored with its jobs, its dossier's steps kept in
        order with the transition checked as it is stored; refusals are audited under that sender. Only the
        sender's signature is not verified: the bytes never left the gateway. Blocking: call it from a
        worker thread or ``run_in_threadpool``."""
        return self.receive(self.originator, data, encoding, verify=False)
