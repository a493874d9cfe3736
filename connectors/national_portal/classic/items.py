"""A classic call's items as packets: the real clients' shapes read (each change noted for the
operator), each item's MaGoiTin, and which steps are a finished dossier's history reported late.

MaGoiTin: a resend of what was stored last for a dossier is the same packet (same id, the stored
bytes: the same receipt). The same content sent again after another change of the dossier (A → B → A)
is a new change, so it gets a new id, chained to the change it follows.

Late history: clients report a finished dossier with its final status first, then its earlier steps.
A step whose ThoiDiemXuLy is not after the end of the dossier (as its terminal status says it) is
history: stored and delivered in the order received, not checked as a transition, and it leaves the
dossier's status as it was. A step after the end is checked as usual (after a terminal status: refused).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
import json
from typing import Any, Literal

from connectors.national_portal import inbound
from gateway.kit import Store

LatePolicy = Literal["accept", "check"]
_ENDS = ("NgayTra", "NgayKetThucXuLy", "NgayTuChoi")  # a terminal HoSo's end is the latest of these


@dataclass(frozen=True)
class Change:
    """The dossier's change stored (or about to be) last: what a new item follows."""

    packet_id: str
    sender: str
    body_type: str
    body: dict[str, Any]

    def end(self, terminal: frozenset[int]) -> str | None:
        """When the dossier ended (``yyyyMMddHHmmss``), if this change put it in a terminal status."""
        if self.body_type == "HoSo" and self.body.get("TrangThaiHoSo") in terminal:
            return max((str(self.body[name]) for name in _ENDS if self.body.get(name)), default=None)
        if self.body_type == "TienDoXuLy" and self.body.get("TrangThai") in terminal:
            return str(self.body.get("ThoiDiemXuLy") or "") or None
        return None


@dataclass
class Item:
    index: int
    raw: bytes  # the packet's bytes: built now, or the stored ones for a resend
    packet_id: str
    dossier: str | None
    changes: list[inbound.Change] = field(default_factory=list)
    late_after: str | None = None  # a late history step: the end of the dossier it belongs before

    def verdict(self) -> dict[str, Any]:
        """What the classic protocol did to this item, kept in the packet's verdicts."""
        return {"normalised": [c.to_dict() for c in self.changes]} | (
            {"late_history": {"dossier_ended": self.late_after}} if self.late_after else {})


def _stored(raw: bytes | None) -> tuple[str, dict[str, Any]] | None:
    """The body type and body of a stored packet the gateway built (JSON); None if unreadable or purged."""
    try:
        content = json.loads(raw or b"")["NoiDung"]
        (body_type, body), = content.items()
        return str(body_type), dict(body)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def latest_changes(store: Store, dossiers: Sequence[str]) -> dict[str, Change]:
    latest = {}
    for dossier, (packet_id, sender, raw) in store.latest_changes(dossiers).items():
        body = _stored(raw)
        latest[dossier] = Change(packet_id, sender, *(body or ("", {})))
    return latest


def read_items(service: str, data: list[Any], envelope: inbound.Envelope, store: Store, now: datetime,
               terminal: frozenset[int], late_policy: LatePolicy = "accept") -> dict[int, Item]:
    """Each object item of ``data`` by index, in array order, as the packet it becomes."""
    bodies = {index: inbound.normalised(service, item) for index, item in enumerate(data) if isinstance(item, dict)}
    codes = [str(body["MaHoSo"]) for body, _ in bodies.values() if isinstance(body.get("MaHoSo"), str)]
    latest = latest_changes(store, codes)
    body_type = inbound.SERVICES[service].__name__
    built: dict[int, tuple[dict[str, Any], Item]] = {}
    for index, (body, changes) in bodies.items():
        code = body.get("MaHoSo") if isinstance(body.get("MaHoSo"), str) else None
        last = latest.get(code) if code else None
        end = last.end(terminal) if last is not None else None
        when = body.get("ThoiDiemXuLy")
        late = (late_policy == "accept" and body_type == "TienDoXuLy" and end is not None
                and isinstance(when, str) and when <= end)
        if body_type == "HoSo" and last is not None and last.body_type == body_type \
                and last.sender == envelope.client and last.body == body:
            packet_id = last.packet_id  # a resend of the dossier's last change
        else:  # steps are events with their own time: the same step is the same packet whenever sent
            after = last.packet_id if body_type == "HoSo" and last is not None else None
            packet_id = inbound.packet_id(envelope.client, envelope.madonvi, service, body, after)
        packet = inbound.wrap(service, body, envelope, now) | {"MaGoiTin": packet_id}
        built[index] = (packet, Item(index, b"", packet_id, code, changes, end if late else None))
        if code and not late:
            latest[code] = Change(packet_id, envelope.client, body_type, body)
    stored = store.stored_raw([item.packet_id for _, item in built.values()])
    for packet, item in built.values():
        item.raw = stored.get(item.packet_id) or json.dumps(packet, ensure_ascii=False,
                                                            separators=(",", ":")).encode("utf-8")
    return {index: item for index, (_, item) in built.items()}
