"""``DongBoHoSoMC`` and ``CapNhatTienDoHoSoMC``: each ``data`` item becomes one QCVN 120 packet,
validated, authorised and routed by the same intake as ``POST /v1/packets``.

All or nothing: every item is checked first (all issues reported, each with its index); only
when all pass are they stored, in ONE transaction, in array order — so the steps of a dossier
keep the order the client gave them. Items are read and given their MaGoiTin by ``items``: a
resend gets the stored packet's own bytes, so it is a duplicate, not a new one. Before that, the
answers the portal gives about dossiers: already exists (3), not found (2, ``orphans``).
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
import logging
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from connectors.national_portal import inbound
from gateway.kit import BatchNotAdmitted, GoiTin, NewPacket, Refused, TryLater, text
from gateway.kit.inbound import Client, NoHistory, PacketIntake, Prepared, StatusHistory, status_of
from connectors.national_portal.classic import answers
from connectors.national_portal.classic.answers import ItemIssue
from connectors.national_portal.classic.items import Item, LatePolicy, read_items
from connectors.national_portal.classic.orphans import OrphanCheck
from connectors.national_portal.classic.settings import InboundClient, InboundSettings

log = logging.getLogger(__name__)

UPDATING = {"true": True, "false": False}


@dataclass
class CallHistory:
    """The store's status history seen through the earlier items of the same call."""

    store: StatusHistory
    statuses: dict[str, int] = field(default_factory=dict)

    def previous_status(self, dossier: str) -> int | None:
        return self.statuses[dossier] if dossier in self.statuses else self.store.previous_status(dossier)

    def record(self, packet: GoiTin) -> None:
        status = status_of(packet)
        if status is not None and packet.dossier_code:
            self.statuses[packet.dossier_code] = status


def _item_issue(index: int, entry: dict[str, Any]) -> ItemIssue:
    """One of the Validator's issues (error or warning), placed in the client's JSON."""
    return ItemIssue(index, answers.item_path(index, entry.get("path", "")), entry.get("rule", ""),
                     entry.get("message_vi", ""), entry.get("message_en", ""), entry.get("value"))


def _issues_of(index: int, refusal: Refused | TryLater) -> tuple[list[ItemIssue], bool]:
    """The intake's refusal of item ``index`` as issues; True when it is about validity (else: policy)."""
    if isinstance(refusal, Refused) and refusal.about_the_data:
        return [_item_issue(index, entry) for entry in refusal.report["errors"]], True
    rule = refusal.rule if isinstance(refusal, Refused) else refusal.reason
    return [ItemIssue(index, f"data[{index}]", rule, refusal.message_vi, refusal.message_en)], False


def _late_issues(late: BatchNotAdmitted, index_of: dict[str, int]) -> tuple[list[ItemIssue], bool]:
    """The accepting transaction's refusals as issues in item order; True when all are about the data
    (a transition), False when one is about policy (another agency's dossier)."""
    issues, about_data = [], True
    for packet_id, report in late.refusals.items():
        index = index_of[packet_id]
        if "errors" in report:
            issues += [_item_issue(index, entry) for entry in report["errors"]]
        else:
            issues.append(ItemIssue(index, f"data[{index}]", str(report.get("error", "refused")),
                                    str(report.get("message_vi", "")), str(report.get("message_en", ""))))
            about_data = False
    return sorted(issues, key=lambda issue: issue.index), about_data


@dataclass
class Checked:
    prepared: list[tuple[NewPacket, list[str]]] = field(default_factory=list)
    index_of: dict[str, int] = field(default_factory=dict)  # packet id → its item in the call
    issues: list[ItemIssue] = field(default_factory=list)
    warnings: list[ItemIssue] = field(default_factory=list)
    about_data: bool = True  # False when a refusal is about policy (routing, signature), not the data


@dataclass
class ClassicSync:
    settings: InboundSettings
    intake: PacketIntake
    orphans: OrphanCheck | None = None  # progress for dossiers nobody knows: answered as the portal does

    def handle(self, client: InboundClient, madonvi: str, service: str, body: dict[str, Any],
               bare: bool) -> JSONResponse:
        """Blocking (validation, store): called off the event loop."""
        codes = self.settings.codes
        data = body.get("data")
        if (refusal := self._shape_refused(service, body, data, bare)) is not None:
            return refusal
        assert isinstance(data, list)  # noqa: S101 - narrows the type: _shape_refused refused any other shape
        try:
            items = self._items(client, madonvi, service, data)
            if (refusal := self._known_refused(client, service, body, items)) is not None:
                return refusal
            checked = self._check_all(client, madonvi, service, data, items)
            if checked.issues:
                return answers.invalid(codes.invalid if checked.about_data else codes.denied, checked.issues,
                                       len(data), self.intake.limits.settings.report_issues)
            # One transaction, array order. The transitions are checked again inside it, after the
            # dossiers are locked: a step another process stored since the check above counts too.
            results = self.intake.store.accept_many(checked.prepared, self.intake.admit, whole=True,
                                                    guard=self.intake.ownership.guard)
        except BatchNotAdmitted as late:  # nothing of the call was stored
            issues, about_data = _late_issues(late, checked.index_of)
            return answers.invalid(codes.invalid if about_data else codes.denied, issues, len(data),
                                   self.intake.limits.settings.report_issues)
        except (SQLAlchemyError, OSError) as exc:  # nothing of the call was stored
            # Type only: a database error's text can quote the statement's parameters (the payload).
            log.error("classic %s from %s not stored: store unavailable (%s)", service, client.name,
                      type(exc).__name__)
            return answers.refused(codes.unavailable, *text("national_portal.not_stored"))
        # A conflict means the same MaGoiTin, i.e. the same content, built at another instant by a
        # concurrent resend: for the client it is a duplicate.
        fresh = sum(1 for r in results if not (r.duplicate or r.conflict))
        log.info("classic %s from %s: %d packet(s), %d new: %s", service, client.name, len(results), fresh,
                 ", ".join(r.packet_id for r in results))
        extra: dict[str, Any] = {"warnings": [w.to_dict() for w in checked.warnings]} if checked.warnings else {}
        return answers.ok(code=self.settings.success_code, packets=[{"MaGoiTin": r.packet_id, "MaHoSo": new.dossier,
                                    "duplicate": r.duplicate or r.conflict}
                                   for r, (new, _) in zip(results, checked.prepared)], **extra)

    def _shape_refused(self, service: str, body: dict[str, Any], data: Any, bare: bool) -> JSONResponse | None:
        codes, limit = self.settings.codes, self.settings.max_items
        updating = body.get("isUpdating")
        if service == "DongBoHoSoMC" and not bare and not (
                isinstance(updating, bool) or str(updating).lower() in UPDATING):
            return answers.refused(codes.invalid, *text("national_portal.is_updating"))
        if not isinstance(data, list) or not data:
            return answers.refused(codes.invalid, *text("national_portal.no_data"))
        if len(data) > limit:
            return answers.refused(codes.invalid, *text("national_portal.too_many_items", limit=limit))
        return None

    def _items(self, client: InboundClient, madonvi: str, service: str, data: list[Any]) -> dict[int, Item]:
        envelope = inbound.Envelope(f"classic:{client.name}", madonvi, self.settings.noi_nhan, self.settings.phien_ban)
        config = self.intake.config
        late: LatePolicy = "check" if self.settings.late_history == "check" else "accept"  # settings allow only these
        return read_items(service, data, envelope, self.intake.store, datetime.now(config.zone),
                          frozenset(config.terminal_statuses), late)

    def _known_refused(self, client: InboundClient, service: str, body: dict[str, Any],
                       items: dict[int, Item]) -> JSONResponse | None:
        """The portal's answers about dossiers: a new dossier (isUpdating "False") the gateway already
        holds for this client's agencies already exists (another agency's is refused later by ownership,
        in words that do not say it exists); progress for a dossier neither the gateway nor the portal
        knows is not found."""
        codes, store = self.settings.codes, self.intake.store
        dossiers = list(dict.fromkeys(item.dossier for item in items.values() if item.dossier))
        if service == "DongBoHoSoMC" and str(body.get("isUpdating", "")).lower() == "false":
            own = [d for d in dossiers if self.intake.ownership.may_read(store, client.madonvi, d)]
            held = store.latest_changes(own)
            if held:
                code = next(iter(held))
                return answers.refused(codes.exists, *text("national_portal.dossier_exists", dossier=code))
        if service == "CapNhatTienDoHoSoMC" and self.orphans is not None:
            # Only codes of the caller's agencies: another agency's code is refused by the intake whether
            # the dossier exists or not (auth.dossier), never "not found" for the unknown ones only.
            mine = [d for d in dossiers if self.intake.ownership.may_claim(client.madonvi, d)]
            unknown = self.orphans.unknown(mine, self.intake.store)
            if unknown:
                return answers.refused(codes.not_found, *text("national_portal.dossier_not_found", dossier=unknown[0]))
        return None

    def _check_all(self, client: InboundClient, madonvi: str, service: str, data: list[Any],
                   items: dict[int, Item]) -> "Checked":
        """Every item through the intake (validate, authorise, verify, route), nothing stored yet."""
        sender = Client(f"classic:{client.name}", client.madonvi, frozenset({inbound.SERVICES[service].__name__}))
        history = CallHistory(self.intake.history_for(sender))  # nothing of other agencies' dossiers
        checked = Checked()
        for index in range(len(data)):
            if index not in items:
                checked.issues.append(ItemIssue(index, f"data[{index}]", "input.not_object",
                                                *text("national_portal.item_not_object")))
                continue
            late = items[index].late_after is not None  # history: no transition to check, no status to follow
            prepared = self.intake.prepare(sender, items[index].raw, "json", history=NoHistory() if late else history)
            if not isinstance(prepared, Prepared):
                found, about_data = _issues_of(index, prepared)
                checked.issues += found
                checked.about_data = checked.about_data and about_data
                continue
            new = replace(prepared.new, verdicts={**prepared.new.verdicts, "classic": items[index].verdict()},
                          status=None if late else prepared.new.status)
            if not late:
                history.record(prepared.packet)
            checked.warnings += [_item_issue(index, entry) for entry in prepared.validation.get("warnings", ())]
            checked.prepared.append((new, prepared.routes))
            checked.index_of.setdefault(new.packet_id, index)
        return checked
