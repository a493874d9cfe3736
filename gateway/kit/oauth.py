"""OAuth 2.0 client-credentials bearer tokens (RFC 6749 §4.4), one cache for every connector whose peer wants them.

A connector describes its peer's token endpoint in a ``ClientCredentials`` (the URL, the credentials its settings
read from the environment, the scope, where the credentials go, how the answer spells its fields, the renewal
margin, the token request's read timeout) and keeps one ``BearerTokens`` per client. The token is fetched once at
a time (other threads wait for it and use it), cached until ``margin`` seconds before it expires, and forgotten
when the peer refuses it: ``call`` makes a call with it and, when the peer answers that it is refused (401), once
more with a new one. No token: ``TokenFailure``, which the connector maps to its own answers. Nothing here logs,
and no failure's words carry a credential or a token.
"""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
import math
import threading
import time
from typing import Any, TypeVar
from urllib.parse import urlencode

from gateway.deliver.http_client import HttpClient, HttpError, Reply
from gateway.validate.wellformed import Unreadable, parse_json_document

R = TypeVar("R")


@dataclass(frozen=True)
class ClientCredentials:
    """One peer's token endpoint and how it answers."""

    token_url: str  # absolute, or a path on the client's base URL
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    scope: str = ""  # sent only when set
    credentials_in: str = "body"  # "body": client_id/client_secret in the form; "basic": HTTP Basic
    token_field: str = "access_token"  # noqa: S105 - the answer member's name, not a secret
    expires_field: str = "expires_in"
    type_field: str = ""  # when set, the answer's token type (absent: bearer) must be "bearer"
    default_lifetime: float = 300.0  # seconds, when the answer gives none
    margin: float = 30.0  # renewed this long before it would expire
    timeout: float | None = None  # the token request's read timeout (None: the client's own)
    max_answer_bytes: int = 16384  # a token answer longer than this is malformed


class TokenFailure(Exception):
    """No token. ``reason`` (no secret in it): ``HttpTimeout (kind)``, ``HTTP 401``, ``malformed token answer``,
    ``empty token``, ``token_type 'mac'``; ``reply`` the endpoint's answer when there was one, ``error`` the
    transport's when there was none."""

    def __init__(self, reason: str, reply: Reply | None = None, error: HttpError | None = None) -> None:
        super().__init__(reason)
        self.reason, self.reply, self.error = reason, reply, error

    @property
    def refused(self) -> bool:
        """The endpoint answered with an error status (as opposed to no answer, or a 200 not understood)."""
        return self.reply is not None and self.reply.status_code != 200

    @property
    def retry_after(self) -> float | None:
        """What the endpoint asked, when it refused."""
        return self.reply.retry_after if self.reply is not None and self.refused else None


class BearerTokens:
    def __init__(self, http: HttpClient, credentials: ClientCredentials,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http, self.credentials, self.clock = http, credentials, clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.requests = 0  # token requests made (answered or not)
        self.issued = 0  # tokens obtained

    def token(self, stale: str | None = None) -> str:
        """The cached token while it lives, else a new one; never ``stale`` (a token the peer refused): it is
        forgotten, unless another thread has replaced it meanwhile, and then that one is used as it is."""
        with self._lock:
            if stale is not None and self._token == stale:
                self._token = None
            if self._token is not None and self.clock() < self._expires:
                return self._token
            return self._fetch()

    def call(self, send: Callable[[str], R], refused: Callable[[R], bool]) -> R:
        """``send(token)``; when ``refused`` says the peer refused the token (401), once more with a new one.
        TokenFailure when there is no token; the second answer, refused or not, is the caller's to read."""
        token = self.token()
        answer = send(token)
        return send(self.token(stale=token)) if refused(answer) else answer

    def _fetch(self) -> str:
        c = self.credentials
        form = {"grant_type": "client_credentials"}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if c.credentials_in == "basic":
            pair = f"{c.client_id}:{c.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form.update(client_id=c.client_id, client_secret=c.client_secret)
        if c.scope:
            form["scope"] = c.scope
        self.requests += 1
        try:
            reply = self.http.request("POST", c.token_url, content=urlencode(form).encode("ascii"), headers=headers,
                                      timeout=c.timeout)
        except HttpError as exc:
            raise TokenFailure(f"{type(exc).__name__} ({exc.kind})", error=exc) from None
        if reply.status_code != 200:
            raise TokenFailure(f"HTTP {reply.status_code}", reply)
        try:
            body: Any = parse_json_document(reply.content[:c.max_answer_bytes].decode("utf-8"))
            token, lifetime = body[c.token_field], float(body.get(c.expires_field, c.default_lifetime))
            kind = str(body.get(c.type_field, "Bearer")) if c.type_field else "Bearer"
        except (Unreadable, UnicodeDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise TokenFailure("malformed token answer", reply) from None
        if not isinstance(token, str) or not token:  # null, a number, "": no token (not the text "None")
            raise TokenFailure("empty token", reply)
        if not math.isfinite(lifetime):
            raise TokenFailure("malformed token answer", reply)
        if kind.lower() != "bearer":
            raise TokenFailure(f"token_type {kind[:20]!r}", reply)
        self._token, self._expires = token, self.clock() + max(0.0, lifetime - c.margin)
        self.issued += 1
        return token
