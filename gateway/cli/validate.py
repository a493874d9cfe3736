"""``gateway validate FILE...``: the three validation layers, from the command line."""

import json
from pathlib import Path
import sys
from typing import Annotated

from rich.console import Console
from rich.progress import track
import typer

from gateway.cli import app
from gateway.config import Config, ConfigError
from gateway.messages import line, text
from gateway.validate.messages import message
from gateway.validate.pipeline import Encoding, Validator, sniff
from gateway.validate.report import Issue, Report
from gateway.validate.semantic import MemoryHistory

ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML file overriding the embedded defaults.",
                                                   exists=True, dir_okay=False)]


def load_config(path: Path | None) -> Config:
    try:
        return Config.load(path)
    except ConfigError as exc:
        typer.echo(line("cli.configuration", error=exc), err=True)
        raise typer.Exit(2) from None


def validate_file(validator: Validator, path: Path) -> Report:
    """Reads at most the size limit plus one byte, so a huge file costs no memory."""
    limit = validator.config.max_bytes
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    encoding: Encoding | None = {".xml": "xml", ".json": "json"}.get(path.suffix.lower()) or sniff(data)  # type: ignore[assignment]  # sniff answers xml, json or None
    if encoding is None:
        report = Report("json")
        vi, en = message("input.content_type", content_type=path.name)
        report.errors.append(Issue("wellformed", "", "input.content_type", vi, en))
        return report
    if len(data) > limit:
        size = path.stat().st_size
        report = Report(encoding)
        vi, en = message("input.too_large", size=size, limit=limit)
        report.errors.append(Issue("wellformed", "", "input.too_large", vi, en))
        return report
    return validator.validate(data, encoding)


def _print_human(console: Console, path: Path, report: Report) -> None:
    if report.valid:
        console.print(f"[green]✓[/] {path}  {line('cli.validate.valid')}")
    else:
        console.print(f"[red]✗[/] {path}  {len(report.errors)} {line('cli.validate.errors')}")
    for issue in report.errors + report.warnings:
        kind = text("cli.validate.error" if issue in report.errors else "cli.validate.warning")[0]  # the English follows
        where = " ({}/{})".format(*text("cli.validate.line", n=issue.line)) if issue.line else ""
        console.print(f"    {kind} [bold]{issue.path or '—'}[/] [dim]{issue.rule}[/]{where}", highlight=False)
        console.print(f"      {issue.message_vi}", highlight=False, markup=False)
        console.print(f"      {issue.message_en}", style="dim", highlight=False, markup=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Packet files (.xml or .json).", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Validate packets: well-formedness, QCVN 120 schema, semantic rules. Exit 0 all valid, 1 any invalid."""
    history = MemoryHistory()  # files are read in the order given, so a dossier's statuses chain
    validator = Validator(load_config(config), history)
    console = Console(stderr=False, soft_wrap=True)
    show_progress = len(files) >= 10 and sys.stderr.isatty()
    results = []
    for path in track(files, description=line("cli.validate.validating"), console=Console(stderr=True),
                      transient=True, disable=not show_progress):
        report = validate_file(validator, path)
        if report.packet is not None and report.valid:
            history.record(report.packet)
        results.append((path, report))
        if not as_json:
            _print_human(console, path, report)
    if as_json:
        documents = [{"file": str(path), **report.to_dict()} for path, report in results]
        typer.echo(json.dumps(documents[0] if len(documents) == 1 else documents, ensure_ascii=False, indent=2))
    else:
        invalid = sum(not report.valid for _, report in results)
        console.print(f"{len(results) - invalid}/{len(results)} {line('cli.validate.valid')}")
    raise typer.Exit(0 if all(report.valid for _, report in results) else 1)
