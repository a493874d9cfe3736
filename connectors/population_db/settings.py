"""``[population_db]``: where the database is, how to authenticate, bounds, and the fault table."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.kit import Config, ConfigError, secret

WSDL = Path(__file__).with_name("dancu.wsdl")
KINDS = ("retry", "later", "refuse")
VARIANTS = ("national", "lgsp")


@dataclass(frozen=True)
class LgspSettings:
    """``[population_db.lgsp]``: the province's integration platform in front of the database. Its shape is not
    published (population-db.md: "an OAuth client-credentials token and the SOAP body wrapped in JSON"), so
    each uncertain part is a setting; see the README."""

    url: str = ""  # the platform's endpoint for the population service (JSON in, JSON out)
    token_url: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scope: str = ""  # sent only when set
    credentials_in: str = "body"  # client credentials in the form ("body") or as HTTP Basic ("basic")
    request_field: str = "data"  # the JSON member carrying the SOAP envelope (a string)
    answer_field: str = "data"  # the member of the answer carrying the SOAP answer
    envelope_fields: dict[str, str] = field(default_factory=dict)  # fixed members added to each request
    direct_headers: bool = False  # also send the database's own headers (Timestamp, hashed Basic, …) inside
    expiry_margin_seconds: float = 30.0  # a token is renewed this long before it expires


@dataclass(frozen=True)
class PopulationSettings:
    url: str = ""
    wsdl: str = str(WSDL)
    auth_url: str = ""
    timestamp_unit: str = "milliseconds"
    username: str = ""
    secret: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    identifier_key: str = field(default="", repr=False)
    x_road_client: str = ""
    ma_tich_hop: str = "037"
    ma_don_vi: str = ""
    tai_khoan: str = ""
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    max_answer_bytes: int = 262144
    max_connections: int = 16
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    retries: int = 1
    retry_after_seconds: int = 30
    breaker_failures: int = 5
    breaker_open_seconds: float = 30.0
    fault_codes: dict[str, str] = field(default_factory=lambda: {"Client": "refuse", "default": "later"})
    http_status: dict[str, str] = field(default_factory=lambda: {"default": "later"})
    transport: dict[str, str] = field(default_factory=dict)
    variant: str = "national"  # "national": SOAP straight to the database; "lgsp": through the province's platform
    lgsp: LgspSettings = field(default_factory=LgspSettings)

    @classmethod
    def from_config(cls, config: Config) -> "PopulationSettings":
        raw = config.section("population_db")  # the fragment merged under the deployment by Config.load
        where = "population_db"
        tables = {name: {str(k): str(v) for k, v in dict(raw.get(name, {})).items()}
                  for name in ("fault_codes", "http_status", "transport")}
        for name, table in tables.items():
            wrong = {k: v for k, v in table.items() if v not in KINDS}
            if wrong:
                raise ConfigError(f"{where}.{name}: {wrong} — each must be one of {', '.join(KINDS)}")
        if raw.get("timestamp_unit", "milliseconds") not in ("seconds", "milliseconds"):
            raise ConfigError(f'{where}.timestamp_unit must be "seconds" or "milliseconds"')
        variant = str(raw.get("variant", "national"))
        if variant not in VARIANTS:
            raise ConfigError(f'{where}.variant must be one of {", ".join(VARIANTS)}')
        lgsp = _lgsp(dict(raw.get("lgsp", {})), f"{where}.lgsp", required=variant == "lgsp")
        try:
            return cls(variant=variant, lgsp=lgsp,
                url=str(raw.get("url", "")), wsdl=str(raw.get("wsdl") or WSDL), auth_url=str(raw.get("auth_url", "")),
                timestamp_unit=str(raw.get("timestamp_unit", "milliseconds")),
                username=secret(raw, "username", where), secret=secret(raw, "secret", where),
                api_key=secret(raw, "api_key", where), identifier_key=secret(raw, "identifier_key", where),
                x_road_client=str(raw.get("x_road_client", "")), ma_tich_hop=str(raw.get("ma_tich_hop", "037")),
                ma_don_vi=str(raw.get("ma_don_vi", "")), tai_khoan=str(raw.get("tai_khoan", "")),
                connect_timeout=float(raw.get("connect_timeout", 2.0)), read_timeout=float(raw.get("read_timeout", 5.0)),
                max_answer_bytes=int(raw.get("max_answer_bytes", 262144)),
                max_connections=int(raw.get("max_connections", 16)), ca_file=str(raw.get("ca_file", "")),
                cert_file=str(raw.get("cert_file", "")), key_file=str(raw.get("key_file", "")),
                retries=int(raw.get("retries", 1)), retry_after_seconds=int(raw.get("retry_after_seconds", 30)),
                breaker_failures=int(raw.get("breaker_failures", 5)),
                breaker_open_seconds=float(raw.get("breaker_open_seconds", 30)), **tables)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None


def _lgsp(raw: dict[str, Any], where: str, required: bool) -> LgspSettings:
    if raw.get("credentials_in", "body") not in ("body", "basic"):
        raise ConfigError(f'{where}.credentials_in must be "body" or "basic"')
    settings = LgspSettings(
        url=str(raw.get("url", "")), token_url=str(raw.get("token_url", "")),
        client_id=secret(raw, "client_id", where, required=required),
        client_secret=secret(raw, "client_secret", where, required=required), scope=str(raw.get("scope", "")),
        credentials_in=str(raw.get("credentials_in", "body")), request_field=str(raw.get("request_field", "data")),
        answer_field=str(raw.get("answer_field", "data")),
        envelope_fields={str(k): str(v) for k, v in dict(raw.get("envelope_fields", {})).items()},
        direct_headers=bool(raw.get("direct_headers", False)),
        expiry_margin_seconds=float(raw.get("expiry_margin_seconds", 30.0)))
    if required and not (settings.url and settings.token_url):
        raise ConfigError(f"{where}: url and token_url are needed for the lgsp variant")
    return settings
