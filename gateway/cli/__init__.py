"""The ``gateway`` command: one sub-command per operator task."""

import typer

from gateway.messages import line

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help=line("help.gateway"))

# each registers its commands on app, in this order
from gateway.cli import (schemas, validate, worker, run, jobs, destinations,  # noqa: E402,F401 - registers commands
                         db, serve, verify, clients, operators, audit)


def _connectors() -> None:
    """Each registered connector's sub-commands (``gateway portal …``), from the embedded defaults and
    $GATEWAY_CONFIG: they exist before ``--config`` is read. An unusable $GATEWAY_CONFIG falls back to the
    embedded table; the command that runs then reports the configuration itself."""
    import tomllib

    from gateway import registry
    from gateway.config import DEFAULTS_FILE, Config, ConfigError

    try:
        config = Config.load()
    except ConfigError:
        config = Config(tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8")))
    try:
        registry.add_cli(app, config)
    except ConfigError:
        config = Config(tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8")))
        registry.add_cli(app, config)


_connectors()


def main() -> None:
    import logging

    from gateway.cli.lookups import wrap

    # pyhanko logs each path it could not build with a traceback; the command reports the verdict itself
    # (NO_CERTIFICATE_CHAIN_FOUND …), so its warnings would only bury the answer (and break --json output).
    logging.getLogger("pyhanko").setLevel(logging.ERROR)

    wrap(typer.main.get_command(app))(prog_name="gateway")  # look-ups of citizens' data audited before they run
