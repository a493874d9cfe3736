"""``gateway serve``: the HTTP API (POST /v1/packets, /v1/validate) — delivery runs in ``gateway worker``."""

import os
from typing import Annotated

import typer

from gateway.cli import app
from gateway.observe.logs import setup as setup_logging
from gateway.cli.validate import ConfigOption, load_config
from gateway.cli.common import StoreOption, open_configured_store
from gateway.pii import mask_logs


@app.command()
def serve(config: ConfigOption = None, store: StoreOption = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
          workers: Annotated[int, typer.Option(help="API processes (they share the store).")] = 1) -> None:
    """Nhận gói tin qua HTTP / accept packets over HTTP (POST /v1/packets)."""
    import uvicorn

    setup_logging()  # text, or JSON lines with GATEWAY_LOG_FORMAT=json
    mask_logs()
    if config:
        os.environ["GATEWAY_CONFIG"] = str(config.resolve())
    if store:
        os.environ["GATEWAY_STORE_URL"] = store
    cfg = load_config(config)  # fails early, with the key named, before any process starts
    open_configured_store(cfg, store).close()  # migrate once, before several processes race to
    from gateway.receive.limits import server_options

    # uvicorn kills a server process that misses a 5 s health ping; on a busy host a process still importing
    # misses it and is restarted over and over (seen at load 15 on 2 CPUs): 30 s before calling it hung
    uvicorn.run("gateway.cli.serve:make_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", access_log=False, timeout_worker_healthcheck=30, **server_options(cfg))


def make_app():  # type: ignore[no-untyped-def]  # uvicorn's factory: imports FastAPI only in the server process
    """The app each server process builds, from $GATEWAY_CONFIG and $GATEWAY_STORE_URL."""
    from gateway.config import Config
    from gateway.api import create_app

    config = Config.load()
    if url := os.environ.get("GATEWAY_STORE_URL"):
        config = Config({**config.raw, "store": {**config.section("store"), "url": url}}, config.source)
    return create_app(config)
