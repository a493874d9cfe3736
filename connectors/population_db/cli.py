"""``gateway population-db …``: the look-up report per account and month, and a direct check of the
database with the configured credentials (nothing of the citizen printed unmasked)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from connectors.population_db.report import OUTCOMES, all_entries, count
from gateway.kit import Config, open_store


def app() -> typer.Typer:
    commands = typer.Typer(no_args_is_help=True, help="CSDL quốc gia về dân cư — population database.")

    @commands.callback()
    def main() -> None:
        """CSDL quốc gia về dân cư — population database."""

    ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="The gateway's TOML file.")]

    @commands.command("report")
    def report(config: ConfigOption = None, month: Annotated[str | None, typer.Option(
                   help="Only this month (yyyy-MM).")] = None,
               as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Số lượt tra cứu theo tài khoản và tháng — look-ups per account and month, from the audit."""
        loaded = Config.load(config)
        store = open_store(str(loaded.section("store").get("url", "sqlite:///gateway.db")))
        try:
            rows = [r for r in count(all_entries(store), loaded.zone) if month is None or r.month == month]
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
            return
        header = ["tài khoản / account", "tháng / month", "thao tác / operation", "tổng / total", *OUTCOMES]
        typer.echo("\t".join(header))
        for row in rows:
            values = row.to_dict()
            typer.echo("\t".join(str(values[k]) for k in ("account", "month", "operation", "total", *OUTCOMES)))
        if not rows:
            typer.echo("(chưa có lượt tra cứu nào — no look-ups yet)")

    return commands
