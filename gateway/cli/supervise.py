"""Several delivery processes from one command: one Python process delivers on about one CPU (its
threads share one interpreter lock), so ``gateway worker --processes N`` starts N of them.

The children are ordinary ``gateway worker`` processes sharing the store: a child that dies (a crash,
SIGKILL, the OOM killer) loses nothing — the supervisor sees it end within ``CHECK_SECONDS`` and gives
its leased jobs back at once (``reclaim``), so its dossiers resume on the others instead of waiting
out the leases — and is started again, at most once per ``RESTART_SECONDS``. SIGTERM or SIGINT stops
them all cleanly.
"""

from collections.abc import Callable, Sequence
import logging
import subprocess
import sys
import threading
import time

log = logging.getLogger("gateway.supervise")

CHECK_SECONDS = 0.1
RESTART_SECONDS = 1.0
STOP_SECONDS = 60.0


def child_command(arguments: Sequence[str]) -> list[str]:
    return [sys.executable, "-c", "from gateway.cli import main; main()", "worker", *arguments]


def supervise(arguments: Sequence[str], processes: int, stop: threading.Event,
              reclaim: Callable[[int], int] = lambda pid: 0) -> None:
    """Keeps ``processes`` workers running with ``arguments`` until ``stop`` is set, then stops them;
    ``reclaim(pid)`` gives back the jobs a dead child held (how many)."""
    command = child_command(arguments)
    children: list[subprocess.Popen[bytes]] = [subprocess.Popen(command) for _ in range(processes)]
    started = [time.monotonic()] * processes
    dead: set[int] = set()  # pids ended and reclaimed, waiting for their restart
    log.info("started %d worker processes: %s", processes, ", ".join(str(c.pid) for c in children))
    try:
        while not stop.wait(CHECK_SECONDS):
            for index, child in enumerate(children):
                if (code := child.poll()) is None:
                    continue
                if child.pid not in dead:
                    try:
                        log.warning("worker process %d ended (exit %s); %d of its jobs given back", child.pid, code,
                                    reclaim(child.pid))
                    except Exception:  # the store unreachable: the leases expire instead
                        log.exception("giving back the jobs of worker process %d failed", child.pid)
                    dead.add(child.pid)
                if time.monotonic() - started[index] >= RESTART_SECONDS:
                    children[index], started[index] = subprocess.Popen(command), time.monotonic()
                    dead.discard(child.pid)
                    log.warning("worker process %d: started %d in its place", child.pid, children[index].pid)
    finally:
        for child in children:
            child.terminate()  # SIGTERM: each releases what it claimed and did not send
        for child in children:
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
