"""The connector registry: the ``[connectors]`` table of the configuration names each connector's package
(``national_portal = "connectors.national_portal"``), which exports ``CONNECTOR``, a ``ConnectorSpec``.

This module is the only place the gateway reaches a connector, by name through ``importlib``: the
configuration merges their defaults fragments, the API installs their routes, the CLI adds their
sub-apps, the worker starts their tasks and delivery builds their destination connectors.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
import importlib
import logging
from pathlib import Path
import threading
import tomllib
from typing import TYPE_CHECKING, Any

from gateway.config import Config, ConfigError
from gateway.kit.spec import ConnectorSpec

if TYPE_CHECKING:
    from fastapi import FastAPI
    import typer

    from gateway.deliver.connector import Connector
    from gateway.deliver.policy import DestinationPolicy

log = logging.getLogger(__name__)

# How a destination names a connector that is not in the registry: the generic one, or "package.module:factory".
GENERIC = "http"


def declared(raw: dict[str, Any]) -> dict[str, str]:
    """The ``[connectors]`` table: name → package, checked for shape."""
    table = raw.get("connectors", {})
    if not isinstance(table, dict) or not all(isinstance(v, str) and v for v in table.values()):
        raise ConfigError('connectors: each entry must name a package, e.g. national_portal = "connectors.national_portal"')
    return {str(name): str(package) for name, package in table.items()}


@cache
def _load(name: str, package: str) -> ConnectorSpec:
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ConfigError(f"connectors.{name}: cannot import {package}: {exc}") from None
    spec = getattr(module, "CONNECTOR", None)
    if not isinstance(spec, ConnectorSpec):
        raise ConfigError(f"connectors.{name}: {package} exports no CONNECTOR = ConnectorSpec(...)")
    if spec.name != name:
        raise ConfigError(f"connectors.{name}: {package} declares itself as {spec.name!r}")
    return spec


def specs_of(raw: dict[str, Any]) -> dict[str, ConnectorSpec]:
    return {name: _load(name, package) for name, package in declared(raw).items()}


def specs(config: Config) -> dict[str, ConnectorSpec]:
    """Every registered connector, by name, in the table's order."""
    return specs_of(config.raw)


def fragments(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The defaults fragments of the connectors ``raw`` declares (``Config.load`` merges them under the
    deployment's file)."""
    found: list[dict[str, Any]] = []
    for name, spec in specs_of(raw).items():
        if spec.defaults is None:
            continue
        try:
            found.append(tomllib.loads(Path(spec.defaults).read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"connectors.{name}: cannot read its defaults {spec.defaults}: {exc}") from None
    return found


# --- delivery ------------------------------------------------------------------------------------------------

def create_connector(policy: "DestinationPolicy", config: Config) -> "Connector":
    """The registered connector a destination names (``connector = "national_portal"``)."""
    spec = specs(config).get(policy.connector)
    if spec is None or spec.create is None:
        raise ConfigError(f"destinations.{policy.name}.connector: no registered connector {policy.connector!r} "
                          "delivers (see [connectors])")
    return spec.create(policy, config)


def is_registered(config: Config, connector: str) -> bool:
    return connector != GENERIC and ":" not in connector and connector in specs(config)


def check_routes(config: Config) -> None:
    """A route rule sending a destination a packet type its connector does not carry is a configuration
    error at start-up, naming the rule and the type."""
    from gateway.deliver.policy import load_policies
    from gateway.route.rules import Router

    carried = {name: spec.packet_types for name, spec in specs(config).items()}
    destinations = {name: policy.connector for name, policy in load_policies(config).items()}
    for index, rule in enumerate(Router.from_config(config).rules):
        for destination in rule.to:
            connector = destinations.get(destination, GENERIC)
            if connector not in carried:
                continue  # the generic connector and "module:factory" ones carry whatever they are sent
            allowed = carried[connector]
            sent = sorted(rule.types) if rule.types is not None else None
            if sent is None:
                raise ConfigError(f"routes.rules[{index}] ({rule.name}): sends every packet type to {destination}, "
                                  f"whose connector {connector} carries only {sorted(allowed)}")
            for packet_type in sent:
                if packet_type not in allowed:
                    raise ConfigError(f"routes.rules[{index}] ({rule.name}): {destination} ({connector}) does not "
                                      f"carry {packet_type}; it carries {sorted(allowed)}")


# --- the API, the CLI, the worker ----------------------------------------------------------------------------

def install_routes(app: "FastAPI", config: Config, services: Any) -> None:
    """Each connector's inbound endpoints; ``services`` is what the gateway offers them (the intake)."""
    for spec in specs(config).values():
        if spec.routes is not None:
            spec.routes(app, config, services)


def cli_name(spec: ConnectorSpec) -> str:
    return spec.cli_name or spec.name


def add_cli(app: "typer.Typer", config: Config) -> None:
    """Each connector's sub-commands, as ``gateway <cli_name> …``."""
    for spec in specs(config).values():
        if spec.cli is not None:
            app.add_typer(spec.cli(), name=cli_name(spec))


@dataclass
class Tasks:
    """Connectors' background loops, each on a thread of its own until ``stop``."""

    event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def stop(self, timeout: float = 10.0) -> None:
        self.event.set()
        for thread in self.threads:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("connector task %s did not stop within %.0f s", thread.name, timeout)


def start_tasks(config: Config, services: Any, only: Iterable[str] | None = None) -> Tasks:
    """Each connector's loops on threads; ``services`` is the process's ``PacketIntake`` (``originate``,
    ``store``): what a task reads from its peer becomes packets through the real intake."""
    tasks = Tasks()
    wanted = set(only) if only is not None else None
    for name, spec in specs(config).items():
        if spec.tasks is None or (wanted is not None and name not in wanted):
            continue
        for index, loop in enumerate(spec.tasks(config, services)):
            thread = threading.Thread(target=_guarded(name, loop, tasks.event), name=f"{name}-task-{index}",
                                      daemon=True)
            thread.start()
            tasks.threads.append(thread)
    return tasks


def _guarded(name: str, loop: Callable[[threading.Event], None], stop: threading.Event) -> Callable[[], None]:
    def run() -> None:
        try:
            loop(stop)
        except Exception:  # a connector's bug stops its own task, never the worker
            log.exception("connector %s: a background task failed", name)
    return run
