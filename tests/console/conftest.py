"""The console against a seeded store, on SQLite and PostgreSQL; accounts made as `gateway operators add` makes them."""

from collections.abc import Iterator
import re
import time
from typing import Any

from fastapi.testclient import TestClient
import pytest

from gateway.config import Config
from gateway.console.accounts import Accounts
from gateway.api import create_app
from gateway.store import Store
from tests.console.seed import AGENCY_A, Seeded, seed

PASSWORD = "mật-khẩu-ban-đầu-1"
NEW_PASSWORD = "mật khẩu mới đủ dài 2026"


def console_config(store_url: str) -> Config:
    config = Config.load()
    return Config({**config.raw, "store": {**config.section("store"), "url": store_url},
                   "console": {**config.section("console"), "secure_cookie": False}}, config.source)


@pytest.fixture
def seeded(store: Store) -> Seeded:
    return seed(store)


@pytest.fixture
def accounts(store: Store) -> Accounts:
    accounts = Accounts(store.engine)
    accounts.add("quantri", PASSWORD, "admin", ["*"])
    accounts.add("vanhanh_a", PASSWORD, "operator", [AGENCY_A])
    accounts.add("vanhanh_chung", PASSWORD, "operator", ["*"])  # an operator of all agencies
    accounts.add("xem_a", PASSWORD, "viewer", [AGENCY_A])
    return accounts


@pytest.fixture
def client(store_url: str, store: Store, seeded: Seeded, accounts: Accounts) -> Iterator[TestClient]:
    with TestClient(create_app(console_config(store_url)), base_url="http://localhost") as test_client:
        yield test_client


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF field on the page"
    return match.group(1)


def replay_finished(client: TestClient, page: Any, timeout: float = 20.0) -> dict[str, Any]:
    """Follows a bulk replay's progress (what console.js polls) until it is finished."""
    match = re.search(r'data-progress="([^"]+)"', page.text)
    if match is None:  # finished before the page was drawn
        match = re.search(r"/console/dead/replay/[0-9a-f]{32}", str(page.url))
        assert match, page.text[:500]
        url = match.group(0) + "/progress"
    else:
        url = match.group(1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = client.get(url).json()
        if state["finished"]:
            return state
        time.sleep(0.05)
    raise AssertionError("the replay did not finish")


def log_in(client: TestClient, username: str, password: str = PASSWORD, new: str = NEW_PASSWORD) -> Any:
    """Logs in, changing the first-login password; returns the overview's response."""
    answer = client.post("/console/login", data={"username": username, "password": password})
    if answer.url.path == "/console/password":
        answer = client.post("/console/password", data={"csrf": csrf_of(answer.text), "current": password,
                                                        "new": new, "repeat": new})
    assert answer.status_code == 200 and answer.url.path == "/console/", answer.text[:500]
    return answer
