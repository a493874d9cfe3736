"""The ``[inbound_classic]`` configuration section, read once into a typed value."""

from dataclasses import dataclass, field
import re
from typing import Any

from gateway.config import Config, ConfigError
from gateway.receive.passwords import is_hash

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class InboundClient:
    """A one-stop system allowed to log in: its username, its password's salted hash (``password_hash``, from
    ``gateway clients hash-password``) or legacy unsalted SHA-256 (``password_sha256``), its agencies."""

    name: str
    username: str
    password_sha256: str = field(repr=False)  # "" when password_hash is set
    madonvi: frozenset[str]
    password_hash: str = field(default="", repr=False)

    @property
    def credential(self) -> str:
        """The configured password entry: what a login is checked against, and what sessions are bound to."""
        return self.password_hash or self.password_sha256


@dataclass(frozen=True)
class ErrorCodes:
    """The ``error_code`` of each refusal (the portal publishes none; these follow the simulator)."""

    session: int = -1  # log in again (the portal's clients, and ours, renew on this)
    invalid: int = 1
    unknown_service: int = 4
    envelope: int = 5  # dstcode or madonvi not accepted
    login: int = 6
    unavailable: int = 7  # the portal (look-ups) or the store is unavailable: try again later
    denied: int = 8  # the packet may not be sent (routing, policy)


@dataclass(frozen=True)
class InboundSettings:
    enabled: bool = True
    auth_endpoint: str = "/adapter/auth"
    integration_endpoint: str = "/adapter/integration"
    share_endpoint: str = "/adapter/share"
    dstcodes: frozenset[str] = frozenset()  # empty: any dstcode header
    session_seconds: float = 1800.0
    session_secret_env: str = "GATEWAY_INBOUND_SESSION_SECRET"
    max_items: int = 100
    noi_nhan: str = "DVCQG"
    phien_ban: str = "1.0"
    lookups: bool = True
    codes: ErrorCodes = ErrorCodes()
    clients: tuple[InboundClient, ...] = ()

    def client_named(self, username: str) -> InboundClient | None:
        return next((c for c in self.clients if c.username == username), None)

    @classmethod
    def from_config(cls, config: Config) -> "InboundSettings":
        raw: dict[str, Any] = dict(config.section("inbound_classic"))
        portal = config.section("national_portal")
        for key in ("auth_endpoint", "integration_endpoint", "share_endpoint"):
            raw.setdefault(key, portal.get(key, getattr(cls, key)))  # unset: the portal's own paths
        clients = tuple(_client(name, table) for name, table in raw.pop("clients", {}).items())
        usernames = [c.username for c in clients]
        if len(set(usernames)) != len(usernames):
            raise ConfigError("inbound_classic.clients: two clients share a username")
        codes = raw.pop("error_codes", {})
        raw["dstcodes"] = frozenset(str(d) for d in raw.get("dstcodes", ()))
        try:
            settings = cls(**raw, codes=ErrorCodes(**{k: int(v) for k, v in codes.items()}), clients=clients)
        except TypeError as exc:  # an unknown key in the section
            raise ConfigError(f"inbound_classic: {exc}") from None
        if settings.session_seconds <= 0 or not 1 <= settings.max_items <= 1000:
            raise ConfigError("inbound_classic: session_seconds must be > 0 and max_items between 1 and 1000")
        if len({settings.auth_endpoint, settings.integration_endpoint, settings.share_endpoint}) != 3:
            raise ConfigError("inbound_classic: auth, integration and share endpoints must differ")
        return settings


def _client(name: str, table: Any) -> InboundClient:
    if not isinstance(table, dict):
        raise ConfigError(f"inbound_classic.clients.{name} must be a table")
    digest, hashed = str(table.get("password_sha256", "")).lower(), str(table.get("password_hash", ""))
    if ("password_sha256" in table) == ("password_hash" in table):
        raise ConfigError(f"inbound_classic.clients.{name}: give password_hash (gateway clients hash-password) "
                          "or, legacy, password_sha256 — one of them")
    if "password_sha256" in table and not _HEX64.match(digest):
        raise ConfigError(f"inbound_classic.clients.{name}.password_sha256 must be 64 hex digits "
                          "(the SHA-256 of the password)")
    if "password_hash" in table and not is_hash(hashed):
        raise ConfigError(f"inbound_classic.clients.{name}.password_hash must be a scrypt$… entry "
                          "as gateway clients hash-password prints it")
    username, agencies = table.get("username"), table.get("madonvi")
    if not isinstance(username, str) or not username:
        raise ConfigError(f"inbound_classic.clients.{name}.username is required")
    if not isinstance(agencies, list) or not agencies:
        raise ConfigError(f"inbound_classic.clients.{name}.madonvi must list the agency codes it may send for")
    unknown = set(table) - {"username", "password_sha256", "password_hash", "madonvi"}
    if unknown:
        raise ConfigError(f"inbound_classic.clients.{name}: unknown keys {sorted(unknown)}")
    return InboundClient(name, username, digest if "password_sha256" in table else "",
                         frozenset(str(a) for a in agencies), hashed)
