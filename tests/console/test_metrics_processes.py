"""/metrics under several server processes (prometheus-client's multiprocess mode): what any process answers
adds up every process's counts, and the store's figures are the store's. Two `gateway serve` processes share
one PROMETHEUS_MULTIPROC_DIR and one store, as `--workers 2` would, each searched in turn, so the test knows
which process counted what."""

import os
from pathlib import Path
import re
import subprocess
import sys
import time

import httpx

from gateway.console.accounts import Accounts
from gateway.store import open_store
from tests.conftest import REPO
from tests.console.conftest import NEW_PASSWORD, PASSWORD
from tests.console.seed import seed
from tests.console.test_browser import _free_port


def test_two_workers_report_one_truth(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    store = open_store(url)
    seeded = seed(store, dossiers=6)
    Accounts(store.engine).add("quantri", PASSWORD, "admin", ["*"])
    store.close()
    (tmp_path / "site.toml").write_text(f'[store]\nurl = "{url}"\n[console]\nsecure_cookie = false\n')
    (tmp_path / "prom").mkdir()
    ports = [_free_port(), _free_port()]
    env = {**os.environ, "PYTHONPATH": str(REPO), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    servers = [subprocess.Popen([str(Path(sys.executable).with_name("gateway")), "serve", "--config",
                                 str(tmp_path / "site.toml"), "--port", str(port)], cwd=tmp_path, env=env,
                                stdout=(tmp_path / f"serve-{port}.log").open("wb"), stderr=subprocess.STDOUT)
               for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, port in zip(bases, ports):
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(base + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, (tmp_path / f"serve-{port}.log").read_text()[-2000:]
                    time.sleep(0.3)
        searches = 12
        with httpx.Client(base_url=bases[0], follow_redirects=True) as client:
            answer = client.post("/console/login", data={"username": "quantri", "password": PASSWORD})
            csrf = re.search(r'name="csrf" value="([^"]+)"', answer.text).group(1)
            client.post("/console/password", data={"csrf": csrf, "current": PASSWORD, "new": NEW_PASSWORD,
                                                   "repeat": NEW_PASSWORD})
            for n in range(searches):  # the session lives in the store: it works on either process
                client.get(bases[n % 2] + "/console/search", params={"dossier": next(iter(seeded.dossiers))})
        for base in bases:
            text = httpx.get(base + "/metrics").text
            assert f'gateway_console_lookups_total{{account="quantri",kind="search"}} {float(searches)}' in text
            assert f"gateway_packets_accepted_total {float(seeded.packets)}" in text
        assert len(list((tmp_path / "prom").glob("*.db"))) >= 2  # both processes wrote their own file
    finally:
        for server in servers:
            server.terminate()
            server.wait(20)
