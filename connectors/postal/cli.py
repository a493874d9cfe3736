"""``gateway postal …``: the postal connector for operators — its configuration checked, the shipments
it ordered and where the tracking feed's cursor stands."""

from pathlib import Path
from typing import Annotated

import typer

from connectors.postal.ledger import PostalLedger
from connectors.postal.settings import PostalSettings
from gateway.kit import Config, ConfigError, store_url

ConfigOption = Annotated[Path | None, typer.Option("--config", help="the deployment's TOML file")]


def _config(path: Path | None) -> Config:
    try:
        return Config.load(path)
    except ConfigError as exc:
        typer.echo(f"cấu hình không dùng được / unusable configuration: {exc}", err=True)
        raise typer.Exit(2) from None


def app() -> typer.Typer:
    commands = typer.Typer(no_args_is_help=True, help="Bưu chính công ích / public postal service.")

    @commands.command("check")
    def check(config: ConfigOption = None) -> None:
        """Reads [postal]: the senders configured per agency and the status mapping."""
        try:
            settings = PostalSettings.from_config(_config(config))
        except ConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(f"địa chỉ / url: {settings.url}  khách hàng / customer: {settings.customer_code}  "
                   f"access_token: {'có / set' if settings.access_token else 'CHƯA / not set'}")
        typer.echo(f"người gửi / senders: {', '.join(sorted(settings.senders)) or 'không có / none'}")
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
            typer.echo(f"con trỏ / cursor ({settings.tracking.feed}): {ledger.cursor(settings.tracking.feed) or '-'}")
        finally:
            ledger.close()

    return commands
