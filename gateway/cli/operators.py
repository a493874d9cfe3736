"""``gateway operators add|list`` (console accounts) and ``gateway report monthly`` (the regulations' counts)."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
import getpass
import json
import secrets
from typing import Annotated

import typer

from gateway.cli import app
from gateway.cli.validate import ConfigOption, load_config
from gateway.cli.common import StoreOption, open_configured_store
from gateway.console.accounts import ALL_AGENCIES, ROLES, AccountError, Accounts, Operator
from gateway.console.catalogue import text
from gateway.messages import line
from gateway.console.data import monthly, quality, sender_agencies
from gateway.console.web import quality_rules
from gateway.deliver.windows import LOCAL

operators_app = typer.Typer(no_args_is_help=True, help=line("help.operators"))
report_app = typer.Typer(no_args_is_help=True, help=line("help.report"))
app.add_typer(operators_app, name="operators")
app.add_typer(report_app, name="report")


def _both(key: str, **values: object) -> str:
    return f"{text(key, 'vi', **values)} / {text(key, 'en', **values)}"


@operators_app.command("add")
def operators_add(username: str,
                  role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "viewer",
                  agency: Annotated[list[str] | None, typer.Option(
                      "--agency", help=f"Agency code (NoiGui) it may see; repeatable; '{ALL_AGENCIES}' for all.")] = None,
                  generate: Annotated[bool, typer.Option(
                      "--generate/--prompt", help="Generate a one-time password and print it (default), or ask.")] = True,
                  config: ConfigOption = None, store: StoreOption = None) -> None:
    """Tạo tài khoản (đổi mật khẩu ở lần đăng nhập đầu) / add an account (password changed at first login)."""
    password = secrets.token_urlsafe(12) if generate else getpass.getpass(line("cli.password_prompt"))
    opened = open_configured_store(load_config(config), store)
    try:
        Accounts(opened.engine).add(username, password, role, agency or [], must_change=True)  # type: ignore[attr-defined]  # the SQL stores have an engine; the Store protocol does not name it
        opened.audit(f"cli:{getpass.getuser()}", "operator.add", username, {"role": role, "agencies": agency})
    except AccountError as exc:
        typer.echo(_both(exc.key), err=True)
        raise typer.Exit(2) from None
    finally:
        opened.close()
    typer.echo(line("cli.operator_created", username=username, role=role, agencies=", ".join(agency or [])))
    if generate:
        typer.echo(line("cli.one_time_password", password=password))


@operators_app.command("list")
def operators_list(config: ConfigOption = None, store: StoreOption = None) -> None:
    """Liệt kê tài khoản / list accounts."""
    opened = open_configured_store(load_config(config), store)
    try:
        for o in Accounts(opened.engine).list():  # type: ignore[attr-defined]  # the SQL stores have an engine; the Store protocol does not name it
            typer.echo(f"{o.username}\t{o.role}\t{','.join(o.agencies)}" + ("\t(must change password)" if o.must_change else ""))
    finally:
        opened.close()


def _month(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m").replace(tzinfo=LOCAL)
    except ValueError:
        typer.echo(line("cli.invalid_month", value=value), err=True)
        raise typer.Exit(2) from None


@report_app.command("monthly")
def report_monthly(start: Annotated[str, typer.Option("--from", help="First month, YYYY-MM (local time).")],
                   end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (default: --from).")] = None,
                   as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
                   config: ConfigOption = None, store: StoreOption = None) -> None:
    """Số liệu tháng theo cơ quan / monthly counts per agency: received, valid, refused, delivered, delivered late."""
    cfg = load_config(config)
    since, last = _month(start), _month(end or start)
    until = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    late = timedelta(minutes=int(cfg.section("console").get("late_after_minutes", 60)))
    opened = open_configured_store(cfg, store)
    try:
        everyone = Operator("cli", "admin", (ALL_AGENCIES,), False)
        rows = monthly(opened.engine, everyone, since=since, until=until, late_after=late,  # type: ignore[attr-defined]  # the SQL stores have an engine; the Store protocol does not name it
                       senders=sender_agencies(cfg, opened.engine))  # type: ignore[attr-defined]  # likewise
        sync = quality(opened.engine, everyone, since=since, until=until, now=datetime.now(UTC),  # type: ignore[attr-defined]  # the SQL stores have an engine and keys
                       keys=opened.keys, **quality_rules(cfg))  # type: ignore[attr-defined]  # the SQL stores have keys
    finally:
        opened.close()
    if as_json:
        typer.echo(json.dumps({"from": start, "to": end or start, "late_after_minutes": int(late.total_seconds() // 60),
                               "rows": [asdict(r) for r in rows],
                               "quality": asdict(sync) | {"on_time_share": sync.on_time_share}},
                              ensure_ascii=False, indent=2))
        return
    typer.echo("\t".join(_both(k) for k in ("col.agency", "reports.month", "reports.received", "reports.valid",
                                             "reports.refused", "reports.delivered", "reports.late")))
    for r in rows:
        typer.echo(f"{r.agency}\t{r.month}\t{r.received}\t{r.valid}\t{r.refused}\t{r.delivered}\t{r.delivered_late}")
    share = "—" if sync.on_time_share is None else f"{100 * sync.on_time_share:.1f} %"
    typer.echo(f"{_both('quality.on_time')}: {share} ({sync.on_time}/{sync.finished}); "
               f"{_both('quality.backwards')}: {len(sync.backwards)}; {_both('quality.stale', days=cfg.section('console').get('stale_days', 7))}: {len(sync.stale)}")
