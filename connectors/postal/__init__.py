"""Connector to the public postal service (bưu chính công ích): shipments ordered for results returned
by post and cancelled on withdrawal, tracking polled from the service's cursor feed, and a simulator."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
import threading
from typing import Any

from gateway.kit import Config, ConfigError, ConnectorSpec, DestinationPolicy

DEFAULTS = Path(__file__).with_name("defaults.toml")


def _create(policy: DestinationPolicy, config: Config) -> Any:
    from connectors.postal.connector import create

    return create(policy, config)


def _originate_of(services: Any) -> Callable[[bytes, str], Any]:
    """The intake's ``originate`` from the gateway's services (an object or a mapping)."""
    for holder in (services, getattr(services, "intake", None)):
        found = holder.get("originate") if isinstance(holder, dict) else getattr(holder, "originate", None)
        if callable(found):
            return found  # type: ignore[no-any-return]  # callable: the intake's originate
    raise ConfigError("postal: the worker gives no originate() to the tracking poller "
                      "/ không có originate() để đưa trạng thái vận đơn vào cổng")


def _tasks(config: Config, services: Any) -> Sequence[Callable[[threading.Event], None]]:
    from connectors.postal.client import PostalClient
    from connectors.postal.ledger import PostalLedger
    from connectors.postal.settings import PostalSettings
    from connectors.postal.tracking import TrackingPoller
    from gateway.kit import store_url

    settings = PostalSettings.from_config(config)
    destination = config.section("destinations").get("postal", {})
    if str(destination.get("connector", "")).startswith("connectors.postal") and destination.get("url"):
        settings = replace(settings, url=str(destination["url"]))  # one address for ordering and tracking
    poller = TrackingPoller(settings, PostalClient(settings), PostalLedger(store_url(config)), _originate_of(services))

    def run(stop: threading.Event) -> None:
        try:
            poller.run(stop)
        finally:
            poller.client.close()
            poller.ledger.close()

    return [run]


def _cli() -> Any:
    from connectors.postal.cli import app

    return app()


CONNECTOR = ConnectorSpec(name="postal", packet_types=frozenset({"HoSo", "TienDoXuLy", "VanDonBuuChinh"}),
                          create=_create, cli=_cli, defaults=DEFAULTS, tasks=_tasks)
