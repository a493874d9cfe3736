"""Two worker processes claiming from one store: no job twice, never two holders of one
dossier at once, and every dossier delivered in acceptance order."""

from collections import defaultdict
import json
from pathlib import Path
import subprocess
import sys

import pytest

from datetime import UTC, datetime
import hashlib
import uuid

from gateway.store import NewPacket, Store


def packet(dossier: str) -> NewPacket:
    packet_id = str(uuid.uuid4())
    raw = f"<GoiTin>{packet_id}</GoiTin>".encode()
    return NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "xml", "portal", datetime.now(UTC),
                     "TienDoXuLy", dossier)


@pytest.mark.slow
def test_two_processes_never_share_a_job_or_a_dossier(store: Store, store_url: str, tmp_path: Path) -> None:
    dossiers = [f"000.00.01.H22-241201-{n:04d}" for n in range(12)]
    accepted = [packet(dossiers[i % len(dossiers)]) for i in range(240)]
    store.accept_many([(p, ["national_portal"]) for p in accepted])
    worker_script = Path(__file__).with_name("claim_worker.py")
    logs = [tmp_path / f"w{n}.jsonl" for n in range(2)]
    processes = [subprocess.Popen([sys.executable, str(worker_script), store_url, f"w{n}", str(log)])
                 for n, log in enumerate(logs)]
    for process in processes:
        assert process.wait(timeout=120) == 0

    events = [json.loads(line) | {"worker": log.stem} for log in logs for line in log.read_text().splitlines()]
    assert all(event["ok"] for event in events)
    assert sorted(event["job"] for event in events) == sorted(f"{p.packet_id}/national_portal" for p in accepted)
    assert {event["worker"] for event in events} == {"w0", "w1"}  # both really took part

    by_key: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_key[event["key"]].append(event)
    for key, key_events in by_key.items():
        key_events.sort(key=lambda e: e["done"])
        assert [e["seq"] for e in key_events] == sorted(e["seq"] for e in key_events), key
        # Hold intervals of different batches of one key never overlap.
        spans = sorted({(e["taken"], max(x["done"] for x in key_events if x["taken"] == e["taken"]))
                        for e in key_events})
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), key
    assert store.counts() == {"national_portal": {"delivered": len(accepted)}}
