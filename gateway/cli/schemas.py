"""``gateway schemas``: regenerate or check the published XSD and JSON Schema."""

from typing import Annotated

import typer

from gateway.cli import app
from gateway.messages import line
from gateway.packets import schema_gen


@app.command()
def schemas(check: Annotated[bool, typer.Option("--check", help="Only report whether schemas/ is current.")] = False
            ) -> None:
    """Write schemas/ from the packet model (or --check that it is current: exit 1 if not)."""
    if check:
        stale = [path for path, content in schema_gen.generated().items()
                 if not path.exists() or path.read_bytes() != content]
        for path in stale:
            typer.echo(line("cli.schema_stale", path=path))
        raise typer.Exit(1 if stale else 0)
    for path in schema_gen.write():
        typer.echo(line("cli.schema_written", path=path))
