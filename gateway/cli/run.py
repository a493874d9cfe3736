"""``gateway run``: the API and delivery in one process (the embedded default)."""

from typing import Annotated

import typer

from gateway.cli import app
from gateway.cli.common import StoreOption, open_configured_store
from gateway.cli.validate import ConfigOption, load_config
from gateway.cli.worker import start_engine
from gateway.config import Config
from gateway import registry
from gateway.observe.logs import setup as setup_logging
from gateway.pii import mask_logs


@app.command()
def run(config: ConfigOption = None, store: StoreOption = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080) -> None:
    """The API and delivery in one process (embedded default) / API và chuyển tiếp trong một tiến trình."""
    import uvicorn

    from gateway.api import create_app
    from gateway.receive.limits import server_options

    setup_logging()  # text, or JSON lines with GATEWAY_LOG_FORMAT=json
    mask_logs()
    cfg = load_config(config)
    if store:
        cfg = Config({**cfg.raw, "store": {**cfg.section("store"), "url": store}}, cfg.source)
    opened = open_configured_store(cfg, store)
    engine = start_engine(cfg, opened)
    api = create_app(cfg)
    tasks = registry.start_tasks(cfg, api.state.intake)  # the API's own intake originates the tasks' packets
    try:
        uvicorn.run(api, host=host, port=port, log_level="warning", **server_options(cfg))
    finally:
        tasks.stop()
        engine.stop()
        opened.close()
