"""``gateway db upgrade|backup|restore`` and ``gateway purge``: keeping the store safe and lean."""

from contextlib import closing
from datetime import UTC, datetime, timedelta
import getpass
from pathlib import Path
import re
import sqlite3
from typing import Annotated

from sqlalchemy.engine import make_url
import typer

from gateway.cli import app
from gateway.cli.validate import ConfigOption, load_config
from gateway import messages
from gateway.cli.common import StoreOption, open_configured_store, store_url
from gateway.store import migrate
from gateway.store.sealing import SealingError, new_key_line
from gateway.store.engines import create_engine, normalise_url, private_file

db_app = typer.Typer(no_args_is_help=True, help=messages.line("help.db"))
app.add_typer(db_app, name="db")

Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing file or database.")]


def _fail(vi: str, en: str) -> typer.Exit:
    typer.echo(f"{vi} / {en}", err=True)
    return typer.Exit(2)


def _sqlite_path(url: str) -> Path:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise _fail(*messages.text("cli.backup_sqlite_only"))
    return Path(parsed.database)


def _check(path: Path) -> str:
    """The schema revision of a readable, intact gateway database; exits otherwise."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise _fail(*messages.text("cli.not_a_gateway_db", path=path, error=exc)) from None
    if verdict != "ok":
        raise _fail(*messages.text("cli.damaged_db", path=path, verdict=verdict))
    return str(revision)


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while the gateway keeps writing.

    One step (all pages at once) on purpose: a stepped backup restarts whenever another
    connection writes between steps, so under a steady load it never finishes. In WAL mode the
    single read transaction does not block the writers."""
    private_file(target)  # a backup holds what the store holds: its owner's only, like the store
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target, timeout=60)) as dst:
        src.backup(dst, pages=-1)


@db_app.command()
def upgrade(config: ConfigOption = None, store: StoreOption = None) -> None:
    """Nâng cấp lược đồ (không mất dữ liệu) / upgrade the schema (never loses data)."""
    engine = create_engine(store_url(load_config(config), store))
    before = migrate.current(engine)
    migrate.upgrade(engine)
    typer.echo(messages.line("cli.db.schema", before=before or "—", after=migrate.current(engine)))
    engine.dispose()


@db_app.command()
def backup(file: Annotated[Path, typer.Argument(help="Backup file to write.")],
           config: ConfigOption = None, store: StoreOption = None, force: Force = False) -> None:
    """Sao lưu trực tuyến cơ sở dữ liệu SQLite / online backup of the SQLite store."""
    source = _sqlite_path(store_url(load_config(config), store))
    if not source.exists():
        raise _fail(*messages.text("cli.no_database", path=source))
    if file.exists() and not force:
        raise _fail(*messages.text("cli.file_exists", path=file))
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    revision = _check(partial)
    partial.replace(file)  # a backup file is either complete or absent
    typer.echo(messages.line("cli.db.backed_up", source=source, target=file, size=file.stat().st_size, revision=revision))


@db_app.command()
def restore(file: Annotated[Path, typer.Argument(help="Backup file to restore.", exists=True, dir_okay=False)],
            config: ConfigOption = None, store: StoreOption = None, force: Force = False) -> None:
    """Khôi phục từ bản sao lưu / restore the SQLite store from a backup."""
    url = store_url(load_config(config), store)
    target = _sqlite_path(url)
    revision = _check(file)
    if target.exists() and not force:
        raise _fail(*messages.text("cli.target_holds_data", path=target))
    _copy(file, target)
    engine = create_engine(url)
    migrate.upgrade(engine)  # an older backup comes back at today's schema
    typer.echo(messages.line("cli.db.restored", source=file, target=target, revision=revision,
                             now=migrate.current(engine)))
    engine.dispose()


_DURATION = re.compile(r"^(\d+)\s*([dhm])$")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise _fail(*messages.text("cli.duration", text=text))
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)


@app.command()
def purge(config: ConfigOption = None, store: StoreOption = None,
          dossier: Annotated[str | None, typer.Option("--dossier", help="Delete every payload of this MaHoSo.")] = None,
          delivered_older_than: Annotated[str | None, typer.Option(
              "--delivered-older-than", help="Delete payloads delivered longer ago than this (30d, 12h); "
              "'retention' uses [retention].delivered_payload_days.")] = None,
          reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "",
          actor: Annotated[str | None, typer.Option(help="Who (default: the login name).")] = None,
          yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False) -> None:
    """Xoá dữ liệu cá nhân (giữ mã băm, biên nhận, nhật ký) / purge payloads (hashes, receipts, audit kept)."""
    if (dossier is None) == (delivered_older_than is None):
        raise _fail(*messages.text("cli.purge_one_of"))
    cfg = load_config(config)
    who = actor or getpass.getuser()
    opened = open_configured_store(cfg, store)
    try:
        if dossier is not None:
            if not yes:
                typer.confirm(messages.line("cli.db.purge_confirm", dossier=dossier), abort=True)
            count = opened.purge_dossier(dossier, who, reason)
            typer.echo(messages.line("cli.db.purged_dossier", count=count, dossier=dossier))
            return
        assert delivered_older_than is not None  # noqa: S101 - narrows the type: the option was checked above
        if delivered_older_than == "retention":
            days = float(cfg.section("retention").get("delivered_payload_days", 30))
            age, shown = timedelta(days=days), f"{days:g}d"
        else:
            age, shown = _duration(delivered_older_than), delivered_older_than.strip()
        count = opened.purge_delivered(datetime.now(UTC) - age, who)
        typer.echo(messages.line("cli.db.purged_delivered", count=count, age=shown))
    finally:
        opened.close()


@db_app.command("new-key")
def new_key(key_id: Annotated[str, typer.Argument(help="The new key's id, e.g. 2026-12 (stored with each payload).")]
            ) -> None:
    """In ra một khoá mã hoá mới / print a new store key (id:base64) for GATEWAY_STORE_KEYS or its key file.

    Put it FIRST in the ring to seal new payloads with it, keep the older keys after it until
    ``gateway db rekey`` has re-sealed everything under it."""
    try:
        typer.echo(new_key_line(key_id))
    except SealingError as exc:
        raise _fail(*messages.text("cli.db.bad_key_id", error=exc)) from None


@db_app.command()
def rekey(config: ConfigOption = None, store: StoreOption = None,
          actor: Annotated[str | None, typer.Option(help="Who (default: the login name).")] = None) -> None:
    """Mã hoá lại mọi nội dung bằng khoá đầu tiên / re-seal every stored payload under the key ring's first key.

    Plain payloads (stored before encryption) are sealed, those under older keys re-sealed; the gateway
    may keep running. Afterwards the older keys can leave the ring."""
    try:
        opened = open_configured_store(load_config(config), store)
    except SealingError as exc:
        raise _fail(*messages.text("cli.db.key_unusable", error=exc)) from None
    try:
        done = opened.rekey(actor or getpass.getuser())
    except SealingError as exc:
        raise _fail(*messages.text("cli.db.rekey_failed", error=exc)) from None
    finally:
        opened.close()
    typer.echo(f"{messages.line('cli.db.resealed')} {done['changed']} {messages.line('cli.db.payloads')}; "
               f"{done['kept']} {messages.line('cli.db.already_sealed')}")
