"""Checks, not assumptions: the simulated portal's record against what the one-stop system sent and the
gateway accepted — per dossier, every progress step in order and nothing twice, the dossier as last
sent, one update per later HoSo — and every deliberately wrong packet refused with its reasons."""

from dataclasses import dataclass, field
from typing import Any

from demo.day import Day, Dossier, Outgoing
from demo.play import Answer

ACCEPTED = (200, 202)


@dataclass
class PortalCheck:
    dossiers: int = 0  # dossiers that should be on the portal
    matched: int = 0  # … whose record matches exactly
    steps_expected: int = 0
    steps_recorded: int = 0
    repeated: int = 0
    unexpected: list[str] = field(default_factory=list)  # dossier codes on the portal nobody sent
    problems: list[str] = field(default_factory=list)  # "dossier: what differs"

    @property
    def ok(self) -> bool:
        return (self.matched == self.dossiers and self.steps_recorded == self.steps_expected and not self.repeated
                and not self.unexpected)


def _accepted(packets: list[Outgoing], answers: dict[str, Answer], kind: str) -> list[Outgoing]:
    return [p for p in packets if p.packet_type == kind and answers.get(p.packet_id, Answer(0, {})).status in ACCEPTED]


def _one(dossier: Dossier, answers: dict[str, Answer], entry: dict[str, Any] | None, check: PortalCheck,
         later_steps: list[dict[str, Any]]) -> None:
    """``later_steps``: the dossier's steps the gateway originated (status 10 from the postal tracking feed),
    expected after every step the one-stop system sent."""
    dossiers, steps = _accepted(dossier.packets, answers, "HoSo"), _accepted(dossier.packets, answers, "TienDoXuLy")
    expected_steps = [p.body for p in steps] + later_steps
    check.steps_expected += len(expected_steps)
    if not dossiers:
        return
    check.dossiers += 1
    if entry is None:
        check.problems.append(f"{dossier.code}: không có trên cổng / not on the portal")
        return
    recorded = entry.get("progress", [])
    check.steps_recorded += len(recorded)
    check.repeated += sum(1 for step in recorded if step.get("repeat"))
    got = [{k: v for k, v in step.items() if k not in ("seq", "repeat")} for step in recorded]
    seqs = [step.get("seq", 0) for step in recorded]
    if got != expected_steps or seqs != sorted(seqs):
        where = next((n for n, (a, b) in enumerate(zip(got, expected_steps)) if a != b),
                     min(len(got), len(expected_steps)))
        check.problems.append(f"{dossier.code}: bước {where + 1} khác / step {where + 1} differs "
                              f"({len(got)} nhận / recorded, {len(expected_steps)} gửi / sent)")
    elif entry.get("dossier") != dossiers[-1].body:
        check.problems.append(f"{dossier.code}: hồ sơ trên cổng khác bản gửi cuối / the portal's dossier differs "
                              "from the last one sent")
    elif entry.get("updates") != len(dossiers) - 1:
        check.problems.append(f"{dossier.code}: {entry.get('updates')} lần cập nhật, cần / updates, expected "
                              f"{len(dossiers) - 1}")
    else:
        check.matched += 1


def portal(day: Day, answers: dict[str, Answer], record: dict[str, Any], also_sent: set[str],
           originated: dict[str, tuple[str, str, dict[str, Any]]] | None = None) -> PortalCheck:
    """``also_sent``: dossier codes sent outside the day (the bundled examples), allowed on the portal;
    ``originated``: packets the gateway made itself (MaGoiTin → type, dossier, body), in the order it made them."""
    check = PortalCheck()
    on_portal: dict[str, Any] = record.get("dossiers", {})
    for dossier in day.dossiers:
        later = [body for kind, code, body in (originated or {}).values()
                 if kind == "TienDoXuLy" and code == dossier.code]
        _one(dossier, answers, on_portal.get(dossier.code), check, later)
    for stray in day.strays:
        if answers.get(stray.packet_id, Answer(0, {})).status in ACCEPTED:
            check.problems.append(f"{stray.dossier}: gói tin lỗi đã được nhận / a wrong packet was accepted")
    known = {d.code for d in day.dossiers} | also_sent
    check.unexpected = sorted(code for code in on_portal if code not in known)
    return check


@dataclass
class Refusals:
    flawed: int = 0
    refused: int = 0  # flawed packets answered 4xx with reasons
    valid: int = 0
    accepted: int = 0  # valid packets answered 202/200
    examples: list[tuple[str, str, str]] = field(default_factory=list)  # (flaw, reason vi, reason en)
    wrongly: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refused == self.flawed and self.accepted == self.valid


def reasons(answer: Answer) -> tuple[str, str]:
    errors = answer.body.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else answer.body
    return str(first.get("message_vi", "")), str(first.get("message_en", ""))


def refusals(day: Day, answers: dict[str, Answer]) -> Refusals:
    result = Refusals()
    for packet in day.packets:
        answer = answers.get(packet.packet_id, Answer(0, {}))
        if packet.flaw:
            result.flawed += 1
            vi, en = reasons(answer)
            if 400 <= answer.status < 500 and (vi or en):
                result.refused += 1
                result.examples.append((packet.flaw, vi, en))
            else:
                result.wrongly.append(f"{packet.flaw}: HTTP {answer.status}")
        else:
            result.valid += 1
            if answer.status in ACCEPTED:
                result.accepted += 1
            else:
                vi, en = reasons(answer)
                result.wrongly.append(f"{packet.packet_type} {packet.dossier}: HTTP {answer.status} {en}")
    return result


def timestamped_receipts(answers: dict[str, Answer]) -> tuple[int, int]:
    """(receipts carrying an RFC 3161 signature timestamp, receipts) among the accepted packets' answers:
    XAdES ``SignatureTimeStamp`` in XML, JAdES-style ``etsiU`` in a JSON receipt."""
    receipts = [a.body.get("BienNhan") for a in answers.values() if a.status in ACCEPTED and a.body.get("BienNhan")]
    stamped = sum(1 for r in receipts if (isinstance(r, dict) and "etsiU" in (r.get("header") or {}))
                  or (isinstance(r, str) and "SignatureTimeStamp" in r))
    return stamped, len(receipts)


@dataclass
class ProvincialCheck:
    """The provincial portal simulator's record against the packets the gateway accepted for it."""

    expected: int = 0  # accepted packets routed to the provincial portal
    received: int = 0  # … that it recorded
    repeated: int = 0  # packets it recorded more than once (it keeps each MaGoiTin once: never expected)
    unexpected: int = 0  # packets it got that nobody sent it
    out_of_order: list[str] = field(default_factory=list)  # dossiers whose packets arrived in another order
    failed_calls: int = 0  # calls it answered with an error (its faults): retried by the gateway
    signed: int = 0  # packets whose signature it verified

    @property
    def ok(self) -> bool:
        return (self.expected > 0 and self.received == self.expected and not self.repeated and not self.unexpected
                and not self.out_of_order and self.signed == self.received)


def provincial(answers: dict[str, Answer], record: dict[str, Any], originated: frozenset[str] = frozenset()
               ) -> ProvincialCheck:
    """Every packet accepted for the provincial portal reached it once, in the order accepted per dossier,
    with the gateway's signature verified by the portal. ``originated``: packets the gateway made itself for
    the portal (the payment receipts it verified), expected there too."""
    sent = [packet_id for packet_id, answer in answers.items()  # in the order the gateway accepted them
            if answer.status in ACCEPTED and "provincial_portal" in answer.body.get("NoiNhan", [])]
    got = record.get("received", {})
    arrived = [packet_id for ids in record.get("order", {}).values() for packet_id in ids]
    wanted = set(sent) | originated
    result = ProvincialCheck(expected=len(wanted), received=len(wanted & set(got)),
                             repeated=len(arrived) - len(set(arrived)), unexpected=len(set(got) - wanted),
                             failed_calls=sum(1 for call in record.get("calls", []) if call.get("answer") != 200),
                             signed=sum(1 for item in got.values() if str(item.get("signature", "")).startswith("passed")))
    position = {packet_id: n for n, packet_id in enumerate(sent)}
    for dossier, ids in record.get("order", {}).items():
        known = [position[i] for i in ids if i in position]
        if known != sorted(known):
            result.out_of_order.append(dossier)
    return result
