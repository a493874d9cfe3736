"""How a connector declares itself to the gateway (the registry's entries)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path
import threading
from typing import TYPE_CHECKING, Any

from gateway.config import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI
    import typer

    from gateway.config import Config
    from gateway.deliver.connector import Connector
    from gateway.deliver.policy import DestinationPolicy


@dataclass(frozen=True)
class ConnectorSpec:
    """One peer's connector, as ``connectors/<peer>/__init__.py`` exports it (``CONNECTOR``).

    ``name`` is its key in the registry (``[connectors]``) and the name of its configuration section;
    ``packet_types`` the LoaiGoiTin it carries as a destination (a route sending it another type is a
    configuration error at start-up); ``create`` builds its destination connector from a destination's
    policy; ``routes`` adds its inbound endpoints (callbacks, look-ups) to the API, given the gateway's
    services; ``cli`` its ``gateway <name> …`` sub-commands; ``defaults`` its fragment of the
    embedded defaults (TOML, merged under the deployment's file); ``tasks`` the background loops it
    runs in the worker process (e.g. polling a peer's feed), each called with the configuration and the
    gateway's services and returning callables run on threads of their own until the event is set;
    ``cli_name`` the sub-command's name when it is not ``name`` (``gateway portal …``)."""

    name: str
    packet_types: frozenset[str] = frozenset()
    create: "Callable[[DestinationPolicy, Config], Connector] | None" = None
    routes: "Callable[[FastAPI, Config, Any], None] | None" = None
    cli: "Callable[[], typer.Typer] | None" = None
    defaults: Path | None = None
    tasks: "Callable[[Config, Any], Sequence[Callable[[threading.Event], None]]] | None" = None
    cli_name: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def secret(section: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    """A credential named by ``<key>_env`` in a configuration section, read from the environment:
    secrets never sit in a configuration file."""
    name = str(section.get(f"{key}_env", ""))
    value = os.environ.get(name, "") if name else ""
    if required and not value:
        raise ConfigError(f"{where}.{key}_env: environment variable {name or '(unset)'} is empty")
    return value
