"""``DongBoHoSoMC`` and ``CapNhatTienDoHoSoMC``: each ``data`` item becomes one QCVN 120 packet,
validated, authorised and routed by the same intake as ``POST /v1/packets``.

All or nothing: every item is checked first (all issues reported, each with its index); only
when all pass are they stored, in ONE transaction, in array order — so the steps of a dossier
keep the order the client gave them. A resend of an item gives the same MaGoiTin (client,
agency, service, content) and the stored packet's own bytes, so it is a duplicate, not a new one.
"""

from dataclasses import dataclass, field
from datetime import datetime
import json
import logging
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from connectors.national_portal import inbound
from gateway.packets.envelope import GoiTin
from gateway.receive.auth import Client
from gateway.receive.classic import answers
from gateway.receive.classic.answers import ItemIssue
from gateway.receive.classic.settings import InboundClient, InboundSettings
from gateway.receive.packets import Answer, PacketIntake
from gateway.store.api import BatchNotAdmitted, NewPacket
from gateway.validate.semantic import StatusHistory, status_of

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


def _issues_of(index: int, answer: Answer) -> tuple[list[ItemIssue], bool]:
    """The intake's refusal of item ``index`` as issues; True when it is about validity (else: policy)."""
    body = json.loads(bytes(answer.response.body))
    if "errors" in body:
        return [_item_issue(index, entry) for entry in body["errors"]], True
    return [ItemIssue(index, f"data[{index}]", str(body.get("error", "refused")), str(body.get("message_vi", "")),
                      str(body.get("message_en", "")))], False


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

    def handle(self, client: InboundClient, madonvi: str, service: str, body: dict[str, Any],
               bare: bool) -> JSONResponse:
        """Blocking (validation, store): called off the event loop."""
        codes = self.settings.codes
        data = body.get("data")
        if (refusal := self._shape_refused(service, body, data, bare)) is not None:
            return refusal
        assert isinstance(data, list)
        try:
            checked = self._check_all(client, madonvi, service, data)
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
            return answers.refused(codes.unavailable,
                                   "Chưa lưu được dữ liệu (kho dữ liệu tạm thời không sẵn sàng); hãy gửi lại sau.",
                                   "Nothing was stored (the store is unavailable); send it again later.")
        # A conflict means the same MaGoiTin, i.e. the same content, built at another instant by a
        # concurrent resend: for the client it is a duplicate.
        fresh = sum(1 for r in results if not (r.duplicate or r.conflict))
        log.info("classic %s from %s: %d packet(s), %d new: %s", service, client.name, len(results), fresh,
                 ", ".join(r.packet_id for r in results))
        extra = {"warnings": [w.to_dict() for w in checked.warnings]} if checked.warnings else {}
        return answers.ok(packets=[{"MaGoiTin": r.packet_id, "MaHoSo": new.dossier,
                                    "duplicate": r.duplicate or r.conflict}
                                   for r, (new, _) in zip(results, checked.prepared)], **extra)

    def _shape_refused(self, service: str, body: dict[str, Any], data: Any, bare: bool) -> JSONResponse | None:
        codes, limit = self.settings.codes, self.settings.max_items
        updating = body.get("isUpdating")
        if service == "DongBoHoSoMC" and not bare and not (
                isinstance(updating, bool) or str(updating).lower() in UPDATING):
            return answers.refused(codes.invalid, 'isUpdating: phải là "True" hoặc "False"',
                                   'isUpdating: must be "True" or "False"')
        if not isinstance(data, list) or not data:
            return answers.refused(codes.invalid, "Thiếu data (mảng không rỗng)", "data is missing (a non-empty array)")
        if len(data) > limit:
            return answers.refused(codes.invalid, f"data vượt quá {limit} phần tử", f"data has more than {limit} items")
        return None

    def _check_all(self, client: InboundClient, madonvi: str, service: str, data: list[Any]) -> "Checked":
        """Every item through the intake (validate, authorise, verify, route), nothing stored yet."""
        sender = Client(f"classic:{client.name}", client.madonvi, frozenset({inbound.SERVICES[service].__name__}))
        envelope = inbound.Envelope(sender.name, madonvi, self.settings.noi_nhan, self.settings.phien_ban)
        history = CallHistory(self.intake.history_for(sender))  # nothing of other agencies' dossiers
        checked = Checked()
        packets = self._packets(service, data, envelope)
        for index, item in enumerate(data):
            if index not in packets:
                checked.issues.append(ItemIssue(index, f"data[{index}]", "input.not_object",
                                                "Mỗi phần tử của data phải là một đối tượng JSON.",
                                                "Each item of data must be a JSON object."))
                continue
            try:
                new, packet, routes, _, validation = self.intake.prepare(sender, packets[index], "json",
                                                                         history=history)
            except Answer as refusal:
                found, about_data = _issues_of(index, refusal)
                checked.issues += found
                checked.about_data = checked.about_data and about_data
                continue
            history.record(packet)
            checked.warnings += [_item_issue(index, entry) for entry in validation.get("warnings", ())]
            checked.prepared.append((new, routes))
            checked.index_of.setdefault(new.packet_id, index)
        return checked

    def _packets(self, service: str, data: list[Any], envelope: inbound.Envelope) -> dict[int, bytes]:
        """Each object item as packet bytes, by index; for a resend, the bytes stored the first time
        (same receipt). The store is asked once for the whole call."""
        now = datetime.now(self.intake.config.zone)
        built = {index: inbound.to_packet(service, item, envelope, now)
                 for index, item in enumerate(data) if isinstance(item, dict)}
        stored = self.intake.store.stored_raw([packet["MaGoiTin"] for packet in built.values()])
        return {index: stored.get(packet["MaGoiTin"])
                or json.dumps(packet, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                for index, packet in built.items()}
