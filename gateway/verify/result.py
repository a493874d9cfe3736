"""What the verify step tells the intake: a verdict to store and put in the receipt, what to do with
the packet (accept, refuse 422, ask to resend later 503), and the bytes validation must read."""

from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.messages import text

Verdict = Literal["passed", "failed", "indeterminate", "unsigned"]  # the receipt's KetQuaChuKy


@dataclass(frozen=True)
class SignatureCheck:
    """What signature verification says about a packet, stored with it as its verdict."""

    verdict: Verdict
    report: dict[str, Any] = field(default_factory=dict)
    refuse: bool = False  # the deployment's policy refuses this packet (422)
    rule: str = "signature.refused"  # the answer's "error" when refused
    retry_after: int | None = None  # refused for now: answer 503 with Retry-After (e.g. revocation unknown)
    # What validation, routing and storage act on: the signed content (the XML the signature
    # covers, a JWS payload). None: the received bytes themselves (unsigned packets).
    content: bytes | None = None

    @property
    def message(self) -> tuple[str, str]:
        """(Vietnamese, English) for the answer when refused."""
        if self.retry_after is not None:
            return text("signature.not_yet")
        return text("signature.required" if self.rule == "signature.required" else "signature.policy")


def not_checked(rule: str = "signature.not_checked", content: bytes | None = None) -> SignatureCheck:
    """Signatures neither required nor checked (``signatures = "off"``, or no verifier plugged in); ``rule``
    names the note (gateway.messages)."""
    note_vi, note_en = text(rule)
    return SignatureCheck("unsigned", {"verdict": "unsigned", "checked": False, "note_vi": note_vi,
                                       "note_en": note_en}, content=content)
