"""Delivery processes.

``gateway worker [--processes N]`` deliver (N processes, ~one per CPU; more on other machines with PostgreSQL)
"""

import logging
import signal
import threading
from typing import Annotated

import typer

from gateway.cli import app
from gateway.observe.logs import setup as setup_logging
from gateway.cli.common import StoreOption, destination_policies, fail, open_configured_store
from gateway.cli.supervise import supervise
from gateway.cli.validate import ConfigOption, load_config
from gateway.config import Config, ConfigError
from gateway import registry
from gateway.deliver.connector import Connector
from gateway.deliver.engine import Engine, check_worker_name, make_connector, worker_prefix
from gateway.deliver.policy import DestinationPolicy
from gateway.messages import line
from gateway.pii import mask_logs
from gateway.receive.intake import PacketIntake
from gateway.store import Store

log = logging.getLogger(__name__)


def _connectors(config: Config, policies: dict[str, DestinationPolicy], only: list[str] | None) -> dict[str, Connector]:
    """Each destination's connector. One that cannot be built (no url, say) is left out with its reason logged
    — its jobs wait in the store until it is configured — unless it was asked for by name."""
    built: dict[str, Connector] = {}
    for name, policy in list(policies.items()):
        try:
            built[name] = make_connector(policy, config)
        except ConfigError as exc:
            if only:
                raise fail(line("cli.configuration", error=exc)) from None
            log.error("%s", line("log.destination_not_delivered", name=name, error=exc))
            del policies[name]
    return built


def start_engine(config: Config, store: Store, only: list[str] | None = None, worker: str | None = None) -> Engine:
    delivery = config.section("delivery")
    policies = destination_policies(config, only)
    return Engine(store, policies, worker=worker, connectors=_connectors(config, policies, only),
                  poll_seconds=float(delivery.get("poll_seconds", 0.5)),
                  hold_check_seconds=float(delivery.get("hold_check_seconds", 0.25)),
                  # the loaded configuration, --config overlay included, not a fresh Config.load()
                  connector_factory=lambda policy: make_connector(policy, config)).start()


def _on_signals() -> threading.Event:
    """Set on SIGTERM or SIGINT: a clean stop releases what was claimed and not sent."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


DestinationOption = Annotated[list[str] | None, typer.Option("--destination", "-d",
                                                             help="Only these destinations (repeatable).")]


@app.command()
def worker(config: ConfigOption = None, store: StoreOption = None, destination: DestinationOption = None,
           name: Annotated[str | None, typer.Option(help="Worker name in leases (default host:pid:random).")] = None,
           processes: Annotated[int, typer.Option(min=1, help="Worker processes to run and restart if one dies "
                                                              "(about one per CPU).")] = 1,
           ) -> None:
    """Deliver accepted packets until SIGTERM / chuyển tiếp gói tin đã nhận cho đến khi có SIGTERM."""
    setup_logging()  # text, or JSON lines with GATEWAY_LOG_FORMAT=json
    mask_logs()
    if name is not None:
        try:
            check_worker_name(name)
        except ValueError as exc:
            raise fail(f"--name: {exc}") from None
    cfg = load_config(config)
    stop = _on_signals()  # before the engine starts, so a SIGTERM at any moment stops it cleanly
    if processes > 1:
        if name:
            raise fail(line("cli.name_with_processes"))
        arguments = [*(["--config", str(config.resolve())] if config else []), *(["--store", store] if store else []),
                     *[option for d in destination or [] for option in ("--destination", d)]]
        supervisor_store = open_configured_store(cfg, store)
        try:
            supervise(arguments, processes, stop, lambda pid: supervisor_store.release_abandoned(worker_prefix(pid)))
        finally:
            supervisor_store.close()
        return
    opened = open_configured_store(cfg, store)
    engine = start_engine(cfg, opened, destination, name)
    # Connectors' background loops (peer feeds) turn what they read into packets through the real intake
    # (``services.originate``, ``services.store``): validated, routed, stored in order like a received packet.
    intake = PacketIntake(cfg, store=opened)
    tasks = registry.start_tasks(cfg, intake)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        tasks.stop()
        engine.stop()
        intake.close()  # its audit rows and commits first; it closes the store it was given
