"""Delivery processes and the operators' view of jobs and destinations.

``gateway worker [--processes N]`` deliver (N processes, ~one per CPU; more on other machines with PostgreSQL)
``gateway run``                    the API and delivery in one process (the embedded default)
``gateway jobs list|show|replay``  find, inspect and replay jobs (dead letters)
``gateway destinations status|pause|resume``
"""

from datetime import UTC, datetime
import getpass
import json
import logging
import signal
import threading
import time
from typing import Annotated, Any

from rich.console import Console
from rich.table import Table
import typer

from gateway.cli import app
from gateway.deliver.overrides import effective
from gateway.observe.logs import setup as setup_logging
from gateway.cli.supervise import supervise
from gateway.cli.validate import ConfigOption, load_config
from gateway.config import Config, ConfigError
from gateway import registry
from gateway.deliver.connector import Connector
from gateway.deliver.engine import Engine, check_worker_name, make_connector, worker_prefix
from gateway.deliver.policy import DestinationPolicy, load_policies
from gateway.deliver.windows import LOCAL, active_window
from gateway.pii import mask_logs, scrub
from gateway.receive.intake import PacketIntake
from gateway.store import JobFilter, JobState, Store, open_store

jobs_app = typer.Typer(no_args_is_help=True, help="Việc chuyển tiếp, thư chết, gửi lại / delivery jobs, dead letters, replay.")
destinations_app = typer.Typer(no_args_is_help=True, help="Trạng thái đích, tạm dừng / destinations: status, pause, resume.")
app.add_typer(jobs_app, name="jobs")
app.add_typer(destinations_app, name="destinations")

StoreOption = Annotated[str | None, typer.Option("--store", help="Store URL (default: [store].url of the configuration).")]
console = Console(soft_wrap=True, highlight=False)
log = logging.getLogger(__name__)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


def store_url(config: Config, url: str | None) -> str:
    return url or str(config.section("store").get("url", "sqlite:///gateway.db"))


def open_configured_store(config: Config, url: str | None) -> Store:
    return open_store(store_url(config, url))


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def _policies(config: Config, only: list[str] | None):  # type: ignore[no-untyped-def]
    try:
        policies = load_policies(config)
    except ConfigError as exc:
        raise _fail(f"Cấu hình không dùng được / unusable configuration: {exc}") from None
    if only:
        if unknown := set(only) - set(policies):
            raise _fail(f"Không có đích / no such destination: {', '.join(sorted(unknown))}")
        policies = {name: policies[name] for name in only}
    return policies


def _connectors(config: Config, policies: dict[str, DestinationPolicy], only: list[str] | None) -> dict[str, Connector]:
    """Each destination's connector. One that cannot be built (no url, say) is left out with its reason logged
    — its jobs wait in the store until it is configured — unless it was asked for by name."""
    built: dict[str, Connector] = {}
    for name, policy in list(policies.items()):
        try:
            built[name] = make_connector(policy, config)
        except ConfigError as exc:
            if only:
                raise _fail(f"Cấu hình không dùng được / unusable configuration: {exc}") from None
            log.error("đích %s không chuyển tiếp được / destination %s not delivered: %s", name, name, exc)
            del policies[name]
    return built


def start_engine(config: Config, store: Store, only: list[str] | None = None, worker: str | None = None) -> Engine:
    delivery = config.section("delivery")
    policies = _policies(config, only)
    return Engine(store, policies, worker=worker, connectors=_connectors(config, policies, only),
                  poll_seconds=float(delivery.get("poll_seconds", 0.5)),
                  hold_check_seconds=float(delivery.get("hold_check_seconds", 0.25)),
                  # the loaded configuration, --config overlay included, not a fresh Config.load()
                  connector_factory=lambda policy: make_connector(policy, config)).start()


def _on_signals() -> threading.Event:
    """Set on SIGTERM or SIGINT: a clean stop releases what was claimed and not sent."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


DestinationOption = Annotated[list[str] | None, typer.Option("--destination", "-d",
                                                             help="Only these destinations (repeatable).")]


@app.command()
def worker(config: ConfigOption = None, store: StoreOption = None, destination: DestinationOption = None,
           name: Annotated[str | None, typer.Option(help="Worker name in leases (default host:pid:random).")] = None,
           processes: Annotated[int, typer.Option(min=1, help="Worker processes to run and restart if one dies "
                                                              "(about one per CPU).")] = 1,
           ) -> None:
    """Deliver accepted packets until SIGTERM / chuyển tiếp gói tin đã nhận cho đến khi có SIGTERM."""
    setup_logging()  # text, or JSON lines with GATEWAY_LOG_FORMAT=json
    mask_logs()
    if name is not None:
        try:
            check_worker_name(name)
        except ValueError as exc:
            raise _fail(f"--name: {exc}") from None
    cfg = load_config(config)
    stop = _on_signals()  # before the engine starts, so a SIGTERM at any moment stops it cleanly
    if processes > 1:
        if name:
            raise _fail("--name đặt tên cho một tiến trình / --name names one process: not with --processes")
        arguments = [*(["--config", str(config.resolve())] if config else []), *(["--store", store] if store else []),
                     *[option for d in destination or [] for option in ("--destination", d)]]
        supervisor_store = open_configured_store(cfg, store)
        try:
            supervise(arguments, processes, stop, lambda pid: supervisor_store.release_abandoned(worker_prefix(pid)))
        finally:
            supervisor_store.close()
        return
    opened = open_configured_store(cfg, store)
    engine = start_engine(cfg, opened, destination, name)
    # Connectors' background loops (peer feeds) turn what they read into packets through the real intake
    # (``services.originate``, ``services.store``): validated, routed, stored in order like a received packet.
    intake = PacketIntake(cfg, store=opened)
    tasks = registry.start_tasks(cfg, intake)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        tasks.stop()
        engine.stop()
        intake.close()  # its audit rows and commits first; it closes the store it was given


@app.command()
def run(config: ConfigOption = None, store: StoreOption = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080) -> None:
    """The API and delivery in one process (embedded default) / API và chuyển tiếp trong một tiến trình."""
    import uvicorn

    from gateway.api import create_app
    from gateway.receive.limits import server_options

    setup_logging()  # text, or JSON lines with GATEWAY_LOG_FORMAT=json
    mask_logs()
    cfg = load_config(config)
    if store:
        cfg = Config({**cfg.raw, "store": {**cfg.section("store"), "url": store}}, cfg.source)
    opened = open_configured_store(cfg, store)
    engine = start_engine(cfg, opened)
    api = create_app(cfg)
    tasks = registry.start_tasks(cfg, api.state.intake)  # the API's own intake originates the tasks' packets
    try:
        uvicorn.run(api, host=host, port=port, log_level="warning", **server_options(cfg))
    finally:
        tasks.stop()
        engine.stop()
        opened.close()


# --- jobs ---------------------------------------------------------------------------------

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
        raise _fail(f"Bộ lọc không hợp lệ / invalid filter: {exc}") from None


Dest = Annotated[str | None, typer.Option("--destination", "-d", help="Destination name.")]
Dossier = Annotated[str | None, typer.Option("--dossier", help="Dossier code (MaHoSo).")]
PacketType = Annotated[str | None, typer.Option("--type", help="Packet type (LoaiGoiTin).")]
State = Annotated[str | None, typer.Option("--state", help="pending | leased | delivered | dead")]
Reason = Annotated[str | None, typer.Option("--reason", help="Text in the last error.")]
Since = Annotated[str | None, typer.Option("--from", help="Created at or after (YYYY-MM-DD[THH:MM], local time).")]
Until = Annotated[str | None, typer.Option("--to", help="Created before (YYYY-MM-DD[THH:MM], local time).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _job_dict(job: Any) -> dict[str, Any]:
    return {"job_id": job.job_id, "packet_id": job.packet_id, "destination": job.destination,
            "dossier": job.dossier, "packet_type": job.packet_type, "seq": job.seq, "state": str(job.state),
            "attempts": job.attempts, "next_attempt_at": _local(job.next_attempt_at),
            "last_error": None if job.last_error is None else scrub(job.last_error, limit=2000),
            "created_at": _local(job.created_at), "delivered_at": _local(job.delivered_at)}


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
    table = Table(title=f"{total} việc / jobs (giờ Việt Nam / local time)")
    for column in ("job", "đích / destination", "hồ sơ / dossier", "loại / type", "trạng thái / state", "lần / tries",
                   "lỗi cuối / last error"):
        table.add_column(column)
    for job in jobs:
        table.add_row(job.job_id, job.destination, job.dossier or "—", job.packet_type, str(job.state),
                      str(job.attempts), scrub(job.last_error or "", limit=80))
    console.print(table)


@jobs_app.command("show")
def jobs_show(job_id: str, config: ConfigOption = None, store: StoreOption = None, as_json: AsJson = False) -> None:
    """A job with every attempt / một việc và mọi lần thử."""
    job = open_configured_store(load_config(config), store).get_job(job_id)
    if job is None:
        raise _fail(f"Không có việc / no such job: {job_id}")
    attempts = [{"n": a.n, "started_at": _local(a.started_at), "duration_ms": a.duration_ms, "outcome": a.outcome,
                 "peer_status": a.peer_status, "message": scrub(a.message, limit=2000), "transform": a.transform}
                for a in job.attempt_log]
    if as_json:
        typer.echo(json.dumps(_job_dict(job) | {"attempts": attempts}, ensure_ascii=False, indent=2))
        return
    for key, value in _job_dict(job).items():
        console.print(f"{key:16} {value if value is not None else '—'}")
    table = Table(title="Các lần thử / attempts")
    for column in ("n", "lúc / at", "ms", "kết quả / outcome", "đích trả lời / peer", "thông điệp / message",
                   "chuyển đổi / transform"):
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
    console.print(f"Sẽ gửi lại / would replay: {count} việc / jobs")
    if not yes or count == 0:
        if count:
            console.print("Chạy lại với --yes để gửi / run again with --yes to replay.")
        return
    chunk = max(1, int(rate))  # one chunk per second keeps the rate bounded
    done = 0
    for start in range(0, len(ids), chunk):
        began = time.monotonic()
        done += opened.replay(ids[start:start + chunk], who, reason)
        console.print(f"  đã gửi lại / replayed {done}/{count}")
        if start + chunk < len(ids):
            time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
    console.print(f"Xong / done: {done} việc được đưa lại hàng đợi / jobs queued again (by {who}: {reason})")


def _all(store: Store, selection: JobFilter) -> list[Any]:
    found, offset = [], 0
    while batch := store.find_jobs(JobFilter(**{**selection.__dict__, "offset": offset, "limit": 1000})):
        found += batch
        offset += len(batch)
    return found


# --- destinations -----------------------------------------------------------------------

@destinations_app.command("status")
def destinations_status(config: ConfigOption = None, store: StoreOption = None, as_json: AsJson = False) -> None:
    """Pause, circuit, maintenance window and job counts per destination / trạng thái từng đích."""
    cfg = load_config(config)
    opened = open_configured_store(cfg, store)
    counts, now = opened.counts(), datetime.now(UTC)
    rows = []
    for name, policy in _policies(cfg, None).items():
        state = opened.destination_state(name)
        limits = effective(policy, state)  # what the workers apply: the console's settings over the configuration's
        window = active_window(limits.windows, now)
        rows.append({"destination": name, "paused": state.paused, "pause_reason": state.pause_reason,
                     "breaker": str(state.breaker_state), "breaker_opened_at": _local(state.breaker_opened_at),
                     "maintenance_until": _local(window[1]) if window else None, "jobs": counts.get(name, {}),
                     "rate_per_second": limits.rate_per_second, "burst": limits.burst,
                     "limits_from": "console" if limits.rate_overridden else "configuration",
                     "windows_from": "console" if limits.windows_overridden else "configuration"})
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="Đích / destinations")
    for column in ("đích", "tạm dừng / paused", "mạch / circuit", "bảo trì đến / maintenance until", "việc / jobs"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["destination"], f"có / yes: {r['pause_reason'] or ''}" if r["paused"] else "không / no",
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
    _policies(cfg, [name])
    open_configured_store(cfg, store).set_paused(name, True, actor or getpass.getuser(), reason)
    console.print(f"Đã tạm dừng / paused: {name} ({reason})")


@destinations_app.command("resume")
def destinations_resume(name: str, config: ConfigOption = None, store: StoreOption = None,
                        reason: Annotated[str, typer.Option("--why", help="Why (audited).")] = "resume",
                        actor: Annotated[str | None, typer.Option(help="Who (default: the login name).")] = None,
                        ) -> None:
    """Start sending again / gửi lại bình thường."""
    cfg = load_config(config)
    _policies(cfg, [name])
    open_configured_store(cfg, store).set_paused(name, False, actor or getpass.getuser(), reason)
    console.print(f"Đã mở lại / resumed: {name}")
