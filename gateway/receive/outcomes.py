"""What the intake answers, as values: accepted (with the receipt), refused (with the report), or try
later. Protocols map them to their own answers (``POST /v1/packets``: ``gateway.receive.packets``; the
classic protocol: its sync); the gateway's own packets (``PacketIntake.originate``) take them as they are.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gateway.receipt import Receipt


@dataclass(frozen=True)
class Accepted:
    """Stored durably with its delivery jobs (or stored before: ``duplicate``, the original's receipt)."""

    receipt: Receipt
    duplicate: bool = False
    warnings: list[dict[str, Any]] = field(default_factory=list)  # validation's, as admitted

    @property
    def packet_id(self) -> str:
        return self.receipt.result.packet_id


class Refusal(Enum):
    """Why a packet was refused."""

    INVALID = "invalid"  # the packet itself: its validation report (or its status transition)
    SIGNATURE = "signature"  # its signature does not hold, or is refused by policy
    UNROUTED = "unrouted"  # no destination is configured for it
    NOT_ALLOWED = "not_allowed"  # the sender may not send this type, for this agency, or act on this dossier
    CONFLICT = "conflict"  # its MaGoiTin was used for other content


# The status code each outcome stands for: HTTP's numbers, which the audit log records and every HTTP
# adapter answers with (a batch protocol answers in its own codes).
STATUS = {Refusal.INVALID: 422, Refusal.SIGNATURE: 422, Refusal.UNROUTED: 422, Refusal.NOT_ALLOWED: 403,
          Refusal.CONFLICT: 409}
TRY_LATER_STATUS = 503


@dataclass(frozen=True)
class Refused:
    """Nothing stored. ``report`` is what the sender is told in full: a validation report (``valid``,
    ``errors``, ``warnings``, ``packet``) or ``{"error": rule, "message_vi", "message_en", …}``."""

    kind: Refusal
    rule: str
    message_vi: str
    message_en: str
    report: dict[str, Any]
    reason: str | None = None  # the real reason, for the audit log only, when ``report`` hides it

    @property
    def status(self) -> int:
        return STATUS[self.kind]

    @property
    def about_the_data(self) -> bool:
        """The packet's content is wrong (validation, its transition), not the sender's rights or the
        gateway's routing: what a batch protocol reports item by item."""
        return self.kind is Refusal.INVALID

    def rules(self) -> list[str]:
        """Every rule the refusal names (the report's errors, its own rule), for the audit log."""
        return sorted({str(e.get("rule")) for e in self.report.get("errors") or [] if isinstance(e, dict)}
                      | ({str(self.report["error"])} if self.report.get("error") else set()))

    @classmethod
    def of(cls, kind: Refusal, report: dict[str, Any]) -> "Refused":
        """From the body told to the sender: its ``error`` and messages, or its first error's."""
        if "error" in report:
            return cls(kind, str(report["error"]), str(report.get("message_vi", "")),
                       str(report.get("message_en", "")), report)
        first = (report.get("errors") or [{}])[0]
        return cls(kind, str(first.get("rule", "")), str(first.get("message_vi", "")),
                   str(first.get("message_en", "")), report)


@dataclass(frozen=True)
class TryLater:
    """Nothing stored, nothing wrong with the packet: send it again after ``retry_after`` seconds."""

    retry_after: int
    reason: str  # a rule code: "store.unavailable", "signature.try_later"
    message_vi: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)  # more for the sender (the signature report)

    @property
    def status(self) -> int:
        return TRY_LATER_STATUS

    def report(self) -> dict[str, Any]:
        return {"error": self.reason, "message_vi": self.message_vi, "message_en": self.message_en, **self.detail}


# (not the delivery engine's ``Outcome``: what a connector says about a delivery)
IntakeOutcome = Accepted | Refused | TryLater
