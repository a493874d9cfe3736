"""The ``[postal]`` configuration section, read once into typed values.

The connector's own fragment (``defaults.toml`` next to this file) is merged under the deployment's
configuration by the registry (``Config.load``); this module reads the merged section only.
"""

from dataclasses import dataclass, field
from typing import Any

import connectors.postal.messages  # noqa: F401 - its sentences joined to the catalogue
from gateway.kit import Config, ConfigError, line, secret, text

def section(config: Config) -> dict[str, Any]:
    """``[postal]``: this connector's fragment merged under the deployment's keys (``Config.load``)."""
    return config.section("postal")


@dataclass(frozen=True)
class Sender:
    """An agency's return address, as the order's Sender* fields."""

    name: str
    address: str
    tel: str
    email: str
    province: int
    district: int


@dataclass(frozen=True)
class StatusMapping:
    """One postal StatusCode as a TrangThaiVanDon code, and what it means for the shipment."""

    code: str
    name: str
    delivered: bool = False
    state: str | None = None  # the shipment's new state in the record (delivered, returned, cancelled)


@dataclass(frozen=True)
class Answers:
    accepted: frozenset[str] = frozenset({"100", "101"})
    duplicate: frozenset[str] = frozenset({"102"})
    not_found: frozenset[str] = frozenset({"104"})
    transient: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Tracking:
    feed: str = "vnpost"
    page_size: int = 50
    poll_seconds: float = 30.0
    lease_seconds: float = 120.0
    noi_nhan: str = "provincial_portal"
    national_noi_nhan: str = "DVCQG"
    officer: str = field(default_factory=lambda: " — ".join(text("postal.officer")))


@dataclass(frozen=True)
class OAuth:
    """``[postal.oauth]``: client credentials for a bearer token (off while ``token_url`` is unset: the
    ``access_token`` header alone, as before)."""

    token_url: str = ""  # absolute, or a path on the service's address
    client_id: str = ""
    client_secret: str = field(default="", repr=False)  # from the environment (client_secret_env)
    scope: str = ""
    expiry_margin_seconds: float = 30.0  # renewed this long before the token would expire

    @property
    def enabled(self) -> bool:
        return bool(self.token_url)


@dataclass(frozen=True)
class PostalSettings:
    url: str
    customer_code: str
    access_token: str = field(default="", repr=False)
    order_path: str = "/api/orders"
    cancel_path: str = "/api/orders/cancel"
    tracking_path: str = "/api/tracking"
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_reply_bytes: int = 1_048_576
    weight: int = 200
    sender_desc: str = field(default_factory=lambda: text("postal.sender_desc")[0])  # Vietnamese: the parcel's label
    receiver_address_fields: tuple[str, ...] = ("ThongTinKhac",)
    answers: Answers = Answers()
    tracking: Tracking = Tracking()
    statuses: dict[str, StatusMapping] = field(default_factory=dict)
    senders: dict[str, Sender] = field(default_factory=dict)
    oauth: OAuth = OAuth()

    @classmethod
    def from_config(cls, config: Config) -> "PostalSettings":
        raw = section(config)
        try:
            answers = Answers(**{k: frozenset(str(c) for c in v) for k, v in raw.get("answers", {}).items()})
            tracking = Tracking(**raw.get("tracking", {}))
            statuses = {str(k): StatusMapping(**v) for k, v in raw.get("statuses", {}).items()}
            senders = {str(k): Sender(name=str(v["name"]), address=str(v["address"]), tel=str(v["tel"]),
                                      email=str(v.get("email", "")), province=int(v["province"]),
                                      district=int(v["district"]))
                       for k, v in raw.get("senders", {}).items()}
            oauth_raw = dict(raw.get("oauth", {}))
            oauth = OAuth(token_url=str(oauth_raw.get("token_url", "")), client_id=str(oauth_raw.get("client_id", "")),
                          client_secret=secret(oauth_raw, "client_secret", "postal.oauth",
                                               required=bool(oauth_raw.get("token_url"))),
                          scope=str(oauth_raw.get("scope", "")),
                          expiry_margin_seconds=float(oauth_raw.get("expiry_margin_seconds", 30.0)))
            if oauth.enabled and not oauth.client_id:
                raise ConfigError("postal.oauth.client_id is empty (token_url is set)")
        except (TypeError, KeyError, ValueError) as exc:
            raise ConfigError(f"postal: {type(exc).__name__}: {exc}") from None
        plain = {k: v for k, v in raw.items() if k not in ("answers", "tracking", "statuses", "senders", "oauth")}
        plain.pop("access_token_env", None)
        if "receiver_address_fields" in plain:
            plain["receiver_address_fields"] = tuple(str(f) for f in plain["receiver_address_fields"])
        try:
            settings = cls(**plain, access_token=secret(raw, "access_token", "postal"), answers=answers,
                           tracking=tracking, statuses=statuses, senders=senders, oauth=oauth)
        except TypeError as exc:  # an unknown key in the section
            raise ConfigError(f"postal: {exc}") from None
        for state in {m.state for m in statuses.values()} - {None, "delivered", "returned", "cancelled"}:
            raise ConfigError(f"postal.statuses: unknown state {state!r} (delivered, returned or cancelled)")
        if not 1 <= tracking.page_size <= 500:
            raise ConfigError("postal.tracking.page_size must be between 1 and 500")
        return settings

    def sender(self, agency: str) -> Sender:
        found = self.senders.get(agency)
        if found is None:
            raise ConfigError(line("postal.no_sender", agency=agency))
        return found

    def status(self, code: str) -> StatusMapping:
        """An unmapped code still travels: as ``BC_<code>`` with the service's own message."""
        return self.statuses.get(code) or StatusMapping(code=f"BC_{code}", name="")
