"""Shared fixtures of the validation tests: a valid packet, the validator, the CLI, a live API."""

from collections.abc import Callable, Iterator
import copy
import hashlib
import os
from pathlib import Path
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from gateway.config import Config
from gateway.packets import json_codec, xml_codec
from gateway.packets.envelope import GoiTin
from gateway.validate.pipeline import Validator
from tests.validation.strategies import VALID_HO_SO

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = Path(sys.executable).with_name("gateway")
HANG = 120  # seconds: a subprocess still running after this has hung (a detector, not a timing assertion)

@pytest.fixture(autouse=True)
def _no_deployment_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run on the embedded defaults unless they pass a configuration themselves."""
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)


@pytest.fixture(scope="session")
def validator() -> Validator:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GATEWAY_CONFIG", raising=False)
        return Validator(Config.load())


@pytest.fixture
def packet_data() -> dict[str, Any]:
    """A small valid HoSo packet as JSON-shaped data (a fresh copy: tests may edit it)."""
    return copy.deepcopy(VALID_HO_SO)


@pytest.fixture(scope="session")
def valid_xml() -> bytes:
    return xml_codec.encode(GoiTin.model_validate(VALID_HO_SO, strict=True), pretty=True)


@pytest.fixture(scope="session")
def valid_json() -> bytes:
    return json_codec.encode(GoiTin.model_validate(VALID_HO_SO, strict=True), pretty=True)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GATEWAY_CONFIG"} | {"PYTHONUNBUFFERED": "1",
                                                                            "COLUMNS": "200"}


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs the installed ``gateway`` command in a subprocess (from an empty working directory)."""

    def run(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(GATEWAY), *map(str, args)], capture_output=True, text=True, timeout=HANG,
                              cwd=tmp_path, env=clean_env())

    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


API_KEY = "khoa-kiem-tra-goi-tin"  # /v1/validate is behind a key
API_KEY_HEADER = b"X-API-Key: " + API_KEY.encode() + b"\r\n"


class Api:
    """A uvicorn process serving ``create_app`` on 127.0.0.1, run from a directory ``workdir`` holding only
    its configuration: one client, whose key ``post`` sends."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        config = workdir / "gateway.toml"
        config.write_text(f'[clients.tester]\nkey_sha256 = "{hashlib.sha256(API_KEY.encode()).hexdigest()}"\n',
                          encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "gateway.api:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=workdir, env=clean_env() | {"PYTHONPATH": str(ROOT), "GATEWAY_CONFIG": str(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + HANG
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {self.process.stdout.read() if self.process.stdout else ''}")
            try:
                httpx.get(f"{self.url}/healthz", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("uvicorn did not start")

    def post(self, body: bytes, content_type: str) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/validate", content=body,
                          headers={"content-type": content_type, "x-api-key": API_KEY}, timeout=HANG)

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output or ""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    server = Api(tmp_path_factory.mktemp("api-workdir"))
    yield server
    output = server.stop()
    assert "Traceback" not in output, output
