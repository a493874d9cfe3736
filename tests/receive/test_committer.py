"""Group commit: many packets share one transaction; one bad packet does not fail the others."""

from datetime import UTC, datetime
import hashlib
import uuid

import pytest

from gateway.receive.committer import GroupCommitter
from gateway.store import JobFilter, NewPacket, NotAdmitted, Store


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


def test_two_gateways_racing_on_the_same_ids_store_each_once(store: Store, store_url: str) -> None:
    """Two API processes (two stores, two committers) receive packets of two senders with the same MaGoiTin
    but other content and dossiers at the same moment: each is stored once, the first under the id, the
    other under the id scoped to its sender (issue 14 item 8); nobody gets a conflict or an error."""
    from gateway.store import open_store

    other = open_store(store_url)
    ours, theirs = GroupCommitter(store, batch_wait_ms=5), GroupCommitter(other, batch_wait_ms=5)
    try:
        mine = [packet() for _ in range(60)]
        rivals = [NewPacket(p.packet_id, hashlib.sha256(b"other" + p.raw).hexdigest(), b"other" + p.raw, "json",
                            "sector", datetime.now(UTC), "TienDoXuLy", f"D2-{n}") for n, p in enumerate(mine)]
        futures = [(ours.submit(p, ["x"]), theirs.submit(q, ["x"])) for p, q in zip(mine, rivals)]
        for (a, b), p, q in zip(futures, mine, rivals):
            first, second = a.result(timeout=60), b.result(timeout=60)
            assert not (first.conflict or second.conflict or first.duplicate or second.duplicate), p.packet_id
            assert first.packet_id == second.packet_id == p.packet_id
            winner = store.get_packet(p.packet_id)
            assert winner is not None
            loser = p if winner.sender == "sector" else q
            scoped = store.get_packet(f"{loser.sender}/{p.packet_id}")
            assert scoped is not None and scoped.sha256 == loser.sha256 and winner.sha256 != loser.sha256
    finally:
        ours.close(), theirs.close()
        other.close()
    assert store.counts() == {"x": {"pending": 120}}


def test_a_failed_batch_is_logged_without_its_payload(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    committer = GroupCommitter(store, batch_max=64, batch_wait_ms=300)
    secret = packet()
    try:
        futures = [committer.submit(secret, ["x"]), committer.submit(packet(at=datetime(2026, 1, 1)), ["x"])]
        futures[0].result(timeout=30)
        with pytest.raises(Exception):  # noqa: B017 - whichever error the store raises reaches the caller
            futures[1].result(timeout=30)
    finally:
        committer.close()
    assert "one by one" in caplog.text and secret.packet_id not in caplog.text


def test_two_gateways_accepting_steps_of_the_same_dossiers_check_them_one_after_the_other(
        store: Store, store_url: str) -> None:
    """Two API processes (two stores) each receive a step of the same dossiers at the same moment: one
    the terminal status 10, the other status 4. The transition is checked inside the accepting
    transaction, after the dossier is locked, so whichever commits second sees the first: a 4 is never
    stored after a 10 (it is refused), and each dossier's statuses stay a path the admission allows."""
    from gateway.store import open_store

    def admit(new: NewPacket, previous: int | None) -> NewPacket | NotAdmitted:
        return NotAdmitted({"after": previous}) if previous == 10 else new

    def step(dossier: str, status: int) -> NewPacket:
        return NewPacket(**{**vars(packet()), "dossier": dossier, "status": status})

    other = open_store(store_url)
    ours, theirs = GroupCommitter(store, admit=admit), GroupCommitter(other, admit=admit)
    dossiers = [f"D-race-{n}" for n in range(80)]
    try:
        futures = [(ours.submit(step(d, 10), ["x"]), theirs.submit(step(d, 4), ["x"])) for d in dossiers]
        outcomes = [(a.result(timeout=60), b.result(timeout=60)) for a, b in futures]
    finally:
        ours.close(), theirs.close()
        other.close()
    for dossier, (terminal, late) in zip(dossiers, outcomes):
        assert terminal.refused is None, dossier  # nothing ever precedes it with a 10
        order = [job.packet_id for job in store.find_jobs(JobFilter(dossier=dossier))]
        if late.refused is not None:
            assert late.refused == {"after": 10} and order == [terminal.packet_id], dossier
        else:  # the 4 committed first
            assert order == [late.packet_id, terminal.packet_id], dossier
