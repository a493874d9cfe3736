"""Several delivery processes from one command: one Python process delivers on about one CPU (its
threads share one interpreter lock), so ``gateway worker --processes N`` starts N of them.

The children are ordinary ``gateway worker`` processes sharing the store: a child that dies (a crash,
SIGKILL, the OOM killer) loses nothing — its leases expire and the others or its replacement take
the jobs — and is started again after ``RESTART_SECONDS``. SIGTERM or SIGINT stops them all cleanly.
"""

from collections.abc import Sequence
import logging
import subprocess
import sys
import threading

log = logging.getLogger("gateway.supervise")

RESTART_SECONDS = 1.0
STOP_SECONDS = 60.0


def child_command(arguments: Sequence[str]) -> list[str]:
    return [sys.executable, "-c", "from gateway.cli import main; main()", "worker", *arguments]


def supervise(arguments: Sequence[str], processes: int, stop: threading.Event) -> None:
    """Keeps ``processes`` workers running with ``arguments`` until ``stop`` is set, then stops them."""
    command = child_command(arguments)
    children: list[subprocess.Popen[bytes]] = [subprocess.Popen(command) for _ in range(processes)]
    log.info("started %d worker processes: %s", processes, ", ".join(str(c.pid) for c in children))
    try:
        while not stop.wait(RESTART_SECONDS):
            for index, child in enumerate(children):
                if (code := child.poll()) is not None:
                    children[index] = subprocess.Popen(command)
                    log.warning("worker process %d ended (exit %s); started %d in its place", child.pid, code,
                                children[index].pid)
    finally:
        for child in children:
            child.terminate()  # SIGTERM: each releases what it claimed and did not send
        for child in children:
            try:
                child.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
