"""``python -m demo``: what ``./run`` shows. The narration lives in ``demo.narrate``, imported only when the
demo runs, so that ``--help`` answers quickly."""

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def demo(config: Annotated[Path | None, typer.Option("--config", help="TOML file overriding the embedded defaults "
                                                                      "(for the example validation).",
                                                     exists=True, dir_okay=False)] = None,
         validate_only: bool = typer.Option(False, "--validate-only", help="Only the example validation."),
         folder: Path | None = typer.Option(None, "--folder", help="Where logs, store and results go "  # noqa: B008 - typer's way of declaring an option
                                                                   "(default: a new folder under the temp dir)."),
         day_seconds: float = typer.Option(25.0, "--day-seconds", help="How long the working day takes to play."),
         seed: int = typer.Option(2024, "--seed", help="Seed of the generated day."),
         linger: bool = typer.Option(False, "--linger", help="Keep the processes running after the checks."),
         ) -> None:
    """The main job, narrated: validate the examples, then a day of packets through the gateway to the simulated
    national portal, with faults, a dead letter and its replay, and checks / chạy thử toàn bộ luồng."""
    from demo.narrate import run_demo

    run_demo(config, validate_only, folder, day_seconds, seed, linger)


if __name__ == "__main__":
    app()
