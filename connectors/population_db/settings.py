"""``[population_db]``: where the database is, how to authenticate, bounds, and the fault table."""

from dataclasses import dataclass, field
from pathlib import Path

from gateway.kit import Config, ConfigError, secret

WSDL = Path(__file__).with_name("dancu.wsdl")
KINDS = ("retry", "later", "refuse")


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
        try:
            return cls(
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
