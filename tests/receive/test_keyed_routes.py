"""Issue 14 item 4 over real HTTP, on both stores: wrong keys on /v1/validate and /v1/evidence count toward
the address lockout as on /v1/packets; the evidence export is within the client's limits; the managed key
table is never read from the store on the thread that authenticates (the event loop)."""

from collections.abc import Callable
import threading

import httpx

from gateway.receive.auth import Client
from gateway.receive.keys import ManagedClients
from gateway.store import ApiClientRecord

from .conftest import Gateway, sha
from .test_packets import XML, example, post

AUDITOR = "khoa-kiem-toan-3b9e"
EVIDENCE = f'[clients.auditor]\nkey_sha256 = "{sha(AUDITOR)}"\nevidence = true\n'


def test_wrong_keys_on_validate_and_evidence_lock_the_address(start_gateway: Callable[[str], Gateway]) -> None:
    gateway = start_gateway("[lockout]\naddress_threshold = 4\n" + EVIDENCE)
    wrong = {"authorization": "Bearer doan-mo"}
    assert httpx.post(gateway.url + "/v1/validate", content=example("HoSo"), headers={**XML, **wrong},
                      timeout=30).status_code == 401
    assert httpx.post(gateway.url + "/v1/validate", content=example("HoSo"), headers={**XML, **wrong},
                      timeout=30).status_code == 401
    assert httpx.get(gateway.url + "/v1/evidence/000.00.01.H22-241201-0001", headers=wrong,
                     timeout=30).status_code == 401
    assert httpx.get(gateway.url + "/v1/evidence/000.00.01.H22-241201-0001", headers=wrong,
                     timeout=30).status_code == 401  # the fourth wrong key: the address is locked now
    for answer in (post(gateway, example("HoSo"), XML),  # the right key does not help, on any route
                   httpx.post(gateway.url + "/v1/validate", content=example("HoSo"),
                              headers={**XML, "authorization": f"Bearer {gateway.keys['portal']}"}, timeout=30),
                   httpx.get(gateway.url + "/v1/evidence/x", headers={"authorization": f"Bearer {AUDITOR}"},
                             timeout=30)):
        assert answer.status_code == 429 and answer.json()["error"] == "auth.locked"
        assert int(answer.headers["retry-after"]) > 0
    rows = gateway.app.state.intake.store.audit_log("address:127.0.0.1")
    # the 401s' own entries (batched: written by now or not) share the subject; the lock is there once
    assert [row["action"] for row in rows if row["action"] != "auth.denied"] == ["apikey.locked"]


def test_the_evidence_export_is_within_the_clients_limits(start_gateway: Callable[[str], Gateway]) -> None:
    gateway = start_gateway("[limits]\nclient_rate = 0.2\nclient_burst = 1\n" + EVIDENCE)
    data = example("HoSo")
    assert post(gateway, data, XML).status_code == 202
    auditor = {"authorization": f"Bearer {AUDITOR}"}
    first = httpx.get(gateway.url + "/v1/evidence/000.00.01.H22-241201-0001", headers=auditor, timeout=60)
    assert first.status_code == 200 and first.headers["content-type"] == "application/zip"
    second = httpx.get(gateway.url + "/v1/evidence/000.00.01.H22-241201-0001", headers=auditor, timeout=60)
    assert second.status_code == 429 and second.json()["error"] == "limit.rate"
    assert int(second.headers["retry-after"]) >= 1


def test_the_key_table_is_read_on_a_thread_of_its_own() -> None:
    """A store that does not answer does not hold up authentication: the table answers from the rows last
    read, and the new rows count once the background read is done."""
    release, asked = threading.Event(), []
    row = ApiClientRecord("added", "ab" * 32, None, None, False)

    class SlowStore:
        def api_clients(self) -> list[ApiClientRecord]:
            asked.append(threading.current_thread())
            assert release.wait(30)
            return [row]

    managed = ManagedClients(lambda: SlowStore(), refresh_seconds=0.0)
    configured = {"cd" * 32: Client("portal")}
    assert managed.table(configured) == configured  # answered while the store is still being asked
    assert managed.table(configured) == configured and len(asked) <= 1  # one read at a time
    release.set()
    for _ in range(300):
        if "ab" * 32 in managed.table(configured):
            break
        threading.Event().wait(0.01)
    assert managed.table(configured)["ab" * 32].name == "added"
    assert asked and threading.current_thread() not in asked
    managed.close()


def test_the_address_lockout_is_shared_between_api_processes(start_gateway: Callable[[str], Gateway]) -> None:
    """Two gateways on one store: two wrong keys at each (threshold 4) lock the address at both — neither
    saw four alone — and the right key then gets 429 at both; a request never reads the store for it."""
    first, second = (start_gateway("[lockout]\naddress_threshold = 4\n") for _ in range(2))
    wrong = {**XML, "authorization": "Bearer doan-mo"}
    for gateway in (first, second, first, second):
        assert httpx.post(gateway.url + "/v1/packets", content=example("HoSo"), headers=wrong,
                          timeout=30).status_code == 401
    for gateway in (first, second):  # each process counted two: alone, neither would lock
        local = gateway.app.state.intake.lockout._counts["address:127.0.0.1"]
        assert local.failures == 2 and local.until == 0.0
    for gateway in (first, second):
        gateway.app.state.intake.lockout.shared.sync()  # both processes' failures written, locks read back
    for gateway in (first, second):
        answer = post(gateway, example("HoSo"), XML)  # the right key
        assert answer.status_code == 429 and answer.json()["error"] == "auth.locked", answer.text
        assert int(answer.headers["retry-after"]) > 0
