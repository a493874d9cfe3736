"""The payment connector's settings: its defaults fragment under the deployment's [payment] table."""

from dataclasses import dataclass, field
from typing import Literal

from gateway.kit import Config, ConfigError, secret

Variant = Literal["national", "paygov"]


@dataclass(frozen=True)
class PaymentSettings:
    variant: Variant
    url: str
    endpoint: str
    paygov_endpoints: dict[str, str]
    partner_code: str
    secret: str = field(repr=False)
    access_key: str = field(repr=False)
    phien_ban: str
    channel: str
    device: str
    bank_code: str
    client_ip: str
    timeout_seconds: float
    max_receipt_bytes: int
    receipt_purpose: str
    init_fields: tuple[str, ...]
    reply_fields: tuple[str, ...]
    already_exists: frozenset[str]
    transient_codes: frozenset[str]
    receipt: dict[str, str]
    reconcile_after_seconds: float = 900.0  # an initiated payment with no CONFIRM this long: QUERY the platform
    reconcile_every_seconds: float = 60.0
    settle_tasks: int = 2  # worker threads fetching and verifying confirmed payments' receipts (per process)
    settle_lease_seconds: float = 60.0
    settle_poll_seconds: float = 0.05
    retry_base_seconds: float = 2.0  # a receipt not fetched or not decided yet: tried again after 2, 4, 8 … s
    retry_cap_seconds: float = 300.0

    @classmethod
    def from_config(cls, config: Config) -> "PaymentSettings":
        table = config.section("payment")  # the fragment merged under the deployment by Config.load
        variant = table.get("variant")
        if variant not in ("national", "paygov"):
            raise ConfigError('payment.variant must be "national" or "paygov"')
        return cls(
            variant=variant, url=str(table["url"]), endpoint=str(table["endpoint"]),
            paygov_endpoints={k: str(v) for k, v in table["paygov_endpoints"].items()},
            partner_code=str(table["partner_code"]),
            secret=secret(table, "secret", "payment", required=True),
            access_key=secret(table, "access_key", "payment", required=variant == "paygov"),
            phien_ban=str(table["phien_ban"]), channel=str(table["channel"]), device=str(table["device"]),
            bank_code=str(table["bank_code"]), client_ip=str(table["client_ip"]),
            timeout_seconds=float(table["timeout_seconds"]), max_receipt_bytes=int(table["max_receipt_bytes"]),
            receipt_purpose=str(table["receipt_purpose"]),
            init_fields=tuple(table["init_fields"]), reply_fields=tuple(table["reply_fields"]),
            already_exists=frozenset(str(c) for c in table["already_exists"]),
            transient_codes=frozenset(str(c) for c in table["transient_codes"]),
            receipt={k: str(v) for k, v in table["receipt"].items()},
            reconcile_after_seconds=float(table.get("reconcile_after_seconds", 900.0)),
            reconcile_every_seconds=float(table.get("reconcile_every_seconds", 60.0)),
            settle_tasks=int(table.get("settle_tasks", 2)),
            settle_lease_seconds=float(table.get("settle_lease_seconds", 60.0)),
            settle_poll_seconds=float(table.get("settle_poll_seconds", 0.05)),
            retry_base_seconds=float(table.get("retry_base_seconds", 2.0)),
            retry_cap_seconds=float(table.get("retry_cap_seconds", 300.0)))
