"""What the verify step tells the intake: a verdict to store and put in the receipt, what to do with
the packet (accept, refuse 422, ask to resend later 503), and the bytes validation must read."""

from dataclasses import dataclass, field
from typing import Any, Literal

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
            return ("Chưa kiểm tra xong chữ ký số (chưa xác định được tình trạng chứng thư); hãy gửi lại sau.",
                    "The signature could not be checked yet (certificate status unknown); send again later.")
        if self.rule == "signature.required":
            return ("Gói tin phải có chữ ký số hợp lệ của bên gửi.", "The packet must carry a valid signature.")
        return ("Chữ ký số của gói tin không đạt yêu cầu.", "The packet's signature does not meet the policy.")


def not_checked(note_vi: str = "Chưa kiểm tra chữ ký số.", note_en: str = "Signature not checked.",
                content: bytes | None = None) -> SignatureCheck:
    """Signatures neither required nor checked (``signatures = "off"``, or no verifier plugged in)."""
    return SignatureCheck("unsigned", {"verdict": "unsigned", "checked": False, "note_vi": note_vi,
                                       "note_en": note_en}, content=content)
