"""Reading the portal's answers: what each one means for the packet that was sent.

The portal's error codes are not published. Success is ``error_code`` 0 in any of the
three spellings seen (0, "0", "00"); the rest is sorted by configurable code lists, so a
province can reclassify a code without a code change.
"""

from dataclasses import dataclass, field
from enum import StrEnum
import json
import re
from typing import Any

from connectors.national_portal.settings import AnswerCodes
from gateway.kit import HttpError, HttpTimeout, Reply, line, scrub

TRANSIENT_STATUSES = (408, 425, 429)  # besides every 5xx


class AnswerKind(StrEnum):
    OK = "ok"
    RELOGIN = "relogin"  # the session was refused: log in again and retry once
    ALREADY_EXISTS = "already_exists"  # resend the dossier as an update
    TRANSIENT = "transient"  # try later: 5xx, 429, timeouts, connection errors, configured codes
    PERMANENT = "permanent"  # the portal refuses this content


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    message: str = ""  # the portal's own words (digit runs masked), or what went wrong on the wire
    code: str | None = None  # the portal's error_code, as text
    http_status: int | None = None
    retry_after: float | None = None
    result: list[Any] = field(default_factory=list)
    data: Any = None  # token protocol: the answer's ``data``

    @property
    def ok(self) -> bool:
        return self.kind is AnswerKind.OK

    @property
    def peer_status(self) -> str:
        parts = [f"HTTP {self.http_status}" if self.http_status else "", f"error_code {self.code}" if self.code else ""]
        return ", ".join(p for p in parts if p) or "no answer"


def _code_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(int(value))
    return str(value).strip()


def classify_error(exc: HttpError) -> Answer:
    """A call that got no usable answer: always transient, the packet is not at fault."""
    if isinstance(exc, HttpTimeout):
        return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.timed_out')} ({exc.kind})")
    return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.connection_error')} ({exc.kind})")


def classify(response: Reply, codes: AnswerCodes, *, code_key: str = "error_code") -> Answer:
    """One HTTP answer → what it means. ``code_key`` is ``error_code`` (classic) or ``code`` (token)."""
    status = response.status_code
    retry_after = response.retry_after
    if status in TRANSIENT_STATUSES or status >= 500:
        return Answer(AnswerKind.TRANSIENT, _short(response.text) or response.reason_phrase, http_status=status,
                      retry_after=retry_after)
    if status == 401:
        return Answer(AnswerKind.RELOGIN, _short(response.text), http_status=status)
    if status >= 400 and not response.headers.get("content-type", "").startswith("application/json"):
        return Answer(AnswerKind.PERMANENT, _short(response.text) or response.reason_phrase, http_status=status)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        # The portal answered but not in JSON: we cannot know what it did, so try again later.
        return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.answer_not_json')}: {_short(response.text)!r}",
                      http_status=status)
    if not isinstance(body, dict):
        return Answer(AnswerKind.TRANSIENT, line("national_portal.answer_shape"), http_status=status)
    code = _code_text(body.get(code_key))
    message = scrub(str(body.get("message") or ""))
    result = body.get("result")
    result = result if isinstance(result, list) else []
    # Only the portal's message is kept: the rest of a JSON answer may carry a dossier's personal data.
    return Answer(_kind_of(code, message, status, codes), message, code=code,
                  http_status=status, retry_after=retry_after, result=result, data=body.get("data"))


def _kind_of(code: str | None, message: str, status: int, codes: AnswerCodes) -> AnswerKind:
    if status >= 400:
        return AnswerKind.PERMANENT
    if code is None:
        return AnswerKind.TRANSIENT  # an answer without a code: we cannot know what the portal did
    if code in codes.success:
        return AnswerKind.OK
    if code in codes.relogin or (codes.relogin_message and re.search(codes.relogin_message, message)):
        return AnswerKind.RELOGIN
    if code in codes.already_exists:
        return AnswerKind.ALREADY_EXISTS
    if code in codes.transient:
        return AnswerKind.TRANSIENT
    return AnswerKind.PERMANENT


def _short(text: str) -> str:
    return scrub(text, limit=200)
