"""Connector to the National Population Database (CSDLQG về dân cư): the project's WSDL, a zeep client through
the gateway's HTTP client, the mediated look-up API for sector systems, and a SOAP simulator."""

from pathlib import Path
from typing import Any

from gateway.kit import Config, ConnectorSpec


def _routes(app: Any, config: Config, services: Any) -> None:
    from connectors.population_db.inbound import install

    if config.section("population_db").get("enabled", False):
        install(app, config, services)


def _cli() -> Any:
    from connectors.population_db.cli import app

    return app()


CONNECTOR = ConnectorSpec(name="population_db", routes=_routes, cli=_cli, cli_name="population-db",
                          defaults=Path(__file__).with_name("defaults.toml"))
