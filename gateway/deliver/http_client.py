"""The HTTP client connectors use to reach their peers: urllib3's keep-alive pools, thinly wrapped.

Why not httpx or requests: a delivery is one POST, and the client's own CPU per call limits how
fast one worker delivers. Measured side by side against the local peer (bench/README.md,
"HTTP client"): urllib3 costs about half of httpx's CPU per call and a third of requests'.

Connection failures are retried once at once (a pooled keep-alive connection the peer has
closed); nothing else is retried here — the engine owns retries, with backoff, in the store.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json as json_
from typing import Any
from urllib.parse import urlencode, urljoin

import urllib3
from urllib3.exceptions import (HTTPError as _Urllib3Error, MaxRetryError, NewConnectionError,
                               TimeoutError as _Urllib3Timeout)


class HttpError(Exception):
    """No usable answer: connection refused or reset, protocol error. ``kind`` names the cause."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class HttpTimeout(HttpError):
    """Connecting or reading took longer than the timeout."""


class Reply:
    """An answer, read whole (peers' answers are small)."""

    __slots__ = ("status_code", "headers", "content", "reason_phrase")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes, reason_phrase: str = "") -> None:
        self.status_code, self.headers, self.content, self.reason_phrase = status_code, headers, content, reason_phrase

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The JSON answer; ValueError when it is not JSON (UnicodeDecodeError is one)."""
        return json_.loads(self.content)

    @property
    def retry_after(self) -> float | None:
        """Seconds the peer asked to wait (HTTP Retry-After: delta-seconds or an HTTP date), if it did."""
        value = self.headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


class AnswerTooLarge(HttpError):
    """The peer's answer was longer than the client's ``max_answer_bytes``: cut off, not read."""


class HttpClient:
    def __init__(self, base_url: str = "", *, timeout: float = 10.0, connect_timeout: float | None = None,
                 headers: Mapping[str, str] | None = None, max_connections: int = 10,
                 max_answer_bytes: int | None = None, ca_file: str | None = None, cert_file: str | None = None,
                 key_file: str | None = None) -> None:
        """``ca_file``: the CA bundle a peer's TLS certificate is checked against (the system's otherwise);
        ``cert_file``/``key_file``: the client certificate for peers that ask for one (mutual TLS);
        ``max_answer_bytes``: answers longer than this are cut off (``AnswerTooLarge``), never read whole."""
        self.base_url = base_url
        self._headers = dict(headers or {})
        self.max_answer_bytes = max_answer_bytes
        self._connect_timeout = connect_timeout or timeout
        tls: dict[str, Any] = {}
        if ca_file:
            tls["ca_certs"] = ca_file
        if cert_file:
            tls.update(cert_file=cert_file, key_file=key_file or None)
        self._pool = urllib3.PoolManager(
            num_pools=4, maxsize=max_connections, block=False,
            timeout=urllib3.Timeout(connect=connect_timeout or timeout, read=timeout),
            retries=urllib3.Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0, raise_on_status=False),
            **tls)

    def post(self, url: str, *, content: bytes | None = None, json: Any = None, data: Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None) -> Reply:
        """POST ``content`` (bytes), ``json`` (encoded UTF-8, not ASCII-escaped) or ``data`` (a form)."""
        merged = {**self._headers, **(headers or {})}
        if json is not None:
            content = json_.dumps(json, ensure_ascii=False).encode("utf-8")
            merged.setdefault("Content-Type", "application/json")
        elif data is not None:
            content = urlencode(data).encode("ascii")
            merged.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self._request("POST", url, content, merged)

    def get(self, url: str, *, params: Mapping[str, str | int] | None = None,
            headers: Mapping[str, str] | None = None) -> Reply:
        """GET ``url`` with ``params`` as its query (a peer's feed, a status look-up)."""
        query = urlencode({k: str(v) for k, v in (params or {}).items()})
        return self._request("GET", f"{url}?{query}" if query else url, None, {**self._headers, **(headers or {})})

    def request(self, method: str, url: str, *, content: bytes | None = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None) -> Reply:
        """Any method, with this call's own read ``timeout`` if given (e.g. an adapter's per-operation one)."""
        return self._request(method, url, content, {**self._headers, **(headers or {})}, timeout)

    def _request(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
                 timeout: float | None = None) -> Reply:
        target = urljoin(self.base_url.rstrip("/") + "/", url.lstrip("/")) if self.base_url else url
        options: dict[str, Any] = {}
        if timeout is not None:
            options["timeout"] = urllib3.Timeout(connect=min(timeout, self._connect_timeout), read=timeout)
        bounded = self.max_answer_bytes is not None
        try:
            answer = self._pool.request(method, target, body=body, headers=headers, redirect=False,
                                        preload_content=not bounded, **options)
            content = self._bounded(answer) if bounded else answer.data or b""
        except MaxRetryError as exc:
            raise _wire_error(exc.reason or exc) from exc
        except _Urllib3Error as exc:
            raise _wire_error(exc) from exc
        return Reply(answer.status, answer.headers, content, answer.reason or "")

    def _bounded(self, answer: urllib3.BaseHTTPResponse) -> bytes:
        """The answer's body read in chunks, given up past ``max_answer_bytes`` (the connection is dropped)."""
        limit = self.max_answer_bytes or 0
        declared = answer.headers.get("Content-Length", "")
        chunks, size = [], 0
        try:
            if declared.isdigit() and int(declared) > limit:
                raise AnswerTooLarge("AnswerTooLarge", f"{declared} bytes > {limit}")
            for chunk in answer.stream(65536):
                size += len(chunk)
                if size > limit:
                    raise AnswerTooLarge("AnswerTooLarge", f"> {limit} bytes")
                chunks.append(chunk)
        except AnswerTooLarge:
            answer.close()  # never read the rest: the connection is dropped, not returned to the pool
            raise
        answer.release_conn()
        return b"".join(chunks)

    def close(self) -> None:
        self._pool.clear()


def _wire_error(exc: BaseException) -> HttpError:
    kind = type(exc).__name__
    # urllib3 files a refused connection under timeouts (NewConnectionError subclasses ConnectTimeoutError)
    if isinstance(exc, _Urllib3Timeout) and not isinstance(exc, NewConnectionError):
        return HttpTimeout(kind, str(exc))
    return HttpError(kind, str(exc))
