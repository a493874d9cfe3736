"""Sender authentication: an API key or bearer token per client, kept in configuration only
as its SHA-256; optional limits on the agencies (NoiGui) and packet types a client may send."""

from dataclasses import dataclass
import hashlib
import re
from typing import Protocol
from collections.abc import Mapping

from gateway.config import Config, ConfigError
from gateway.messages import text
from gateway.packets.envelope import BODY_TYPES, GoiTin

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Denied(Exception):
    """401 (who are you?) or 403 (not allowed to send this), with Vietnamese and English words."""

    def __init__(self, status: int, rule: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.status, self.rule, self.message_vi, self.message_en = status, rule, message_vi, message_en

    def to_dict(self) -> dict[str, str]:
        return {"error": self.rule, "message_vi": self.message_vi, "message_en": self.message_en}


# Too many invalid keys from one address (gateway.receive.lockout): answered 429 with Retry-After.
LOCKED = Denied(429, "auth.locked", *text("auth.locked"))


@dataclass(frozen=True)
class Client:
    name: str
    agencies: frozenset[str] | None = None  # None: any agency
    types: frozenset[str] | None = None  # None: any packet type
    evidence: bool = False  # may export dossiers' evidence bundles (GET /v1/evidence/…); deny by default


def _presented_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None


class KeyTable(Protocol):
    def table(self, configured: dict[str, Client]) -> dict[str, Client]: ...


@dataclass(frozen=True)
class Clients:
    by_key_hash: dict[str, Client]
    managed: KeyTable | None = None  # clients added, re-keyed or suspended with ``gateway clients`` (the store)

    @classmethod
    def from_config(cls, config: Config) -> "Clients":
        by_hash: dict[str, Client] = {}
        for name, raw in config.section("clients").items():
            if not isinstance(raw, dict):
                raise ConfigError(f"clients.{name} must be a table")
            digest = str(raw.get("key_sha256", "")).lower()
            if not _HEX64.match(digest):
                raise ConfigError(f"clients.{name}.key_sha256 must be 64 hex digits (the SHA-256 of the key)")
            if digest in by_hash:
                raise ConfigError(f"clients.{name}: the same key as clients.{by_hash[digest].name}")
            types = raw.get("types")
            if types is not None and set(types) - set(BODY_TYPES):
                raise ConfigError(f"clients.{name}.types: unknown packet types {sorted(set(types) - set(BODY_TYPES))}")
            agencies = raw.get("agencies")
            by_hash[digest] = Client(name, frozenset(agencies) if agencies is not None else None,
                                     frozenset(types) if types is not None else None, raw.get("evidence") is True)
        return cls(by_hash)

    def authenticate(self, headers: Mapping[str, str]) -> Client:
        key = _presented_key(headers)
        if key is None:
            raise Denied(401, "auth.missing", *text("auth.missing"))
        # Only hashes are kept, so a lookup by hash compares nothing secret.
        table = self.by_key_hash if self.managed is None else self.managed.table(self.by_key_hash)
        client = table.get(hashlib.sha256(key.encode("utf-8")).hexdigest())
        if client is None:
            raise Denied(401, "auth.invalid", *text("auth.invalid"))
        return client

    @staticmethod
    def authorize(client: Client, packet: GoiTin) -> None:
        if client.agencies is not None and packet.NoiGui not in client.agencies:
            raise Denied(403, "auth.agency", *text("auth.agency", client=client.name, agency=packet.NoiGui))
        if client.types is not None and packet.LoaiGoiTin not in client.types:
            raise Denied(403, "auth.type", *text("auth.type", client=client.name, packet_type=packet.LoaiGoiTin))
