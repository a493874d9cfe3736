"""``gateway portal …``: the national portal connector for operators — check a mapping table,
look a dossier or a procedure up on the portal (personal data masked), classic accounts' passwords.
The gateway adds this sub-app through the registry (``CONNECTOR.cli``)."""

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel
from rich.console import Console
import typer

from connectors.national_portal import mapping
from connectors.national_portal.answers import Answer
from connectors.national_portal.client import ClassicClient
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from connectors.national_portal.classic.settings import InboundSettings
from gateway.kit import Config, ConfigError, HoSo, ThuTucHanhChinh, field_map, line, mask, open_store
from gateway.kit.inbound import is_legacy

portal = typer.Typer(no_args_is_help=True, help=line("national_portal.cli.help"))

ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML file overriding the embedded defaults.",
                                                   exists=True, dir_okay=False)]
StoreOption = Annotated[str | None, typer.Option("--store", help="Store URL (default: [store].url of the configuration).")]


def load_config(path: Path | None) -> Config:
    try:
        return Config.load(path)
    except ConfigError as exc:
        typer.echo(line("cli.configuration", error=exc), err=True)
        raise typer.Exit(2) from None


@portal.command("check-mapping")
def check_mapping(file: Annotated[Path, typer.Argument(help="Mapping table (TOML).", exists=True, dir_okay=False)]
                  ) -> None:
    """Check a status-mapping table (local status/sub-status → national 1–10, local → national MaTTHC).
    Exit 0 usable (warnings allowed), 1 errors."""
    console = Console(soft_wrap=True, highlight=False)
    try:
        raw = mapping.read(file)
    except mapping.MappingError as exc:
        console.print(f"[red]✗[/] {exc}", markup=True)
        raise typer.Exit(1) from None
    problems = mapping.check(raw)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        label = f"[red]{line('national_portal.cli.error')}[/]" if problem.severity == "error" \
            else f"[yellow]{line('national_portal.cli.warning')}[/]"
        console.print(f"{label} [bold]{problem.where}[/]")
        console.print(f"    {problem.message_vi}", markup=False)
        console.print(f"    {problem.message_en}", style="dim", markup=False)
    rows, procedures = len(raw.get("status", []) or []), len(raw.get("procedures", {}) or {})
    if errors:
        console.print(f"[red]✗[/] {file}: {len(errors)} {line('national_portal.cli.errors')}")
        raise typer.Exit(1)
    console.print(f"[green]✓[/] {file}: {line('national_portal.cli.usable', rows=rows, procedures=procedures)}")


def masked(value: Any, record: type[BaseModel] | None) -> Any:
    """A portal answer with personal values masked; fields the model does not know are masked too."""
    if isinstance(value, list):
        return [masked(item, record) for item in value]
    if not isinstance(value, dict):
        return value
    specs = field_map(record) if record is not None else {}
    shown: dict[str, Any] = {}
    for name, item in value.items():
        spec = specs.get(name)
        if spec is not None and spec.record is not None:
            shown[name] = masked(item, spec.record)
        elif spec is None or spec.is_pii:
            shown[name] = masked(item, None) if isinstance(item, (dict, list)) else mask(item)
        else:
            shown[name] = item
    return shown


def _look_up(config: Path | None, call: str, code: str) -> Answer:
    settings = PortalSettings.from_config(load_config(config))
    if not settings.adapter_url:
        typer.echo(line("cli.configuration", error=line("national_portal.no_adapter_url")), err=True)
        raise typer.Exit(2)
    client = ClassicClient(settings, Transformer(mapping.load(settings.mapping_file), settings.field_limits))
    try:
        return client.find_dossier(code) if call == "TraCuuHoSo" else client.get_procedure(code)
    finally:
        client.close()


def _print_result(answer: Answer, record: type[BaseModel] | None, not_found: str) -> None:
    if not answer.ok:
        typer.echo(f"{line('national_portal.cli.no_answer')} ({answer.peer_status}): {answer.message}", err=True)
        raise typer.Exit(2)
    if not answer.result:
        typer.echo(line(not_found), err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(masked(answer.result, record), ensure_ascii=False, indent=2))


@portal.command("lookup")
def lookup(code: Annotated[str, typer.Argument(help="MaHoSo")], config: ConfigOption = None) -> None:
    """Look a dossier up on the portal (TraCuuHoSo), personal data masked. Exit 0 found, 1 not found, 2 no answer."""
    _print_result(_look_up(config, "TraCuuHoSo", code), HoSo, "national_portal.cli.no_dossier")


@portal.command("procedure")
def procedure(code: Annotated[str, typer.Argument(help="MaTTHC")], config: ConfigOption = None) -> None:
    """Fetch a procedure from the portal's catalogue (LayThuTuc). Exit 0 found, 1 not found, 2 no answer."""
    _print_result(_look_up(config, "LayThuTuc", code), ThuTucHanhChinh, "national_portal.cli.no_procedure")


@portal.command("accounts")
def accounts(config: ConfigOption = None, store: StoreOption = None) -> None:
    """Tài khoản cổ điển và mật khẩu / classic accounts: salted hash or legacy SHA-256, and how to migrate.

    For an account still configured with password_sha256 whose password was re-hashed at a good login,
    prints the password_hash line to put in the configuration in its place."""
    cfg = load_config(config)
    try:
        configured = InboundSettings.from_config(cfg).clients
    except ConfigError as exc:
        typer.echo(line("cli.configuration", error=exc), err=True)
        raise typer.Exit(2) from None
    opened = open_store(store or str(cfg.section("store").get("url", "sqlite:///gateway.db")))
    try:
        for account in configured:
            if not is_legacy(account.credential):
                typer.echo(f"{account.username}: password_hash (scrypt) — {line('national_portal.cli.done')}")
                continue
            kept = opened.classic_password(account.username)
            if kept is None:
                typer.echo(f"{account.username}: password_sha256 ({line('national_portal.cli.legacy')}) — "
                           f"{line('national_portal.cli.no_login_yet')}")
                continue
            typer.echo(f"{account.username}: password_sha256 ({line('national_portal.cli.legacy')}) — "
                       f"{line('national_portal.cli.replace_with')}\n"
                       f'  password_hash = "{kept}"')
    finally:
        opened.close()
