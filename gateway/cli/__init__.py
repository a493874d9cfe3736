"""The ``gateway`` command: one sub-command per operator task."""

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Cổng kết nối — QCVN 120 integration gateway. / Integration gateway for QCVN 120 packets.")

from gateway.cli import schemas, validate, worker, db, serve, verify, clients, operators, audit  # noqa: E402,F401  (each registers its commands)


def main() -> None:
    app()
