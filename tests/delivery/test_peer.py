"""The local destination is driven over HTTP, as the demo and the benchmark drive it."""

import httpx

from demo.testpeer import FaultyPeer
from gateway.deliver.traffic import Packet, Traffic


def test_faults_and_deliveries_over_http():
    packets = Traffic(seed=4).dossier(1, 1)
    with FaultyPeer() as peer, httpx.Client(base_url=peer.base, timeout=5) as client:
        assert client.post("/_faults", json={"fail_next": 1}).json()["fail_next"] == 1
        assert client.post("/_faults", json={"no_such_fault": 1}).status_code == 400

        def send(p: Packet) -> httpx.Response:
            return client.post("/national_portal", content=p.raw,
                               headers={"Idempotency-Key": p.packet_id, "Content-Type": p.content_type})

        assert send(packets[0]).status_code == 500
        assert send(packets[0]).status_code == 200 and send(packets[1]).status_code == 200
        missing = client.post("/national_portal", content=packets[0].raw, headers={"Content-Type": "application/json"})
        assert missing.status_code == 400
        recorded = client.get("/_deliveries").json()
        assert recorded["count"] == 2
        assert [(d["key"], d["dossier"]) for d in recorded["deliveries"]] == [(p.packet_id, p.dossier) for p in packets]
        assert client.get("/_deliveries?since=1").json()["deliveries"][0]["key"] == packets[1].packet_id
        stats = client.get("/_stats").json()
        assert stats["answers"] == {"500": 1, "200": 2, "400": 1} and stats["calls"] == 4
        assert client.delete("/_faults").json()["error_rate"] == 0
