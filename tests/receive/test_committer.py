"""Group commit: many packets share one transaction; one bad packet does not fail the others."""

from datetime import UTC, datetime
import hashlib
import uuid

import pytest

from gateway.receive.committer import GroupCommitter
from gateway.store import NewPacket, Store


def packet(at: datetime | None = None) -> NewPacket:
    packet_id = str(uuid.uuid4())
    raw = packet_id.encode()
    return NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "json", "portal",
                     at or datetime.now(UTC), "TienDoXuLy", "D1")


def test_packets_arriving_together_share_a_commit(store: Store) -> None:
    committer = GroupCommitter(store, batch_max=64, batch_wait_ms=300)
    try:
        sent = [packet() for _ in range(30)]
        futures = [committer.submit(p, ["national_portal"]) for p in sent]
        results = [f.result(timeout=30) for f in futures]
    finally:
        committer.close()
    assert [r.packet_id for r in results] == [p.packet_id for p in sent]
    assert not any(r.duplicate or r.conflict for r in results)
    assert committer.commits < len(sent)
    assert store.counts() == {"national_portal": {"pending": len(sent)}}


def test_a_failing_packet_fails_alone(store: Store) -> None:
    committer = GroupCommitter(store, batch_max=64, batch_wait_ms=300)
    try:
        good = [packet(), packet()]
        bad = packet(at=datetime(2026, 1, 1))  # naive time: the store refuses it
        futures = [committer.submit(good[0], ["x"]), committer.submit(bad, ["x"]), committer.submit(good[1], ["x"])]
        assert futures[0].result(timeout=30).packet_id == good[0].packet_id
        assert futures[2].result(timeout=30).packet_id == good[1].packet_id
        with pytest.raises(Exception, match="timezone-aware"):
            futures[1].result(timeout=30)
    finally:
        committer.close()
    assert store.get_packet(bad.packet_id) is None and store.counts() == {"x": {"pending": 2}}
