"""Connector to the public postal service (bưu chính công ích): shipments ordered for results returned
by post and cancelled on withdrawal, tracking polled from the service's cursor feed, and a simulator."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
import logging
import threading
from typing import Any

from gateway.kit import Config, ConfigError, ConnectorSpec, DestinationPolicy

DEFAULTS = Path(__file__).with_name("defaults.toml")
log = logging.getLogger(__name__)


def _create(policy: DestinationPolicy, config: Config) -> Any:
    from connectors.postal.connector import create

    return create(policy, config)


def _originate_of(services: Any) -> Callable[[bytes, str], Any]:
    """The intake's ``originate`` (``PacketIntake.originate``) from the services the worker gives its tasks."""
    found = getattr(services, "originate", None)
    if not callable(found):
        from connectors.postal.messages import slash
        raise ConfigError(slash("postal.no_originate"))
    return found  # type: ignore[no-any-return]  # callable: the intake's originate


def _tasks(config: Config, services: Any) -> Sequence[Callable[[threading.Event], None]]:
    """The tracking poller, in the worker process: it reads the service's feed and originates each change."""
    from connectors.postal.client import PostalClient
    from connectors.postal.ledger import PostalLedger
    from connectors.postal.settings import PostalSettings
    from connectors.postal.tracking import TrackingPoller
    from gateway.kit import store_url

    settings = PostalSettings.from_config(config)
    destination = config.section("destinations").get("postal", {})
    if destination.get("url"):
        settings = replace(settings, url=str(destination["url"]))  # one address for ordering and tracking
    if not settings.url:  # no postal service configured: nothing to poll
        from connectors.postal.messages import slash
        log.info("%s", slash("postal.not_polled"))
        return []
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
