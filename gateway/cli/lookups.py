"""Connector commands that read citizens' data (``gateway portal lookup``, ``gateway population-db …``) are
audited before they run: who (the operating-system user), which command, and each argument as a hash hint
only — a dossier code is also named, so the look-up shows in that dossier's evidence bundle. A look-up
the audit cannot record does not run (exit 2): deny by default.

The connectors' commands are wrapped where the CLI is assembled, so a connector needs nothing from the
gateway for this."""

from __future__ import annotations

from collections.abc import Callable
import functools
import getpass
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
import typer

from gateway.config import Config, ConfigError
from gateway.messages import line
from gateway.store import open_store

# (group, command) → the argument naming the dossier (None: no dossier); "*": every command of the group.
AUDITED: dict[tuple[str, str], str | None] = {
    ("portal", "lookup"): "code",
    ("population-db", "*"): None,
}
_PLACES = ("config", "store")  # where to write: the command's own --config / --store


def hint(value: Any) -> str:
    return "sha256:" + hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:16]


def record(group: str, command: str, params: dict[str, Any], dossier_arg: str | None) -> None:
    """Writes the ``cli.lookup`` entry into the store the command's configuration names; raises on failure."""
    path = params.get("config")
    config = Config.load(Path(path) if path else None)
    store = open_store(str(params.get("store") or config.section("store").get("url", "sqlite:///gateway.db")))
    try:
        dossier = str(params[dossier_arg]) if dossier_arg and params.get(dossier_arg) else None
        store.audit(f"cli:{getpass.getuser()}", "cli.lookup", dossier or f"{group} {command}",
                    {"command": f"{group} {command}",
                     "args": {name: hint(value) for name, value in sorted(params.items())
                              if value is not None and name not in _PLACES}}, dossier=dossier)
    finally:
        store.close()


def _audited(group: str, command: str, run: Callable[..., Any], dossier_arg: str | None) -> Callable[..., Any]:
    @functools.wraps(run)
    def audited(*args: Any, **params: Any) -> Any:
        try:
            record(group, command, params, dossier_arg)
        except (ConfigError, SQLAlchemyError, OSError, ValueError) as exc:
            typer.echo(line("cli.lookup_not_audited", error=type(exc).__name__), err=True)
            raise typer.Exit(2) from None
        return run(*args, **params)
    return audited


def wrap(root: Any) -> Any:
    """Wraps the audited connector commands of ``root`` (the assembled ``gateway`` command, a click-style
    group: Typer may carry its own click) in place."""
    for (group, name), dossier_arg in AUDITED.items():
        sub = root.commands.get(group)
        if not isinstance(getattr(sub, "commands", None), dict):
            continue  # the connector is not enabled
        for command_name, command in sub.commands.items():
            if name in ("*", command_name) and command.callback is not None:
                command.callback = _audited(group, command_name, command.callback, dossier_arg)
    return root
