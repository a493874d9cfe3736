"""``gateway jobs list|show|replay``: find, inspect and replay jobs (dead letters)."""

from datetime import datetime
import getpass
import json
import time
from typing import Annotated, Any

from rich.table import Table
import typer

from gateway.cli import app
from gateway.cli.common import AsJson, StoreOption, console, fail, local_time, open_configured_store
from gateway.cli.validate import ConfigOption, load_config
from gateway.deliver.windows import LOCAL
from gateway.messages import line
from gateway.pii import scrub
from gateway.store import JobFilter, JobState, Store

jobs_app = typer.Typer(no_args_is_help=True, help=line("help.jobs"))
app.add_typer(jobs_app, name="jobs")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def _selection(destination: str | None, dossier: str | None, packet_type: str | None, state: str | None,
               reason: str | None, since: str | None, until: str | None, limit: int = 100, offset: int = 0,
               ) -> JobFilter:
    try:
        return JobFilter(destination=destination, dossier=dossier, packet_type=packet_type,
                         state=JobState(state) if state else None, reason=reason, since=_when(since),
                         until=_when(until), limit=limit, offset=offset)
    except ValueError as exc:
        raise fail(line("cli.filter", error=exc)) from None


Dest = Annotated[str | None, typer.Option("--destination", "-d", help="Destination name.")]
Dossier = Annotated[str | None, typer.Option("--dossier", help="Dossier code (MaHoSo).")]
PacketType = Annotated[str | None, typer.Option("--type", help="Packet type (LoaiGoiTin).")]
State = Annotated[str | None, typer.Option("--state", help="pending | leased | delivered | dead")]
Reason = Annotated[str | None, typer.Option("--reason", help="Text in the last error.")]
Since = Annotated[str | None, typer.Option("--from", help="Created at or after (YYYY-MM-DD[THH:MM], local time).")]
Until = Annotated[str | None, typer.Option("--to", help="Created before (YYYY-MM-DD[THH:MM], local time).")]


def _job_dict(job: Any) -> dict[str, Any]:
    return {"job_id": job.job_id, "packet_id": job.packet_id, "destination": job.destination,
            "dossier": job.dossier, "packet_type": job.packet_type, "seq": job.seq, "state": str(job.state),
            "attempts": job.attempts, "next_attempt_at": local_time(job.next_attempt_at),
            "last_error": None if job.last_error is None else scrub(job.last_error, limit=2000),
            "created_at": local_time(job.created_at), "delivered_at": local_time(job.delivered_at)}


@jobs_app.command("list")
def jobs_list(config: ConfigOption = None, store: StoreOption = None, destination: Dest = None,
              dossier: Dossier = None, packet_type: PacketType = None, state: State = None, reason: Reason = None,
              since: Since = None, until: Until = None, limit: int = 50, offset: int = 0, as_json: AsJson = False,
              ) -> None:
    """List jobs matching the filters / liệt kê việc theo bộ lọc."""
    opened = open_configured_store(load_config(config), store)
    selection = _selection(destination, dossier, packet_type, state, reason, since, until, limit, offset)
    jobs, total = opened.find_jobs(selection), opened.count_jobs(selection)
    if as_json:
        typer.echo(json.dumps({"total": total, "jobs": [_job_dict(j) for j in jobs]}, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{total} {line('cli.jobs.jobs')} ({line('cli.jobs.local_time')})")
    table.add_column("job")
    for column in ("destination", "dossier", "type", "state", "tries", "last_error"):
        table.add_column(line(f"cli.jobs.{column}"))
    for job in jobs:
        table.add_row(job.job_id, job.destination, job.dossier or "—", job.packet_type, str(job.state),
                      str(job.attempts), scrub(job.last_error or "", limit=80))
    console.print(table)


@jobs_app.command("show")
def jobs_show(job_id: str, config: ConfigOption = None, store: StoreOption = None, as_json: AsJson = False) -> None:
    """A job with every attempt / một việc và mọi lần thử."""
    job = open_configured_store(load_config(config), store).get_job(job_id)
    if job is None:
        raise fail(line("cli.no_job", job=job_id))
    attempts = [{"n": a.n, "started_at": local_time(a.started_at), "duration_ms": a.duration_ms, "outcome": a.outcome,
                 "peer_status": a.peer_status, "message": scrub(a.message, limit=2000), "transform": a.transform}
                for a in job.attempt_log]
    if as_json:
        typer.echo(json.dumps(_job_dict(job) | {"attempts": attempts}, ensure_ascii=False, indent=2))
        return
    for key, value in _job_dict(job).items():
        console.print(f"{key:16} {value if value is not None else '—'}")
    table = Table(title=line("cli.jobs.attempts"))
    for column in ("n", line("cli.jobs.at"), "ms", *(line(f"cli.jobs.{key}") for key in
                                                    ("outcome", "peer", "message", "transform"))):
        table.add_column(column)
    for a in attempts:
        table.add_row(*(str(a[k] if a[k] is not None else "—") for k in
                        ("n", "started_at", "duration_ms", "outcome", "peer_status", "message", "transform")))
    console.print(table)


@jobs_app.command("replay")
def jobs_replay(reason: Annotated[str, typer.Option("--why", help="Why (recorded in the audit trail).")],
                job: Annotated[list[str] | None, typer.Option("--job", help="Job id (repeatable).")] = None,
                config: ConfigOption = None, store: StoreOption = None, destination: Dest = None,
                dossier: Dossier = None, packet_type: PacketType = None, error: Reason = None,
                since: Since = None, until: Until = None,
                actor: Annotated[str | None, typer.Option(help="Who (default: the login name).")] = None,
                rate: Annotated[float, typer.Option(help="Replays per second at most.")] = 50.0,
                yes: Annotated[bool, typer.Option("--yes", help="Replay; without it only the dry-run count.")] = False,
                ) -> None:
    """Send dead letters again, same idempotency key, payload untouched / gửi lại thư chết.

    Always counts first (dry run); replays only with --yes, at most --rate per second, recorded
    in the audit trail with who (--actor) and why (--why)."""
    opened = open_configured_store(load_config(config), store)
    who = actor or getpass.getuser()
    selection = _selection(destination, dossier, packet_type, "dead", error, since, until, limit=1000)
    ids = list(job) if job else [j.job_id for j in _all(opened, selection)]
    # Counted as the store will replay them: dead letters whose payload was purged cannot be sent again.
    count = sum(opened.replay(ids[start:start + 1000], who, reason, dry_run=True) for start in range(0, len(ids), 1000))
    console.print(f"{line('cli.jobs.would_replay', count=count)} {line('cli.jobs.jobs')}")
    if not yes or count == 0:
        if count:
            console.print(line("cli.replay_confirm"))
        return
    chunk = max(1, int(rate))  # one chunk per second keeps the rate bounded
    done = 0
    for start in range(0, len(ids), chunk):
        began = time.monotonic()
        done += opened.replay(ids[start:start + chunk], who, reason)
        console.print(f"  {line('cli.jobs.replayed', done=done, count=count)}")
        if start + chunk < len(ids):
            time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    console.print(f"{line('cli.done')}: {done} {line('cli.jobs.queued_again', who=who, reason=reason)}")


def _all(store: Store, selection: JobFilter) -> list[Any]:
    found, offset = [], 0
    while batch := store.find_jobs(JobFilter(**{**selection.__dict__, "offset": offset, "limit": 1000})):
        found += batch
        offset += len(batch)
    return found
