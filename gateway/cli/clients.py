"""``gateway clients``: API keys (add, list, suspend, resume, rotate-key) and classic accounts' passwords.

Keys are made here, shown once, and kept in the store only as their SHA-256 (``gateway.receive.keys``);
every change is audited. ``hash-password`` (and ``gateway portal accounts``) move classic accounts off legacy SHA-256.
"""

import getpass
import json
import sys
from typing import Annotated, Any

import typer

from gateway.cli import app
from gateway.cli.validate import ConfigOption, load_config
from gateway import messages
from gateway.cli.common import StoreOption, open_configured_store
from gateway.config import Config, ConfigError
from gateway.packets.envelope import BODY_TYPES
from gateway.receive.auth import Client, Clients
from gateway.receive.keys import new_key
from gateway.receive.passwords import hash_password
from gateway.store import ApiClientRecord, Store

clients_app = typer.Typer(no_args_is_help=True, help=messages.line("help.clients"))
app.add_typer(clients_app, name="clients")

Actor = Annotated[str | None, typer.Option(help="Who (default: the login name; kept in the audit trail).")]
Name = Annotated[str, typer.Argument(help="The client's name.")]


def _fail(vi: str, en: str) -> typer.Exit:
    typer.echo(f"{vi} / {en}", err=True)
    return typer.Exit(2)


def _configured(config: Config) -> dict[str, Client]:
    try:
        return {client.name: client for client in Clients.from_config(config).by_key_hash.values()}
    except ConfigError as exc:
        raise _fail(*messages.text("cli.configuration", error=exc)) from None


def _rows(store: Store) -> dict[str, ApiClientRecord]:
    return {row.name: row for row in store.api_clients()}


def _show_key(key: str) -> None:
    typer.echo(messages.line("cli.key_shown_once"))
    typer.echo(key)


@clients_app.command("add")
def add(name: Name, config: ConfigOption = None, store: StoreOption = None,
        agency: Annotated[list[str] | None, typer.Option("--agency", help="Agency code (NoiGui) it may send for "
                                                         "(repeatable; '*': every agency).")] = None,
        packet_type: Annotated[list[str] | None, typer.Option("--type", help="Packet type it may send "
                                                              "(repeatable; none: any).")] = None,
        actor: Actor = None) -> None:
    """Thêm hệ thống gửi với khoá mới / add an API client with a new key (shown once)."""
    cfg = load_config(config)
    if unknown := set(packet_type or ()) - set(BODY_TYPES):
        raise _fail(*messages.text("cli.unknown_types", types=sorted(unknown)))
    if not agency:  # deny by default: a client for every agency is asked for by name
        raise _fail(*messages.text("cli.agency_required"))
    every = "*" in agency
    opened = open_configured_store(cfg, store)
    try:
        if name in _configured(cfg) or name in _rows(opened):
            raise _fail(*messages.text("cli.client_exists", name=name))
        key, digest = new_key()
        opened.save_api_client(ApiClientRecord(name, digest, None if every else sorted(agency),
                                               sorted(packet_type) if packet_type else None),
                               actor or getpass.getuser(), "client.add")
    finally:
        opened.close()
    _show_key(key)


@clients_app.command("list")
def list_(config: ConfigOption = None, store: StoreOption = None,
          as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Các hệ thống gửi và trạng thái / API clients, where each is defined, suspended or not (never keys)."""
    cfg = load_config(config)
    configured = _configured(cfg)
    opened = open_configured_store(cfg, store)
    try:
        rows = _rows(opened)
    finally:
        opened.close()
    listed: list[dict[str, Any]] = []  # printed as JSON or as lines
    for name in sorted(set(configured) | set(rows)):
        row, client = rows.get(name), configured.get(name)
        agencies = client.agencies if client else (row.agencies if row else None)
        types = client.types if client else (row.types if row else None)
        listed.append({"name": name, "defined": "config" if client else "store",
                       "key": "store" if row and row.key_sha256 else "config",
                       "suspended": bool(row and row.suspended),
                       "agencies": sorted(agencies) if agencies is not None else None,
                       "types": sorted(types) if types is not None else None,
                       "changed_at": row.updated_at.isoformat() if row and row.updated_at else None})
    if as_json:
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    for item in listed:
        state = messages.line("cli.state_suspended" if item["suspended"] else "cli.state_active")
        typer.echo(f"{item['name']:24} {state:22} defined in {item['defined']:6} key in {item['key']:6} "
                   f"agencies={','.join(item['agencies'] or ['*'])} types={','.join(item['types'] or ['*'])}")


def _change(name: str, config: Config, url: str | None, actor: str | None, action: str, *,
            suspended: bool | None, rotate: bool) -> str | None:
    """Suspends or resumes (``suspended``; None: as it is) and/or gives a new key (``rotate``); audited."""
    opened = open_configured_store(config, url)
    try:
        row = _rows(opened).get(name)
        if row is None and name not in _configured(config):
            raise _fail(*messages.text("cli.no_client", name=name))
        record = row or ApiClientRecord(name, None)
        key = None
        if rotate:
            key, digest = new_key()
            record = ApiClientRecord(name, digest, record.agencies, record.types, record.suspended)
        opened.save_api_client(ApiClientRecord(name, record.key_sha256, record.agencies, record.types,
                                               record.suspended if suspended is None else suspended),
                               actor or getpass.getuser(), action)
        return key
    finally:
        opened.close()


@clients_app.command("suspend")
def suspend(name: Name, config: ConfigOption = None, store: StoreOption = None, actor: Actor = None) -> None:
    """Tạm dừng khoá của hệ thống / suspend a client: its key is refused (every API process, within seconds)."""
    _change(name, load_config(config), store, actor, "client.suspend", suspended=True, rotate=False)
    typer.echo(messages.line("cli.client_suspended", name=name))


@clients_app.command("resume")
def resume(name: Name, config: ConfigOption = None, store: StoreOption = None, actor: Actor = None) -> None:
    """Cho hoạt động lại / resume a suspended client."""
    _change(name, load_config(config), store, actor, "client.resume", suspended=False, rotate=False)
    typer.echo(messages.line("cli.client_resumed", name=name))


@clients_app.command("rotate-key")
def rotate_key(name: Name, config: ConfigOption = None, store: StoreOption = None, actor: Actor = None) -> None:
    """Cấp khoá mới, khoá cũ hết hiệu lực / a new key for a client; the old one stops working (shown once).

    A suspended client stays suspended: resume it once the new key is in place."""
    key = _change(name, load_config(config), store, actor, "client.rotate_key", suspended=None, rotate=True)
    assert key is not None  # noqa: S101 - narrows the type: rotate=True always returns a key
    _show_key(key)


@clients_app.command("hash-password")
def hash_password_(username: Annotated[str, typer.Argument(help="The classic account's username.")]) -> None:
    """Băm mật khẩu tài khoản cổ điển / print the password_hash line of a classic account (password from stdin).

    The password is read from standard input (a prompt on a terminal), never from the command line."""
    password = getpass.getpass(messages.line("cli.password_prompt")) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise _fail(*messages.text("cli.short_password"))
    typer.echo(f'# [inbound_classic.clients.…] username = "{username}"')
    typer.echo(f'password_hash = "{hash_password(password)}"')
