"""Closing what an endpoint opened (store, HTTP sessions) when the app shuts down."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool


def close_on_shutdown(app: FastAPI, close: Callable[[], None]) -> None:
    """Wraps the app's lifespan so ``close`` runs (in a thread: it may block) after every earlier one."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        try:
            async with previous(app_) as state:
                yield state
        finally:
            await run_in_threadpool(close)

    app.router.lifespan_context = lifespan
