"""Closing what an endpoint opened (store, HTTP sessions) when the app shuts down; duties run while it serves."""

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


def run_while_serving(app: FastAPI, start: Callable[[], None], stop: Callable[[], None]) -> None:
    """Wraps the app's lifespan so ``start`` runs after every earlier startup and ``stop`` before every
    earlier shutdown (both in a thread: they may block)."""
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with previous(app_) as state:
            await run_in_threadpool(start)
            try:
                yield state
            finally:
                await run_in_threadpool(stop)

    app.router.lifespan_context = lifespan
