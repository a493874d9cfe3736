"""What validation says about a packet: errors and warnings a person can act on."""

from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.packets.envelope import GoiTin

Layer = Literal["wellformed", "schema", "semantic"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding: where (``path``), which rule, the offending value (masked if personal) and why."""

    layer: Layer
    path: str
    rule: str
    message_vi: str
    message_en: str
    value: str | None = None
    line: int | None = None
    column: int | None = None

    def __post_init__(self) -> None:
        # A lone surrogate from a JSON escape (in a value or a key) cannot be written out as
        # UTF-8: keep it visible as an escape so every report can be printed and sent.
        for name in ("path", "message_vi", "message_en", "value"):
            text = getattr(self, name)
            if text is not None and not text.isascii():
                object.__setattr__(self, name, text.encode("utf-8", "backslashreplace").decode("utf-8"))

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__slots__ if getattr(self, key) is not None}


@dataclass(slots=True)
class Report:
    encoding: Literal["xml", "json"]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    packet: GoiTin | None = None  # set when the packet could be read into the model

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"valid": self.valid, "encoding": self.encoding,
                                  "errors": [issue.to_dict() for issue in self.errors]}
        if self.warnings:
            result["warnings"] = [issue.to_dict() for issue in self.warnings]
        if self.packet is not None:
            result["packet"] = {"MaGoiTin": self.packet.MaGoiTin, "LoaiGoiTin": self.packet.LoaiGoiTin,
                                "MaHoSo": self.packet.dossier_code}
        return result
