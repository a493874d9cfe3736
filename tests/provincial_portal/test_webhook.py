"""The provincial portal as a destination, over real HTTP on both stores: packets the gateway holds go out
as a signed webhook (detached JWS verified by the simulator against the gateway's CA), retried on 5xx,
in order per dossier, dead-lettered on a refusal or a signature the portal does not trust."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
from typing import Any
import uuid

import httpx
import pytest

from connectors.provincial_portal.simulator.app import PortalSimulatorSettings, create_app as portal_app
from gateway.config import Config
from gateway.deliver.engine import Engine, make_connector
from gateway.deliver.policy import policy_from
from gateway.api import create_app
from gateway.store.api import JobFilter, Store
from signing.trust import TrustPolicy
from tests.payment.conftest import AGENCY, API_KEY, EXAMPLES, serve, wait_for

pytestmark = pytest.mark.postgres
DEST = "provincial_portal"


@dataclass
class Setup:
    url: str
    portal: str
    store: Store

    def submit(self, kind: str, dossier: str, **fields: Any) -> str:
        packet = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
        packet["MaGoiTin"] = str(uuid.uuid4())
        packet["NoiGui"] = AGENCY
        packet["NoiDung"][kind].update(MaHoSo=dossier, **fields)
        response = httpx.post(f"{self.url}/v1/packets", content=json.dumps(packet, ensure_ascii=False).encode(),
                              headers={"X-API-Key": API_KEY, "Content-Type": "application/json"}, timeout=10)
        assert response.status_code == 202, response.text
        return str(packet["MaGoiTin"])

    def faults(self, **changes: Any) -> None:
        httpx.post(f"{self.portal}/_admin/faults", json=changes, timeout=5).raise_for_status()

    def record(self) -> dict[str, Any]:
        return httpx.get(f"{self.portal}/_admin/record", timeout=5).json()

    def job(self, packet_id: str, state: str) -> Any:
        return wait_for(lambda: [j for j in self.store.find_jobs(JobFilter(destination=DEST, state=state))
                                 if j.packet_id == packet_id], 30, f"job {packet_id} {state}")[0]


@pytest.fixture
def make_setup(pki: Any, store_url: str, store: Store, tmp_path: Path) -> Iterator[Callable[..., Setup]]:
    stops: list[Callable[[], None]] = []

    def make(signer: str = "gateway-test") -> Setup:
        issued = pki.issued.get(signer) or pki.issue_signer(signer)
        trust = TrustPolicy.from_paths("gateway", anchors=[pki["root"].cert_path],
                                       intermediates=[pki["intermediate"].cert_path])
        portal_url, portal_server, portal_thread = serve(portal_app(PortalSimulatorSettings(trust)))
        config_file = tmp_path / "gateway.toml"
        config_file.write_text(f"""
[store]
url = "{store_url}"
batch_wait_ms = 1
[console]
enabled = false
[signing]
key = "{issued.key_path}"
cert = "{issued.cert_path}"
[clients.mot_cua]
key_sha256 = "{hashlib.sha256(API_KEY.encode()).hexdigest()}"
agencies = ["{AGENCY}"]
[destinations.{DEST}]
url = "{portal_url}/webhook"
max_batch = 10
backoff_base_seconds = 0.02
backoff_cap_seconds = 0.1
max_attempts = 6
""", encoding="utf-8")
        config = Config.load(config_file)
        url, server, thread = serve(create_app(config))
        policy = policy_from(DEST, config.section("destinations")[DEST])
        engine = Engine(store, {DEST: policy}, connectors={DEST: make_connector(policy, config)},
                        poll_seconds=0.01, hold_check_seconds=0.05).start()

        def stop() -> None:
            engine.stop(5)
            server.should_exit = portal_server.should_exit = True
            thread.join(10)
            portal_thread.join(10)
        stops.append(stop)
        return Setup(url, portal_url, store)

    yield make
    for stop in stops:
        stop()


def test_signed_webhook_delivered_and_recorded(make_setup: Callable[..., Setup]) -> None:
    setup = make_setup()
    dossier = f"{AGENCY}-241201-8001"
    packet_id = setup.submit("BienLaiThanhToan", dossier)
    setup.job(packet_id, "delivered")
    got = setup.record()["received"][packet_id]
    assert got["LoaiGoiTin"] == "BienLaiThanhToan" and got["packet"]["NoiDung"]["BienLaiThanhToan"]["MaHoSo"] == dossier
    assert got["signature"].startswith("passed")


def test_steps_of_a_dossier_arrive_in_order_after_retries(make_setup: Callable[..., Setup]) -> None:
    setup = make_setup()
    setup.faults(fail_next=3)
    dossier = f"{AGENCY}-241201-8002"
    ids = [setup.submit("TrangThaiVanDon", dossier, MaTrangThai=str(code)) for code in (1, 2, 3, 4)]
    for packet_id in ids:
        setup.job(packet_id, "delivered")
    record = setup.record()
    assert record["order"][dossier] == ids
    assert [c["answer"] for c in record["calls"][:3]] == [503, 503, 503]
    attempts = setup.store.attempts_of([f"{ids[0]}/{DEST}"])[f"{ids[0]}/{DEST}"]
    assert len(attempts) >= 4 and attempts[-1].outcome == "delivered"


def test_refusal_is_a_dead_letter_with_the_portals_words(make_setup: Callable[..., Setup]) -> None:
    setup = make_setup()
    setup.faults(refuse_types=["TrangThaiVanDon"])
    packet_id = setup.submit("TrangThaiVanDon", f"{AGENCY}-241201-8003")
    job = setup.job(packet_id, "dead")
    assert "không nhận loại" in (job.last_error or "")
    assert packet_id not in setup.record()["received"]


def test_untrusted_gateway_key_is_refused_by_the_portal(make_setup: Callable[..., Setup]) -> None:
    setup = make_setup(signer="rogue_signer")
    packet_id = setup.submit("BienLaiThanhToan", f"{AGENCY}-241201-8004")
    job = setup.job(packet_id, "dead")
    assert "401" in str(job.last_error) or "signature" in str(job.last_error)
    assert setup.record()["calls"][0]["answer"] == 401 and not setup.record()["received"]
