"""What validation says about a packet: errors and warnings a person can act on."""

from collections.abc import Callable
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


Heading = tuple[str, str, str | None]  # MaGoiTin, LoaiGoiTin, MaHoSo


@dataclass(slots=True)
class Report:
    encoding: Literal["xml", "json"]
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    heading: Heading | None = None  # set when the packet could be read
    _packet: GoiTin | None = field(default=None, repr=False)
    _build: Callable[[], GoiTin] | None = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def packet(self) -> GoiTin | None:
        """The typed packet, when it could be read: built on first use if validation did not need it."""
        if self._packet is None and self._build is not None:
            self._packet, self._build = self._build(), None
        return self._packet

    def found(self, packet: GoiTin) -> None:
        self._packet, self.heading = packet, (packet.MaGoiTin, packet.LoaiGoiTin, packet.dossier_code)

    def found_later(self, build: Callable[[], GoiTin], heading: Heading) -> None:
        self._build, self.heading = build, heading

    def to_dict(self, max_issues: int | None = None) -> dict[str, Any]:
        """The report as JSON; with ``max_issues``, at most that many errors and warnings are listed, and
        ``errors_total``/``warnings_total`` count them all (a hostile document cannot blow the answer up)."""
        result: dict[str, Any] = {"valid": self.valid, "encoding": self.encoding,
                                  "errors": [issue.to_dict() for issue in self.errors[:max_issues]]}
        if self.warnings:
            result["warnings"] = [issue.to_dict() for issue in self.warnings[:max_issues]]
        for name, issues in (("errors", self.errors), ("warnings", self.warnings)):
            if max_issues is not None and len(issues) > max_issues:
                result[f"{name}_total"] = len(issues)
        if self.heading is not None:
            result["packet"] = dict(zip(("MaGoiTin", "LoaiGoiTin", "MaHoSo"), self.heading, strict=True))
        return result
