"""What the operators' commands share: the store option, failing with a message, local times, the destinations."""

from datetime import datetime
from typing import Annotated

from rich.console import Console
import typer

from gateway.config import Config, ConfigError
from gateway.deliver.policy import DestinationPolicy, load_policies
from gateway.deliver.windows import LOCAL
from gateway.messages import line
from gateway.store import Store, open_store

StoreOption = Annotated[str | None, typer.Option("--store", help="Store URL (default: [store].url of the configuration).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
console = Console(soft_wrap=True, highlight=False)


def fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


def store_url(config: Config, url: str | None) -> str:
    return url or str(config.section("store").get("url", "sqlite:///gateway.db"))


def open_configured_store(config: Config, url: str | None) -> Store:
    return open_store(store_url(config, url))


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def destination_policies(config: Config, only: list[str] | None) -> dict[str, DestinationPolicy]:
    try:
        policies = load_policies(config)
    except ConfigError as exc:
        raise fail(line("cli.configuration", error=exc)) from None
    if only:
        if unknown := set(only) - set(policies):
            raise fail(line("cli.no_destination", names=", ".join(sorted(unknown))))
        policies = {name: policies[name] for name in only}
    return policies
