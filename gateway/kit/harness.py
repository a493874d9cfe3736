"""Running a peer's simulator (or any local stand-in) for tests and the demo: an ASGI app served by uvicorn
on a free localhost port in a thread, or a command as a subprocess with its output in a log, each waited
for until it answers and stopped at the end; and the client of a simulator's ``/_admin`` endpoints
(faults, sessions, its record, counters), which every simulator of a connector offers alike."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
import json
import os
from pathlib import Path
import shlex
import signal
import socket
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

from gateway.messages import line

if TYPE_CHECKING:
    from fastapi import FastAPI


class StartFailed(RuntimeError):
    """A stand-in did not come up; the message says which and, for a process, its log's tail."""


_GIVEN: set[int] = set()


def free_port() -> int:
    """A port free now and not handed out before by this process: once the probe's socket is closed the kernel may
    offer the same port again (a CI run gave the demo's gateway and its TSA one port)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


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


class Served:
    """An ASGI app served on localhost in a thread of this process."""

    def __init__(self, app: Any, port: int | None = None, start_seconds: float = 10.0) -> None:
        import uvicorn

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.start_seconds = start_seconds

    def start(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + self.start_seconds
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise StartFailed(f"{self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> "Served":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def process(name: str, argv: list[str], health: str | Callable[[], bool], log: Path,
            env: dict[str, str] | None = None, start_seconds: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """Starts ``argv`` with its output in ``log``, waits for ``health`` to answer 200 (or to say it is up),
    stops it with SIGTERM on exit (killed if it does not stop within 30 s)."""
    ready: Callable[[], bool] = health if callable(health) else partial(healthy, health)
    with log.open("ab") as out:
        out.write(f"$ {shlex.join(argv)}\n".encode())
        out.flush()
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + start_seconds
        while not ready():
            if child.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
                raise StartFailed(f"{name} {line('kit.did_not_start')} (log: {log}):\n{tail}")
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


class AdminClient:
    """A simulator's ``/_admin`` endpoints."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=timeout, trust_env=False)

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Switches faults on or off (``error_rate=0.3``, ``maintenance=True``, …); the faults now in force."""
        answer = self.http.post("/_admin/faults", json=changes)
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]  # the simulator's admin answers a JSON object

    def session_ttl(self, seconds: float) -> None:
        self.http.post("/_admin/session_ttl", json={"seconds": seconds}).raise_for_status()

    def revoke_sessions(self) -> int:
        return int(self.http.post("/_admin/sessions/revoke").json()["revoked"])

    def record(self, code: str | None = None) -> Any:
        """What the peer holds (of one dossier, or all); None when it holds nothing of it."""
        answer = self.http.get(f"/_admin/record/{code}" if code else "/_admin/record")
        return answer.json() if answer.status_code == 200 else None

    def stats(self) -> dict[str, Any]:
        return self.http.get("/_admin/stats").json()  # type: ignore[no-any-return]  # the simulator's admin answers a JSON object

    def reset(self) -> None:
        self.http.post("/_admin/reset").raise_for_status()

    def close(self) -> None:
        self.http.close()


def add_fault_routes(app: "FastAPI", faults: Any, reseed: Callable[[int], None]) -> None:
    """A simulator's ``GET``/``POST /_admin/faults``: read its fault switches, or change some of them
    (JSON object; ``faults.update`` refuses unknown names and bad values → 400); a new ``seed`` reseeds
    its random draws through ``reseed``."""
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response

    @app.get("/_admin/faults")
    async def get_faults() -> dict[str, Any]:
        return faults.to_dict()  # type: ignore[no-any-return]  # each simulator's Faults dataclass

    @app.post("/_admin/faults")
    async def set_faults(request: Request) -> Response:
        try:
            changes = json.loads(await request.body() or b"{}")
            faults.update(changes)
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if "seed" in changes:
            reseed(faults.seed)
        return JSONResponse(faults.to_dict())
