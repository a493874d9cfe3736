"""The demo's local processes — the gateway (``gateway run``), the simulated national portal and the
test timestamp authority — each a real subprocess writing its log to the demo's folder, stopped with
SIGTERM at the end."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
import os
from pathlib import Path
import shlex
import signal
import socket
import subprocess
import sys
import time

import httpx

GATEWAY = [sys.executable, "-c", "from gateway.cli import main; main()"]


class StartFailed(RuntimeError):
    """A process did not come up; the message names its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def process(name: str, argv: list[str], health: str | Callable[[], bool], log: Path,
            env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Starts ``argv`` with its output in ``log``, waits for ``health`` to answer 200 (or to say it is up),
    stops it on exit."""
    ready: Callable[[], bool] = health if callable(health) else partial(healthy, health)
    with log.open("ab") as out:
        out.write(f"$ {shlex.join(argv)}\n".encode())
        out.flush()
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 60
        while not ready():
            if child.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
                raise StartFailed(f"{name} không khởi động được / did not start (log: {log}):\n{tail}")
            time.sleep(0.1)
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def simulator(port: int, folder: Path, env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return process("Cổng DVC quốc gia mô phỏng / the portal simulator",
                   [sys.executable, "-m", "connectors.national_portal.simulator", "--port", str(port)],
                   f"http://127.0.0.1:{port}/healthz", folder / "simulator.log", env)


def tsa(port: int, root_out: Path, folder: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The test TSA (``signing.tsa_server``); up once it has written its root and listens."""
    return process("TSA thử nghiệm / the test TSA",
                   [sys.executable, "-m", "signing.tsa_server", "--port", str(port), "--root-out", str(root_out)],
                   lambda: root_out.exists() and listening(port), folder / "tsa.log", {})


def gateway(config: Path, port: int, folder: Path,
            env: dict[str, str]) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return process("Cổng kết nối / the gateway", [*GATEWAY, "run", "--config", str(config), "--port", str(port)],
                   f"http://127.0.0.1:{port}/healthz", folder / "gateway.log", env)


def cli(args: list[str], env: dict[str, str], log: Path) -> tuple[int, str]:
    """One ``gateway`` command as an operator would type it; its output is also appended to ``log``."""
    done = subprocess.run([*GATEWAY, *args], capture_output=True, text=True, env={**os.environ, **env,
                                                                                   "COLUMNS": "160"}, timeout=120)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ gateway {shlex.join(args)}\n{done.stdout}{done.stderr}\n")
    return done.returncode, done.stdout + done.stderr
