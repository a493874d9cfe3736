"""The simulator as operators and the demo run it: ``python -m connectors.national_portal.simulator``."""

from collections.abc import Iterator
import os
import subprocess
import sys
import time

import httpx
import pytest

from connectors.national_portal.client import ClassicClient
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer

from .conftest import dossier_code, free_port, make_dossier


@pytest.fixture
def process_url() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "GATEWAY_PORTAL_USERNAME": "demo-user", "GATEWAY_PORTAL_PASSWORD": "demo-pass"}
    process = subprocess.Popen([sys.executable, "-m", "connectors.national_portal.simulator", "--port", str(port),
                                "--session-ttl", "60", "--faults", '{"exists_code": -3}'], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", trust_env=False).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"simulator did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_runs_as_a_process_with_credentials_from_the_environment(process_url: str, transformer: Transformer) -> None:
    settings = PortalSettings(adapter_url=process_url, username="demo-user", password="demo-pass")
    client = ClassicClient(settings, transformer)
    code = dossier_code()
    assert client.sync_dossier(make_dossier(code).body, updating=False)[0].ok
    again, _ = client.sync_dossier(make_dossier(code).body, updating=False)
    assert again.code == "-3"  # the --faults option took effect
    record = httpx.get(f"{process_url}/_admin/record", trust_env=False).json()
    assert record["dossier_count"] == 1 and code in record["dossiers"]
    client.close()
