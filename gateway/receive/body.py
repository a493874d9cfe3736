"""Reading a request body without trusting its size or its content type."""

import anyio
from fastapi import Request

from gateway.validate.messages import message
from gateway.validate.pipeline import Encoding, encoding_of
from gateway.validate.report import Issue


class Unread(Exception):
    """A request body refused before it was read whole (too large, too slow, not XML or JSON): HTTP status and the issue to report."""

    def __init__(self, status: int, issue: Issue) -> None:
        super().__init__(issue.message_en)
        self.status, self.issue = status, issue


def _issue(rule: str, **values: object) -> Issue:
    vi, en = message(rule, **values)
    return Issue("wellformed", "", rule, vi, en)


async def read_body(request: Request, max_bytes: int, timeout: float) -> bytes:
    """The body, read in chunks, cut off past ``max_bytes`` (413) or when it takes longer than ``timeout``
    seconds (408). A client hanging up raises starlette's ClientDisconnect (the app logs it in one line)."""
    chunks, size = [], 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise Unread(413, _issue("input.too_large", size=f"> {max_bytes}", limit=max_bytes))
                chunks.append(chunk)
    except TimeoutError:
        raise Unread(408, _issue("input.timeout", seconds=f"{timeout:g}")) from None
    return b"".join(chunks)


async def read_packet(request: Request, max_bytes: int, timeout: float = 30.0) -> tuple[bytes, Encoding]:
    """The body and its encoding, read as ``read_body`` does."""
    content_type = request.headers.get("content-type")
    # A compact JWS (RFC 7515 media type application/jose) carries a JSON packet as its payload.
    jose = (content_type or "").split(";")[0].strip().lower() == "application/jose"
    encoding: Encoding | None = "json" if jose else encoding_of(content_type)
    if encoding is None:
        raise Unread(415, _issue("input.content_type", content_type=request.headers.get("content-type", "—")))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Unread(413, _issue("input.too_large", size=int(declared), limit=max_bytes))
    return await read_body(request, max_bytes, timeout), encoding
