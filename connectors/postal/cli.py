"""``gateway postal …``: the postal connector for operators — its configuration checked, the shipments
it ordered and where the tracking feed's cursor stands."""

from pathlib import Path
from typing import Annotated

import typer

from connectors.postal.ledger import PostalLedger
from connectors.postal.messages import each, slash
from connectors.postal.settings import PostalSettings
from gateway.kit import Config, ConfigError, store_url

ConfigOption = Annotated[Path | None, typer.Option("--config", help="the deployment's TOML file")]


def _config(path: Path | None) -> Config:
    try:
        return Config.load(path)
    except ConfigError as exc:
        typer.echo(slash("postal.cli.configuration", error=exc), err=True)
        raise typer.Exit(2) from None


def app() -> typer.Typer:
    commands = typer.Typer(no_args_is_help=True, help=slash("postal.cli.help"))

    @commands.command("check")
    def check(config: ConfigOption = None) -> None:
        """Reads [postal]: the senders configured per agency and the status mapping."""
        try:
            settings = PostalSettings.from_config(_config(config))
        except ConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        token = "postal.set" if settings.access_token else "postal.not_set"
        oauth = settings.oauth.token_url if settings.oauth.enabled else "-"
        typer.echo(each("postal.cli.where", url=settings.url, customer=settings.customer_code, token=(token,),
                        oauth=oauth))
        typer.echo(each("postal.cli.senders", names=", ".join(sorted(settings.senders)) or ("postal.none",)))
        for code, mapping in sorted(settings.statuses.items(), key=lambda kv: kv[0].zfill(4)):
            flags = " → 10" if mapping.delivered else ""
            typer.echo(f"  {code:>4} → {mapping.code}{flags}  {mapping.name}")

    @commands.command("status")
    def status(config: ConfigOption = None) -> None:
        """Shipments by state and the tracking cursor, from the store."""
        loaded = _config(config)
        settings = PostalSettings.from_config(loaded)
        ledger = PostalLedger(store_url(loaded))
        try:
            for state in ("ordered", "delivered", "returned", "cancelled"):
                typer.echo(f"{state:>10}: {ledger.count(state)}")
            typer.echo(slash("postal.cli.cursor", feed=settings.tracking.feed,
                             cursor=ledger.cursor(settings.tracking.feed) or "-"))
        finally:
            ledger.close()

    return commands
