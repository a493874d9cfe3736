"""Answers in the portal's format: HTTP 200 and ``error_code`` (0 on success) with a ``message``;
refusals add ``message_en`` and, for invalid data, the issues with their place in the call."""

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Any

from fastapi.responses import JSONResponse

from gateway.kit import text
from gateway.kit.inbound import field_label

_INDEX = re.compile(r"\[(\d+)\]")
_ENVELOPE_FIELDS = {"NoiGui": "madonvi"}  # the only envelope field a client chooses
_SHOWN = 10  # issues spelled out in ``message``; all are in ``errors``


def ok(*, code: int | str = 0, **extra: Any) -> JSONResponse:
    """Success; ``code`` as the portal spells it (0, "0" or "00"): some clients compare the text."""
    return JSONResponse({"error_code": code, "message": text("national_portal.success")[0], **extra})


def refused(code: int, message_vi: str, message_en: str, *, status_code: int = 200,
            headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message_vi, "message_vi": message_vi,
                         "message_en": message_en, **extra}, status_code=status_code, headers=headers)


def item_path(index: int, issue_path: str) -> str:
    """``3``, ``NoiDung/HoSo/DanhSachLePhi[2]/Gia`` → ``data[3].DanhSachLePhi[1].Gia``: the place in
    the client's own JSON, every index counted from 0."""
    if issue_path in _ENVELOPE_FIELDS:
        return _ENVELOPE_FIELDS[issue_path]
    label = field_label(issue_path) if issue_path.startswith("NoiDung/") else ""
    inner = _INDEX.sub(lambda m: f"[{int(m.group(1)) - 1}]", label).replace("/", ".")
    return f"data[{index}]" + (f".{inner}" if inner else "")


@dataclass(frozen=True)
class ItemIssue:
    index: int
    path: str  # in the client's JSON: data[i].Field
    rule: str
    message_vi: str
    message_en: str
    value: str | None = None  # masked by the Validator when personal

    def to_dict(self) -> dict[str, Any]:
        shown = {"index": self.index, "path": self.path, "rule": self.rule,
                 "message_vi": self.message_vi, "message_en": self.message_en}
        return shown | ({"value": self.value} if self.value is not None else {})


def invalid(code: int, issues: list[ItemIssue], total: int, max_issues: int = 100) -> JSONResponse:
    """Nothing of the call was stored; every issue listed (at most ``max_issues``, then ``errors_total``)
    names its item, field and rule."""
    more_vi = f"; … (+{len(issues) - _SHOWN})" if len(issues) > _SHOWN else ""
    vi = "; ".join(f"{i.path} [{i.rule}]: {i.message_vi}" for i in issues[:_SHOWN]) + more_vi
    en = "; ".join(f"{i.path} [{i.rule}]: {i.message_en}" for i in issues[:_SHOWN]) + more_vi
    head_vi, head_en = text("national_portal.invalid_data", total=total)
    listed: dict[str, Any] = {"errors": [i.to_dict() for i in issues[:max_issues]]}
    if len(issues) > max_issues:
        listed["errors_total"] = len(issues)
    return refused(code, f"{head_vi}: {vi}", f"{head_en}: {en}", **listed)
