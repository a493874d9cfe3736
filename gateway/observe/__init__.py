"""Observability: /metrics (Prometheus) and /readyz, installed whether or not the console is."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI

from gateway.config import Config
from gateway.observe import metrics, ready

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["install", "metrics", "ready"]


def install(app: FastAPI, config: Config, engine: Callable[[], sa.Engine]) -> None:
    """/readyz always; /metrics (and timing the intake) only with ``[observability] metrics`` on, behind its access
    rule (``metrics_token_env``, ``metrics_networks``)."""
    section = config.section("observability")
    ready.install(app, engine, int(section.get("workers_required", 0)))
    if bool(section.get("metrics", True)):
        access = metrics.Access(str(section.get("metrics_token_env", "")),
                                [str(n) for n in section.get("metrics_networks", [])])
        metrics.install(app, engine, access=access)
