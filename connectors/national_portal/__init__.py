"""Connector to the national public-service portal (Cổng DVC quốc gia): classic adapter protocol,
the newer token protocol behind the same interface, the classic inbound endpoint (one-stop systems
that speak the portal's protocol call the gateway instead), ``gateway portal …`` commands, its
defaults (``defaults.toml``) and a faithful simulator for tests and demos (``simulator/``).

Registered as ``national_portal`` in the configuration's ``[connectors]`` table; the gateway reaches
it only through ``CONNECTOR``. Its modules are imported when a part is used, so that loading the
configuration stays light."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.kit import Config, ConnectorSpec
import connectors.national_portal.messages  # noqa: F401 - joins the connector's sentences before any part speaks

if TYPE_CHECKING:
    from fastapi import FastAPI
    import typer

    from connectors.national_portal.connector import NationalPortalConnector
    from gateway.kit import DestinationPolicy


def _create(policy: "DestinationPolicy", config: Config) -> "NationalPortalConnector":
    from connectors.national_portal.connector import create

    return create(policy, config)


def _routes(app: "FastAPI", config: Config, services: Any) -> None:
    from connectors.national_portal.classic import install

    install(app, config, services)


def _cli() -> "typer.Typer":
    from connectors.national_portal.cli import portal

    return portal


# DongBoHoSoMC, CapNhatTienDoHoSoMC: the portal has no per-item service for other packet types that we know of.
CARRIES = frozenset({"HoSo", "TienDoXuLy"})

CONNECTOR = ConnectorSpec(
    name="national_portal",
    packet_types=CARRIES,
    create=_create,
    routes=_routes,
    cli=_cli,
    cli_name="portal",
    defaults=Path(__file__).with_name("defaults.toml"),
)
