"""API keys over real HTTP: added, rotated, suspended and resumed with ``gateway clients`` (the store),
for new and configured clients alike; an address that keeps presenting invalid keys is locked out with
backoff, audited (both stores)."""

from collections.abc import Callable
import json
import re
import time
import uuid

import httpx
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.receive.keys import KEY_PREFIX
from gateway.receive.lockout import Lockout, LockoutPolicy
from gateway.store import open_store

from .test_packets import EXAMPLES, XML

_ID = re.compile(rb"MaGoiTin(?:>|\":\s*\")([0-9a-f-]{36})")


def fresh() -> bytes:
    data = (EXAMPLES / "HoSo.xml").read_bytes()
    return data.replace(_ID.search(data).group(1), str(uuid.uuid4()).encode(), 1)


def send(gateway, key: str) -> int:
    return httpx.post(gateway.url + "/v1/packets", content=fresh(), headers={**XML, "authorization": f"Bearer {key}"},
                      timeout=30).status_code


def eventually(condition: Callable[[], bool], timeout: float = 8.0) -> bool:
    """The API re-reads the managed clients every 2 s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def refused(gateway, key: str) -> bool:
    """The key is refused (waiting for the API to see it); the refusals it took do not count toward a lockout."""
    done = eventually(lambda: send(gateway, key) == 401)
    gateway.app.state.intake.lockout.succeeded("address:127.0.0.1")
    return done


def clients(gateway, *arguments: str) -> str:
    actor = [] if arguments[0] == "list" else ["--actor", "op"]
    result = CliRunner().invoke(cli, ["clients", *arguments, "--config", str(gateway.config.source),
                                      "--store", gateway.config.section("store")["url"], *actor])
    assert result.exit_code == 0, result.output
    return result.output


def shown_key(output: str) -> str:
    (key,) = [line for line in output.splitlines() if line.startswith(KEY_PREFIX)]
    assert len(key) >= 40  # 256 random bits
    return key


def test_keys_added_rotated_suspended_and_resumed_take_effect(gateway) -> None:
    key = shown_key(clients(gateway, "add", "so-y-te", "--agency", "000.00.01.H22", "--type", "HoSo"))
    assert eventually(lambda: send(gateway, key) == 202)
    new_key = shown_key(clients(gateway, "rotate-key", "so-y-te"))
    assert new_key != key
    assert refused(gateway, key)
    assert send(gateway, new_key) == 202
    clients(gateway, "suspend", "so-y-te")
    assert refused(gateway, new_key)
    clients(gateway, "resume", "so-y-te")
    assert eventually(lambda: send(gateway, new_key) == 202)
    # A configured client is suspended and re-keyed the same way: the store overrides the configuration.
    configured = gateway.keys["portal"]
    clients(gateway, "suspend", "portal")
    assert refused(gateway, configured)
    replacement = shown_key(clients(gateway, "rotate-key", "portal"))  # a new key; still suspended
    time.sleep(2.5)
    assert send(gateway, replacement) == 401
    clients(gateway, "resume", "portal")
    assert eventually(lambda: send(gateway, replacement) == 202)
    assert send(gateway, configured) == 401
    listed = {c["name"]: c for c in json.loads(clients(gateway, "list", "--json"))}
    assert listed["so-y-te"] == {**listed["so-y-te"], "defined": "store", "key": "store", "suspended": False,
                                 "agencies": ["000.00.01.H22"], "types": ["HoSo"]}
    assert listed["portal"]["defined"] == "config" and listed["portal"]["key"] == "store"
    assert listed["limited"] == {**listed["limited"], "key": "config", "suspended": False}
    store = open_store(gateway.config.section("store")["url"])
    try:
        actions = [row["action"] for row in store.audit_log("client:so-y-te")]
        assert actions == ["client.resume", "client.suspend", "client.rotate_key", "client.add"]
        assert [row["action"] for row in store.audit_log("client:portal")] == [
            "client.resume", "client.rotate_key", "client.suspend"]
        assert not any(key in json.dumps(row, default=str) or new_key in json.dumps(row, default=str)
                       for row in store.audit_log(limit=1000))  # keys are never kept, not even in the audit
    finally:
        store.close()


def test_adding_a_client_that_exists_is_refused(gateway) -> None:
    where = ["--config", str(gateway.config.source), "--store", gateway.config.section("store")["url"]]
    result = CliRunner().invoke(cli, ["clients", "add", "portal", "--agency", "*", *where])
    assert result.exit_code == 2 and "exists" in result.output
    unscoped = CliRunner().invoke(cli, ["clients", "add", "new-one", *where])  # deny by default: agencies named
    assert unscoped.exit_code == 2 and "--agency is required" in unscoped.output


def test_an_address_presenting_invalid_keys_is_locked_out_audited(gateway) -> None:
    threshold = LockoutPolicy().address_threshold
    assert [send(gateway, f"doan-mo-{n}") for n in range(threshold)] == [401] * threshold
    locked = httpx.post(gateway.url + "/v1/packets", content=fresh(),
                        headers={**XML, "authorization": f"Bearer {gateway.keys['portal']}"}, timeout=30)
    assert locked.status_code == 429 and locked.json()["error"] == "auth.locked"  # the right key does not help
    assert 0 < int(locked.headers["retry-after"]) <= LockoutPolicy().base_seconds
    store = open_store(gateway.config.section("store")["url"])
    try:
        rows = store.audit_log("address:127.0.0.1")  # also each refused key's auth.denied (gateway.receive.denials)
        (row,) = [r for r in rows if r["action"] == "apikey.locked"]
        assert row["actor"] == "api"
        assert {r["action"] for r in rows} <= {"apikey.locked", "auth.denied"}
    finally:
        store.close()


def test_lockout_backs_off_and_forgets() -> None:
    now = [0.0]
    lockout = Lockout(LockoutPolicy(account_threshold=3, base_seconds=10, cap_seconds=35, forget_seconds=600),
                      clock=lambda: now[0])
    keys = ("account:motcua", "address:10.0.0.7")
    assert lockout.failed(*keys) == {} and lockout.failed(*keys) == {}
    assert lockout.retry_after(*keys) == 0
    assert lockout.failed(*keys) == {"account:motcua": 10}  # the third failure locks the account, not the address
    assert lockout.retry_after(*keys) == 10 and lockout.retry_after("address:10.0.0.7") == 0
    now[0] += 11
    assert lockout.retry_after(*keys) == 0
    assert lockout.failed(*keys) == {"account:motcua": 20}  # each further failure doubles the wait …
    now[0] += 21
    assert lockout.failed(*keys) == {"account:motcua": 35}  # … up to the cap
    lockout.succeeded("account:motcua")
    assert lockout.retry_after(*keys) == 0 and lockout.failed(*keys) == {}
    now[0] += 601  # failures long ago no longer count
    assert lockout.failed("account:x") == {} and lockout.failed("account:x") == {}
    small = Lockout(LockoutPolicy(max_keys=2), clock=lambda: now[0])
    for n in range(5):
        small.failed(f"address:10.0.0.{n}")
    assert len(small._counts) == 2  # bounded: an attacker spraying addresses cannot grow it
