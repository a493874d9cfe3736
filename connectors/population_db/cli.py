"""``gateway population-db …``: the look-up report per account and month, and a direct check of the
database with the configured credentials (nothing of the citizen printed unmasked)."""

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from connectors.population_db.approvals import decide, store_decision
from connectors.population_db.report import OUTCOMES, all_entries, count
from connectors.population_db import messages  # noqa: F401 - joins the connector's sentences
from gateway.kit import Config, line, open_store, text


def app() -> typer.Typer:
    commands = typer.Typer(no_args_is_help=True, help=" — ".join(text("population_db.cli.help")) + ".")

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
        header = [line(f"population_db.cli.{k}") for k in ("account", "month", "operation", "total")] + list(OUTCOMES)
        typer.echo("\t".join(header))
        for row in rows:
            values = row.to_dict()
            typer.echo("\t".join(str(values[k]) for k in ("account", "month", "operation", "total", *OUTCOMES)))
        if not rows:
            typer.echo(" — ".join(text("population_db.cli.no_lookups")))

    Actor = Annotated[str | None, typer.Option(help="Who decides (default: the login name; kept in the audit).")]
    Name = Annotated[str, typer.Argument(help="The client's name (configured, or added with gateway clients add).")]

    def _decide(name: str, config: Path | None, actor: str | None, allow: bool) -> None:
        loaded = Config.load(config)
        store = open_store(str(loaded.section("store").get("url", "sqlite:///gateway.db")))
        try:
            known = name in loaded.section("clients") or name in {row.name for row in store.api_clients()}
            if not known:  # an approval for nobody would wait for whoever is later given that name
                typer.echo(line("population_db.cli.no_client", name=name), err=True)
                raise typer.Exit(2)
            decide(store, name, allow, actor or getpass.getuser())
        finally:
            store.close()

    @commands.command("allow-lookups")
    def allow_lookups(name: Name, config: ConfigOption = None, actor: Actor = None) -> None:
        """Phê duyệt tra cứu dân cư cho hệ thống / approve a client for citizen look-ups (audited)."""
        _decide(name, config, actor, True)
        typer.echo(f"{line('population_db.cli.allowed')}: {name}")

    @commands.command("revoke-lookups")
    def revoke_lookups(name: Name, config: ConfigOption = None, actor: Actor = None) -> None:
        """Thu hồi quyền tra cứu dân cư / withdraw a client's look-up approval (audited; overrides the file)."""
        _decide(name, config, actor, False)
        typer.echo(f"{line('population_db.cli.revoked')}: {name}")

    @commands.command("approvals")
    def approvals(config: ConfigOption = None,
                  as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Hệ thống nào được tra cứu / which clients may look citizens up, and where that is decided."""
        loaded = Config.load(config)
        store = open_store(str(loaded.section("store").get("url", "sqlite:///gateway.db")))
        try:
            names = sorted(set(loaded.section("clients")) | {row.name for row in store.api_clients()})
            rows = []
            for name in names:
                decision = store_decision(store, name)
                entry = loaded.section("clients").get(name)
                configured = isinstance(entry, dict) and entry.get("citizen_lookups") is True
                rows.append({"name": name, "approved": configured if decision is None else decision,
                             "decided_in": "config" if decision is None else "store"})
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows:
            state = line("population_db.cli.approved" if row["approved"] else "population_db.cli.denied")
            typer.echo(f"{row['name']:24} {state:26} ({row['decided_in']})")

    return commands
