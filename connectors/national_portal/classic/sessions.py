"""Stateless sessions: an HMAC-signed token naming the client and its expiry, so any gateway
process holding the same secret accepts it. Tokens and the secret are never logged.

The MAC also covers the client's configured password entry: changing a password ends its sessions.
"""

import base64
from dataclasses import dataclass
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable

from connectors.national_portal.classic.settings import InboundClient, InboundSettings
from gateway.kit import line

log = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_from(settings: InboundSettings, environ: dict[str, str] | None = None) -> bytes:
    """The shared secret from the environment; else one for this process only (sessions then
    do not carry over to other processes: their clients simply log in again)."""
    value = (os.environ if environ is None else environ).get(settings.session_secret_env, "")
    if value:
        return value.encode("utf-8")
    if settings.clients:  # nobody can log in otherwise: nothing to warn about
        log.warning("%s", line("national_portal.no_session_secret", name=settings.session_secret_env))
    return secrets.token_bytes(32)


@dataclass
class Sessions:
    settings: InboundSettings
    secret: bytes
    clock: Callable[[], float] = time.time

    def _mac(self, payload: str, client: InboundClient) -> str:
        message = f"{payload}.{client.credential}".encode("ascii")
        return _b64(hmac.new(self.secret, message, hashlib.sha256).digest())

    def open(self, client: InboundClient) -> str:
        expiry = int(self.clock() + self.settings.session_seconds)
        payload = _b64(json.dumps({"u": client.username, "e": expiry, "n": secrets.token_hex(8)},
                                  separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._mac(payload, client)}"

    def check(self, token: object) -> InboundClient | None:
        """The client a token belongs to, or None: malformed, forged, expired or for a removed client."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 1024:
            return None
        payload, mac = token.split(".")
        try:
            claims = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("e"), int):
            return None
        client = self.settings.client_named(str(claims.get("u", "")))
        if client is None or not hmac.compare_digest(mac, self._mac(payload, client)):
            return None
        return client if self.clock() < claims["e"] else None
