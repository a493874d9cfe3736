"""The ``[inbound_classic]`` configuration section, read once into a typed value."""

from dataclasses import dataclass, field
import hashlib
import hmac
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
import re
from typing import Any

from connectors.national_portal.settings import DEFAULTS
from gateway.kit import Config, ConfigError
from gateway.kit.inbound import is_hash

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_INBOUND: dict[str, Any] = DEFAULTS["inbound_classic"]
_CODES: dict[str, Any] = _INBOUND["error_codes"]
_PORTAL: dict[str, Any] = DEFAULTS["national_portal"]


@dataclass(frozen=True)
class BareAccess:
    """How a client of the session-less variant is known: the SHA-256 of the secret token in its URL,
    and, optionally, the only source addresses (networks) it may call from."""

    token_sha256: str = field(repr=False)
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    def allows(self, token: str, address: str | None) -> bool:
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        if not hmac.compare_digest(digest, self.token_sha256):
            return False
        if not self.networks:
            return True
        try:
            source = ip_address(address or "")
        except ValueError:
            return False
        return any(source in network for network in self.networks)


@dataclass(frozen=True)
class InboundClient:
    """A one-stop system allowed to log in: its username, its password's salted hash (``password_hash``, from
    ``gateway clients hash-password``) or legacy unsalted SHA-256 (``password_sha256``), its agencies."""

    name: str
    username: str
    password_sha256: str = field(repr=False)  # "" when password_hash is set
    madonvi: frozenset[str]
    password_hash: str = field(default="", repr=False)
    bare: BareAccess | None = None  # the session-less bare-array variant, if this client may use it

    @property
    def credential(self) -> str:
        """The configured password entry: what a login is checked against, and what sessions are bound to."""
        return self.password_hash or self.password_sha256


@dataclass(frozen=True)
class ErrorCodes:
    """The ``error_code`` of each refusal (the portal publishes none; these follow the simulator).
    -1 (``session``) makes the portal's clients, and ours, log in again."""

    session: int = int(_CODES["session"])
    invalid: int = int(_CODES["invalid"])
    not_found: int = int(_CODES["not_found"])  # progress for a dossier neither the gateway nor the portal knows
    exists: int = int(_CODES["exists"])  # isUpdating "False" for a dossier the gateway already holds
    unknown_service: int = int(_CODES["unknown_service"])
    envelope: int = int(_CODES["envelope"])  # dstcode or madonvi not accepted
    login: int = int(_CODES["login"])
    unavailable: int = int(_CODES["unavailable"])  # the portal (look-ups) or the store is unavailable
    denied: int = int(_CODES["denied"])  # the packet may not be sent (routing, policy)


@dataclass(frozen=True)
class InboundSettings:
    """``[inbound_classic]``; its values are stated once, in the connector's defaults fragment."""

    enabled: bool = bool(_INBOUND["enabled"])
    auth_endpoint: str = _PORTAL["auth_endpoint"]  # unset in [inbound_classic]: the portal's own paths
    integration_endpoint: str = _PORTAL["integration_endpoint"]
    share_endpoint: str = _PORTAL["share_endpoint"]
    bare_endpoint: str = _INBOUND["bare_endpoint"]  # + /{token}/{service}: the session-less bare-array variant
    dstcodes: frozenset[str] = frozenset(_INBOUND["dstcodes"])  # empty: any dstcode header
    session_seconds: float = float(_INBOUND["session_seconds"])
    session_secret_env: str = _INBOUND["session_secret_env"]
    max_items: int = int(_INBOUND["max_items"])
    noi_nhan: str = _INBOUND["noi_nhan"]
    phien_ban: str = _INBOUND["phien_ban"]
    lookups: bool = bool(_INBOUND["lookups"])
    success_code: int | str = _INBOUND["success_code"]  # error_code of success, as the portal a client knows spells it
    late_history: str = _INBOUND["late_history"]  # "accept": steps earlier than a finished dossier's end are history
    orphan_check_seconds: float = float(_INBOUND["orphan_check_seconds"])  # longest wait for the portal's look-up; 0: off
    codes: ErrorCodes = ErrorCodes()
    clients: tuple[InboundClient, ...] = ()

    def client_named(self, username: str) -> InboundClient | None:
        return next((c for c in self.clients if c.username == username), None)

    def bare_client(self, token: str, address: str | None) -> InboundClient | None:
        """The client whose path token this is, if it may call from ``address``."""
        return next((c for c in self.clients if c.bare is not None and c.bare.allows(token, address)), None)

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
        if settings.success_code not in (0, "0", "00"):
            raise ConfigError('inbound_classic.success_code must be 0, "0" or "00"')
        if settings.late_history not in ("accept", "check") or settings.orphan_check_seconds < 0:
            raise ConfigError('inbound_classic: late_history must be "accept" or "check", orphan_check_seconds >= 0')
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
    unknown = set(table) - {"username", "password_sha256", "password_hash", "madonvi", "path_token_sha256",
                            "addresses"}
    if unknown:
        raise ConfigError(f"inbound_classic.clients.{name}: unknown keys {sorted(unknown)}")
    return InboundClient(name, username, digest if "password_sha256" in table else "",
                         frozenset(str(a) for a in agencies), hashed, _bare(name, table))


def _bare(name: str, table: dict[str, Any]) -> BareAccess | None:
    token = str(table.get("path_token_sha256", "")).lower()
    if not token:
        if "addresses" in table:
            raise ConfigError(f"inbound_classic.clients.{name}.addresses needs path_token_sha256")
        return None
    if not _HEX64.match(token):
        raise ConfigError(f"inbound_classic.clients.{name}.path_token_sha256 must be 64 hex digits")
    try:
        networks = tuple(ip_network(str(a), strict=False) for a in table.get("addresses", ()))
    except ValueError as exc:
        raise ConfigError(f"inbound_classic.clients.{name}.addresses: {exc}") from None
    return BareAccess(token, networks)
