"""The payment platform as a destination: a status-6 HoSo with fees, or a YeuCauThanhToan, becomes one INIT.

Idempotent per dossier and fee list (``transform.reference_for``): the reference is recorded in the
store (table ``payments``) before the platform is asked; a retry or replay of an initiated payment is
delivered without asking again; "reference exists" from the platform counts as done.
"""

from collections.abc import Sequence
from typing import Any

from connectors.payment.client import Platform, platform_for
from connectors.payment.messages import slash
from connectors.payment.settings import PaymentSettings
from connectors.payment.transform import request_for
from gateway.kit import Config, ConfigError, Delivery, DestinationPolicy, Outcome, OutcomeKind, Store, open_store

# The payer's name, ID and address travel to the platform in ThongTinBienLai, but are not kept in the payments
# table (unsealed, outside a dossier's purge): the packets hold them, sealed at rest.
PERSONAL = ("HoTenNguoiNop", "SoCMNDNguoiNop", "DiaChiNguoiNop", "HuyenNguoiNop", "TinhNguoiNop")


def without_personal_data(info: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in info.items() if key not in PERSONAL}




class PaymentConnector:
    name = "payment"
    max_batch = 1
    carries = frozenset({"HoSo", "YeuCauThanhToan"})

    def __init__(self, platform: Platform, store: Store, owns_store: bool = False) -> None:
        self.platform, self.store, self._owns_store = platform, store, owns_store
        self.settings: PaymentSettings = platform.settings  # type: ignore[attr-defined]  # the payment platform's settings, set by its factory

    @property
    def transform(self) -> str:
        return slash("payment.transform", variant=self.platform.variant, version=self.settings.phien_ban)

    def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        return [self._one(delivery) for delivery in batch]

    def _one(self, delivery: Delivery) -> Outcome:
        packet = delivery.packet
        if packet.LoaiGoiTin not in self.carries:
            return Outcome(OutcomeKind.PERMANENT, slash("payment.not_carried"), dossier_only=True)
        request = request_for(packet, self.settings)
        if request is None:
            return Outcome(OutcomeKind.DELIVERED, slash("payment.no_fee"))
        record = self.store.open_payment(request.reference, request.dossier, request.packet_id, request.agency,
                                         request.amount, self.platform.variant,
                                         {"receipt_info": without_personal_data(request.receipt_info),
                                          **({"request_code": request.request_code} if request.request_code else {})})
        if record["state"] != "new":  # asked before: the platform has it
            return Outcome(OutcomeKind.DELIVERED, slash("payment.created_before", reference=request.reference))
        answer = self.platform.init(request)
        if answer.kind in ("ok", "exists"):
            url = str(answer.data.get("UrlThanhToan") or answer.data.get("payUrl") or "")
            self.store.update_payment(request.reference, "initiated", {"pay_url": url})
            self.store.audit("payment", "payment.initiated", request.reference,
                             {"amount": request.amount, "variant": self.platform.variant, "code": answer.code},
                             dossier=request.dossier)
            return Outcome(OutcomeKind.DELIVERED, f"MaThamChieu {request.reference}", peer_status=answer.code)
        if answer.kind == "transient":
            return Outcome(OutcomeKind.TRANSIENT, answer.message, retry_after=answer.retry_after,
                           peer_status=answer.code)
        self.store.update_payment(request.reference, "refused", {"reason": answer.message, "code": answer.code})
        return Outcome(OutcomeKind.PERMANENT, slash("payment.refused", message=answer.message),
                       peer_status=answer.code, dossier_only=True)

    def close(self) -> None:
        self.platform.close()
        if self._owns_store:
            self.store.close()


def create(policy: DestinationPolicy, config: Config | None = None) -> PaymentConnector:
    config = config or Config.load()
    if policy.url:  # the destination's address, when given, is the platform's
        config = Config({**config.raw, "payment": {**config.section("payment"), "url": policy.url}}, config.source)
    if not config.section("payment").get("url"):  # the product's defaults name no platform
        raise ConfigError(slash("payment.no_url", name=policy.name))
    settings = PaymentSettings.from_config(config)
    store = open_store(str(config.section("store").get("url", "sqlite:///gateway.db")))
    return PaymentConnector(platform_for(settings), store, owns_store=True)
