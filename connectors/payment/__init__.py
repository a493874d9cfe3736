"""Connector to the online payment platform (the national portal's, or a PayGov-style provincial one):
INIT from a status-6 dossier with fees or from a YeuCauThanhToan, the CONFIRM callback (answered once recorded),
and in the worker GET_BILL, the bank's receipt verified before a BienLaiThanhToan goes to the provincial portal; and a simulator of the platform.

Registered as ``payment`` in ``[connectors]``; its modules are imported when a part is used, so that
loading the configuration stays light. Off (no INIT, no callback route) until ``[payment].url`` is set."""

from collections.abc import Callable, Sequence
from pathlib import Path
import threading
from typing import Any

from gateway.kit import Config, ConnectorSpec, DestinationPolicy


def _create(policy: DestinationPolicy, config: Config) -> Any:
    from connectors.payment.connector import create

    return create(policy, config)


def _routes(app: Any, config: Config, services: Any) -> None:
    """The CONFIRM callback, given the API's services (``store``, ``originate``: the intake)."""
    from connectors.payment.inbound import install

    if config.section("payment").get("url"):  # no platform configured: no callback to answer
        install(app, config, services)


def _tasks(config: Config, services: Any) -> Sequence[Callable[[threading.Event], None]]:
    """In the worker: the settlers (a confirmed payment's receipt fetched, verified, forwarded) and the
    reconciler (payments whose CONFIRM never came are asked about with QUERY)."""
    if not config.section("payment").get("url"):  # no platform configured: nothing to ask
        return []
    from connectors.payment.client import platform_for
    from connectors.payment.inbound import Callbacks, trust_of
    from connectors.payment.reconcile import Reconciler
    from connectors.payment.settings import PaymentSettings
    from connectors.payment.settle import Pace, Settler

    settings = PaymentSettings.from_config(config)
    trust = trust_of(config, settings)
    pace = Pace(settings.settle_lease_seconds, settings.settle_poll_seconds, settings.retry_base_seconds,
                settings.retry_cap_seconds)
    callbacks = Callbacks(platform_for(settings), services, settings)
    reconciler = Reconciler(callbacks, settings.reconcile_after_seconds, settings.reconcile_every_seconds)

    def reconcile(stop: threading.Event) -> None:
        try:
            reconciler.run(stop)
        finally:
            callbacks.platform.close()

    def settler() -> Callable[[threading.Event], None]:
        one = Settler(platform_for(settings), services, trust, settings, pace)

        def run(stop: threading.Event) -> None:
            try:
                one.run(stop)
            finally:
                one.platform.close()
        return run

    return [reconcile, *(settler() for _ in range(max(1, settings.settle_tasks)))]


def _cli() -> Any:
    from connectors.payment.cli import make

    return make()


CONNECTOR = ConnectorSpec(
    name="payment",
    packet_types=frozenset({"HoSo", "YeuCauThanhToan"}),
    create=_create,
    routes=_routes,
    cli=_cli,
    tasks=_tasks,
    defaults=Path(__file__).with_name("defaults.toml"),
)
