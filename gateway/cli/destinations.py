"""``gateway destinations status|pause|resume``."""

from datetime import UTC, datetime
import getpass
import json
from typing import Annotated, Any

from rich.table import Table
import typer

from gateway.cli import app
from gateway.cli.common import AsJson, StoreOption, console, destination_policies, local_time, open_configured_store
from gateway.cli.validate import ConfigOption, load_config
from gateway.deliver.overrides import effective
from gateway.deliver.windows import active_window
from gateway.messages import line

destinations_app = typer.Typer(no_args_is_help=True, help=line("help.destinations"))
app.add_typer(destinations_app, name="destinations")


@destinations_app.command("status")
def destinations_status(config: ConfigOption = None, store: StoreOption = None, as_json: AsJson = False) -> None:
    """Pause, circuit, maintenance window and job counts per destination / trạng thái từng đích."""
    cfg = load_config(config)
    opened = open_configured_store(cfg, store)
    counts, now = opened.counts(), datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for name, policy in destination_policies(cfg, None).items():
        state = opened.destination_state(name)
        limits = effective(policy, state)  # what the workers apply: the console's settings over the configuration's
        window = active_window(limits.windows, now)
        rows.append({"destination": name, "paused": state.paused, "pause_reason": state.pause_reason,
                     "breaker": str(state.breaker_state), "breaker_opened_at": local_time(state.breaker_opened_at),
                     "maintenance_until": local_time(window[1]) if window else None, "jobs": counts.get(name, {}),
                     "rate_per_second": limits.rate_per_second, "burst": limits.burst,
                     "limits_from": "console" if limits.rate_overridden else "configuration",
                     "windows_from": "console" if limits.windows_overridden else "configuration"})
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=line("cli.destinations.title"))
    for rule in ("cli.jobs.destination", "cli.destinations.paused", "cli.destinations.circuit",
                 "cli.destinations.maintenance_until", "cli.jobs.jobs"):
        table.add_column(line(rule))
    for r in rows:
        table.add_row(r["destination"], line("cli.yes", detail=r["pause_reason"] or "") if r["paused"] else line("cli.no"),
                      r["breaker"], r["maintenance_until"] or "—",
                      ", ".join(f"{k} {v}" for k, v in sorted(r["jobs"].items())) or "—")
    console.print(table)


@destinations_app.command("pause")
def destinations_pause(name: str, reason: Annotated[str, typer.Option("--why", help="Why (audited).")],
                       config: ConfigOption = None, store: StoreOption = None,
                       actor: Annotated[str | None, typer.Option(help="Who (default: the login name).")] = None,
                       ) -> None:
    """Stop sending to a destination; no retry is burnt meanwhile / tạm dừng gửi tới một đích."""
    cfg = load_config(config)
    destination_policies(cfg, [name])
    open_configured_store(cfg, store).set_paused(name, True, actor or getpass.getuser(), reason)
    console.print(line("cli.paused", name=name, reason=reason))


@destinations_app.command("resume")
def destinations_resume(name: str, config: ConfigOption = None, store: StoreOption = None,
                        reason: Annotated[str, typer.Option("--why", help="Why (audited).")] = "resume",
                        actor: Annotated[str | None, typer.Option(help="Who (default: the login name).")] = None,
                        ) -> None:
    """Start sending again / gửi lại bình thường."""
    cfg = load_config(config)
    destination_policies(cfg, [name])
    open_configured_store(cfg, store).set_paused(name, False, actor or getpass.getuser(), reason)
    console.print(line("cli.resumed", name=name))
