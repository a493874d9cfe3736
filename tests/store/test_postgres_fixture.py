"""The shared ``store`` fixture: an unreachable PostgreSQL skips with a clear message, unless
GATEWAY_REQUIRE_POSTGRES=1 (CI), where it fails."""

import os
from pathlib import Path
import socket
import subprocess
import sys

ROOT = Path(__file__).parents[2]
TEST = "tests/store/test_store.py::test_times_are_aware_utc"


def run_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    environment = {**os.environ, "GATEWAY_TEST_POSTGRES": f"postgresql://postgres@127.0.0.1:{port}/test", **env}
    return subprocess.run([sys.executable, "-m", "pytest", TEST, "-q", "-rs", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_unreachable_postgres_skips_with_the_reason() -> None:
    done = run_with({"GATEWAY_REQUIRE_POSTGRES": "0"})
    assert done.returncode == 0, done.stdout
    assert "1 passed, 1 skipped" in done.stdout and "unreachable" in done.stdout


def test_unreachable_postgres_fails_when_required() -> None:
    done = run_with({"GATEWAY_REQUIRE_POSTGRES": "1"})
    assert done.returncode != 0 and "GATEWAY_REQUIRE_POSTGRES=1" in done.stdout
