"""PostgreSQL restarted mid-run — a throwaway cluster this test starts itself (initdb and pg_ctl, run
as the ``postgres`` user when the test runs as root), never the shared server — while the API and two
workers run and are SIGKILLed at random moments (test_crash's run): twice the server stops at once
(``-m immediate``, as a crash) and comes back. Nothing is lost, each dossier's order holds, repeats
are the same packet under the same key."""

from collections.abc import Iterator
import glob
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from gateway.deliver.traffic import Traffic
from gateway.store.api import JobFilter, open_store

from tests.delivery.test_crash import DEST, GATEWAY, Process, _run, free_port, write_config


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on its own port."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) on this machine")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *arguments: str) -> None:
        done = subprocess.run([*self.as_user, str(self.bin / tool), *arguments], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"{tool}: {done.stdout}\n{done.stderr}"

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "start", "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    running = Cluster()
    try:
        running.init()
        running.start()
        yield running
    finally:
        running.remove()


def restart_twice(cluster: Cluster, store, started: threading.Event, log: list[str]) -> None:
    started.wait()
    for down in (1.0, 3.0):
        time.sleep(4.0)
        cluster.stop("immediate")  # as a crash: no checkpoint, every session cut
        log.append(f"down at {time.monotonic():.1f} for {down} s")
        time.sleep(down)
        cluster.start()
    store.engine.dispose()  # the test's own pooled sessions died with the server


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_restarted_mid_run_loses_nothing(cluster, peer, tmp_path):
    store = open_store(cluster.url)
    try:
        key = os.urandom(16).hex()
        config = write_config(tmp_path / "gateway.toml", cluster.url, peer, key)
        env = {**os.environ, "GATEWAY_CONFIG": str(config)}
        port = free_port()
        api = Process("api", [sys.executable, "-m", "uvicorn", "--factory", "gateway.api:create_app",
                              "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env,
                      tmp_path / "api.log")
        workers = [Process(f"worker{i}", [*GATEWAY, "worker", "--name", f"w{i}"], env, tmp_path / f"worker{i}.log")
                   for i in range(2)]
        traffic = Traffic(seed=5432)
        dossiers = [traffic.dossier(n, steps=5, encoding="json" if n % 3 else "xml") for n in range(1, 201)]
        total = sum(len(d) for d in dossiers)
        started, restarts = threading.Event(), []
        restarter = threading.Thread(target=restart_twice, args=(cluster, store, started, restarts), daemon=True)
        restarter.start()
        for process in (api, *workers):
            process.start()
        started.set()
        try:
            _run(store, peer, f"http://127.0.0.1:{port}", key, api, workers, dossiers, total, 240)
        finally:
            restarter.join(60)
            for process in (api, *workers):
                process.stop()
        assert len(restarts) == 2, "the server went down twice during the run"
        print(f"PostgreSQL restarts: {restarts}")
        assert store.count_jobs(JobFilter(destination=DEST)) == total
    finally:
        store.close()
