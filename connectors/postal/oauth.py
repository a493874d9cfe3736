"""The postal API's OAuth client-credentials flow (the domain brief: "header ``access_token`` or an OAuth
client-credentials token through the province's platform"): ``client_id``/``client_secret`` exchanged at
``token_url`` for a bearer token, cached until ``expiry_margin_seconds`` before it expires, and forgotten
when the service refuses it (401) so the call is made once more with a new one."""

from collections.abc import Callable
import threading
import time

from connectors.postal.settings import OAuth
from gateway.kit import HttpClient, HttpError


class TokenError(Exception):
    """No token: the token endpoint refused, failed or answered something unreadable (the reason, no secret)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class BearerTokens:
    def __init__(self, http: HttpClient, oauth: OAuth, clock: Callable[[], float] = time.monotonic) -> None:
        self.http, self.oauth, self.clock = http, oauth, clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.issued = 0  # tokens fetched (tests, metrics)

    def token(self) -> str:
        """The cached token while it lives, else a new one (one fetch at a time)."""
        with self._lock:
            if self._token is not None and self.clock() < self._expires:
                return self._token
            return self._fetch()

    def refused(self, token: str) -> None:
        """The service said 401 to ``token``: not used again (another thread may have replaced it already)."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.oauth.client_id,
                "client_secret": self.oauth.client_secret}
        if self.oauth.scope:
            form["scope"] = self.oauth.scope
        try:
            reply = self.http.post(self.oauth.token_url, data=form, headers={"Accept": "application/json"})
        except HttpError as exc:
            raise TokenError(f"{type(exc).__name__} ({exc.kind})") from None
        if reply.status_code != 200:
            raise TokenError(f"HTTP {reply.status_code}", reply.retry_after)
        try:
            body = reply.json()
            token, kind = str(body["access_token"]), str(body.get("token_type", "Bearer"))
            lifetime = float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            raise TokenError("malformed token answer") from None
        if kind.lower() != "bearer" or not token:
            raise TokenError(f"token_type {kind[:20]!r}")
        self._token, self._expires = token, self.clock() + max(0.0, lifetime - self.oauth.expiry_margin_seconds)
        self.issued += 1
        return token
