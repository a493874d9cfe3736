"""A real gateway API (uvicorn on a free 127.0.0.1 port) over the ``store`` URL under test."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from gateway.config import Config
from gateway.api import create_app

KEYS = {"portal": "khoa-mot-cua-tinh-7f3a", "limited": "khoa-so-nganh", "typed": "khoa-buu-chinh"}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


CLIENTS = f"""
[clients.portal]
key_sha256 = "{sha(KEYS['portal'])}"

[clients.limited]
key_sha256 = "{sha(KEYS['limited'])}"
agencies = ["000.00.99.H99"]

[clients.typed]
key_sha256 = "{sha(KEYS['typed'])}"
types = ["VanDonBuuChinh"]
"""


@dataclass
class Gateway:
    url: str
    app: object
    config: Config
    keys: dict[str, str]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_gateway(store_url: str, tmp_path: Path) -> Iterator[Callable[[str], Gateway]]:
    """Starts gateways on the ``store`` URL, each with the test clients and ``extra`` configuration."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(extra: str = "") -> Gateway:
        config_file = tmp_path / f"gateway-{len(servers)}.toml"
        config_file.write_text(f'[store]\nurl = "{store_url}"\nbatch_wait_ms = 1\n{CLIENTS}\n{extra}',
                               encoding="utf-8")
        config = Config.load(config_file)
        app = create_app(config)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="on"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.02)
        return Gateway(f"http://127.0.0.1:{port}", app, config, KEYS)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def gateway(start_gateway: Callable[[str], Gateway]) -> Gateway:
    return start_gateway("")
