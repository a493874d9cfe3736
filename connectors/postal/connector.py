"""The postal service as a destination of the delivery engine.

- HoSo status 9 with HinhThuc 1, or a VanDonBuuChinh: order a shipment, OrderNumber = the dossier code.
  A dossier already in the record is not ordered again (a resend, a replay, a retry after a lost answer);
  the service's "already have it" answer counts as delivered too and is recorded.
- HoSo or TienDoXuLy status 7 or 8 (withdrawn, stopped): cancel the dossier's shipment if there is one.
Anything else routed here is a configuration mistake: refused (permanent) with the reason.
"""

from collections.abc import Sequence
import logging

from connectors.postal.client import Answer, Kind, PostalClient
from connectors.postal.ledger import CANCELLED, ORDERED, PostalLedger
from connectors.postal.messages import each, slash
from connectors.postal.settings import PostalSettings
from connectors.postal.transform import NotOrderable, Order, order_from_dossier, order_from_waybill
from gateway.kit import Config, ConfigError, Delivery, DestinationPolicy, Outcome, OutcomeKind, store_url

log = logging.getLogger(__name__)

CARRIES = frozenset({"HoSo", "TienDoXuLy", "VanDonBuuChinh"})
ORDER_STATUS, CANCEL_STATUSES, BY_POST = 9, (7, 8), 1


def outcome_of(answer: Answer, what: str) -> Outcome:
    if answer.kind in (Kind.OK, Kind.DUPLICATE):
        return Outcome(OutcomeKind.DELIVERED, answer.message, peer_status=answer.peer_status)
    if answer.kind is Kind.TRANSIENT:
        return Outcome(OutcomeKind.TRANSIENT, answer.message, answer.retry_after, answer.peer_status)
    reason = answer.message or answer.peer_status
    return Outcome(OutcomeKind.PERMANENT, each("postal.refused", what=(what,), reason=reason),
                   peer_status=answer.peer_status, dossier_only=True)


def _status(body: object) -> int | None:
    value = getattr(body, "TrangThaiHoSo", None)
    return int(value) if value is not None else (int(body.TrangThai) if hasattr(body, "TrangThai") else None)


class PostalConnector:
    name = "postal"
    max_batch = 1
    carries = CARRIES

    def __init__(self, client: PostalClient, ledger: PostalLedger) -> None:
        self.client, self.ledger, self.settings = client, ledger, client.settings

    @property
    def transform(self) -> str:
        return slash("postal.transform", customer=self.settings.customer_code, statuses=len(self.settings.statuses))

    def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        return [self._one(delivery) for delivery in batch]

    def _one(self, delivery: Delivery) -> Outcome:
        packet = delivery.packet
        body, kind = packet.body, packet.LoaiGoiTin
        try:
            if kind == "VanDonBuuChinh":
                return self._order(order_from_waybill(body, packet.NoiGui, self.settings), delivery.idempotency_key)
            status = _status(body)
            if status in CANCEL_STATUSES:
                return self._cancel(str(getattr(body, "MaHoSo", "")))
            if kind == "HoSo" and status == ORDER_STATUS and getattr(body, "HinhThuc", None) == BY_POST:
                return self._order(order_from_dossier(body, packet.NoiGui, self.settings), delivery.idempotency_key)
        except (NotOrderable, ConfigError) as exc:
            return Outcome(OutcomeKind.PERMANENT, str(exc), dossier_only=True)
        return Outcome(OutcomeKind.PERMANENT, slash("postal.nothing_to_do", kind=kind, status=_status(body)))

    def _order(self, order: Order, packet_id: str) -> Outcome:
        known = self.ledger.get(order.order_number)
        if known is not None and known.state != CANCELLED:
            return Outcome(OutcomeKind.DELIVERED, slash("postal.ordered_before", state=known.state))
        answer = self.client.create_order(order.body, order.personal)
        if answer.kind in (Kind.OK, Kind.DUPLICATE):
            data = answer.data if isinstance(answer.data, dict) else {}
            item_code = str(data.get("ItemCode") or order.body.get("ItemCode") or "") or None
            self.ledger.ordered(order.order_number, order.agency, packet_id, item_code)
            log.info("postal: shipment for dossier %s %s", order.order_number,
                     "ordered" if answer.kind is Kind.OK else "already ordered (the service's duplicate answer)")
        return outcome_of(answer, "postal.what.order")

    def _cancel(self, dossier: str) -> Outcome:
        known = self.ledger.get(dossier)
        if known is None or known.state != ORDERED:
            state = known.state if known else slash("postal.none")
            return Outcome(OutcomeKind.DELIVERED, slash("postal.no_shipment", state=state))
        answer = self.client.cancel_order(dossier)
        if answer.kind in (Kind.OK, Kind.DUPLICATE):
            self.ledger.moved(dossier, state=CANCELLED)
        if answer.kind is Kind.NOT_FOUND:
            return Outcome(OutcomeKind.PERMANENT, slash("postal.no_order", dossier=dossier), peer_status=answer.peer_status,
                           dossier_only=True)
        return outcome_of(answer, "postal.what.cancel")

    def close(self) -> None:
        self.client.close()
        self.ledger.close()


def create(policy: DestinationPolicy, config: Config | None = None) -> PostalConnector:
    """The delivery engine's factory (the registered ``postal``, ``[destinations.postal]``): ``[postal]``
    of ``config`` (its defaults from this connector's fragment); the destination's url, when set, is the
    service's address, and its own keys (customer_code, …) override the section's."""
    config = config or Config.load()
    section = dict(config.section("postal"))
    section.update({k: v for k, v in policy.options.items() if k != "transient_error_codes"})
    if policy.url:
        section["url"] = policy.url
    if not section.get("url"):  # the product's defaults name no postal service: a deployment gives its address
        raise ConfigError(slash("postal.no_url", name=policy.name))
    section["read_timeout"] = policy.timeout_seconds
    settings = PostalSettings.from_config(Config({**config.raw, "postal": section}, config.source))
    return PostalConnector(PostalClient(settings), PostalLedger(store_url(config)))
