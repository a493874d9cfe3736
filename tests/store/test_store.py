"""The store's behaviour, the same on SQLite and PostgreSQL (the ``store`` fixture)."""

from datetime import UTC, datetime, timedelta
import hashlib
import uuid

import pytest

from gateway.store import (AttemptRecord, BatchNotAdmitted, BreakerState, JobFilter, JobState, NewPacket,
                           NotAdmitted, Store, open_store)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def packet(dossier: str | None = "000.00.01.H22-241201-0001", raw: bytes | None = None,
           packet_id: str | None = None, packet_type: str = "TienDoXuLy", at: datetime = T0) -> NewPacket:
    packet_id = packet_id or str(uuid.uuid4())
    raw = raw if raw is not None else f"<GoiTin>{packet_id}</GoiTin>".encode()
    return NewPacket(packet_id, hashlib.sha256(raw).hexdigest(), raw, "xml", "portal", at, packet_type, dossier,
                     {"validation": {"valid": True}, "signature": {"verdict": "not_checked"}}, "000.00.01.H22")


def attempt(outcome: str = "delivered", message: str = "") -> AttemptRecord:
    return AttemptRecord(T0, 12, outcome, "200" if outcome == "delivered" else "503", message)


def ids(batches: list) -> list[list[str]]:
    return [[job.packet_id for job in batch] for batch in batches]


def claim(store: Store, worker: str = "w1", *, destination: str = "national_portal", limit: int = 10,
          max_batch: int = 1, now: datetime = T0, on_dead: str = "hold", lease: float = 30) -> list:
    return store.claim(destination, worker, limit=limit, max_batch=max_batch, lease_seconds=lease, now=now,
                       on_dead=on_dead)


def test_accept_stores_exact_bytes_and_one_job_per_destination(store: Store) -> None:
    raw = "<GoiTin>Nguyễn — ký tự tiếng Việt\r\n</GoiTin>".encode()
    new = packet(raw=raw)
    result = store.accept(new, ["national_portal", "postal", "national_portal"])
    assert (result.duplicate, result.conflict) == (False, False)
    assert result.destinations == ["national_portal", "postal"]
    stored = store.get_packet(new.packet_id)
    assert stored is not None and stored.raw == raw and stored.sha256 == new.sha256
    assert stored.received_at == T0 and stored.verdicts == new.verdicts and stored.agency == "000.00.01.H22"
    assert store.counts() == {"national_portal": {"pending": 1}, "postal": {"pending": 1}}


def test_same_id_same_bytes_is_a_duplicate_with_the_original_receipt(store: Store) -> None:
    first = packet()
    store.accept(first, ["national_portal"])
    again = NewPacket(**{**vars(first), "received_at": T0 + timedelta(hours=1)})
    result = store.accept(again, ["national_portal", "postal"])
    assert result.duplicate and not result.conflict
    assert result.received_at == T0 and result.destinations == ["national_portal"]
    assert store.counts() == {"national_portal": {"pending": 1}}


def test_another_senders_packet_id_is_stored_under_an_id_scoped_to_its_sender(store: Store) -> None:
    first = packet()
    store.accept(first, ["national_portal"])
    later = T0 + timedelta(hours=1)
    other = NewPacket(**{**vars(first), "raw": b"<GoiTin>other</GoiTin>", "received_at": later, "sender": "other",
                         "dossier": None})
    other = NewPacket(**{**vars(other), "sha256": hashlib.sha256(other.raw).hexdigest()})
    result = store.accept(other, ["postal"])
    # answered as if the id were unknown: a new packet under the sender's own MaGoiTin
    assert not result.conflict and not result.duplicate and result.packet_id == first.packet_id
    assert result.stored_id == f"other/{first.packet_id}" and result.destinations == ["postal"]
    assert (result.received_at, result.sha256) == (later, other.sha256)
    kept = store.get_packet(result.stored_id)
    assert kept is not None and kept.raw == other.raw and kept.sender == "other"
    assert store.get_packet(first.packet_id).raw == first.raw
    # the same client resends: its own receipt; other bytes under the same id: its own conflict
    again = store.accept(NewPacket(**{**vars(other), "received_at": later + timedelta(hours=1)}), ["postal"])
    assert again.duplicate and again.received_at == later and again.packet_id == first.packet_id
    changed = packet(packet_id=first.packet_id, raw=b"<GoiTin>changed</GoiTin>", dossier=None)
    changed = store.accept(NewPacket(**{**vars(changed), "sender": "other"}), ["postal"])
    assert changed.conflict and changed.sha256 == other.sha256
    assert store.counts() == {"national_portal": {"pending": 1}, "postal": {"pending": 1}}
    collisions = [row for row in store.audit_log(first.packet_id) if row["action"] == "accept.foreign_id"]
    assert len(collisions) == 3 and {row["actor"] for row in collisions} == {"other"}
    assert collisions[0]["detail"] == {"owner": first.sender, "stored_as": f"other/{first.packet_id}"}


def test_two_senders_one_new_id_in_one_batch_are_both_accepted(store: Store) -> None:
    first = packet()
    second = NewPacket(**{**vars(first), "sender": "other", "dossier": None})
    results = store.accept_many([(first, ["national_portal"]), (second, ["postal"])])
    assert [r.conflict or r.duplicate for r in results] == [False, False]
    assert [r.packet_id for r in results] == [first.packet_id] * 2
    assert results[1].stored_id == f"other/{first.packet_id}"
    assert store.get_packet(f"other/{first.packet_id}").sender == "other"


def test_same_id_other_bytes_is_a_conflict_and_is_audited(store: Store) -> None:
    first = packet()
    store.accept(first, ["national_portal"])
    result = store.accept(packet(packet_id=first.packet_id, raw=b"<GoiTin>changed</GoiTin>"), ["national_portal"])
    assert result.conflict and result.sha256 == first.sha256
    assert store.get_packet(first.packet_id).raw == first.raw
    # the conflict under the packet's id; its acceptance in the entry of the batch that stored it
    assert [row["action"] for row in store.audit_log(first.packet_id)] == ["accept.conflict"]
    accepted = [item for entry in store.audit_about(str(first.dossier)) for item in entry.accepted()]
    assert [(item["packet_id"], item["sha256"]) for item in accepted] == [(first.packet_id, first.sha256)]
    row = store.audit_log(first.packet_id)[0]
    assert row["detail"]["sha256_original"] == first.sha256 and row["dossier"] == first.dossier


def test_accept_many_is_one_transaction_with_per_packet_results(store: Store) -> None:
    a, b = packet(), packet()
    results = store.accept_many([(a, ["national_portal"]), (b, ["postal"]), (a, ["national_portal"])])
    assert [r.duplicate for r in results] == [False, False, True]
    assert store.counts() == {"national_portal": {"pending": 1}, "postal": {"pending": 1}}


def test_claim_hands_out_heads_in_order_one_per_key(store: Store) -> None:
    d1 = [packet("D1") for _ in range(3)]
    d2 = [packet("D2") for _ in range(2)]
    for p in (d1[0], d2[0], d1[1], d2[1], d1[2]):
        store.accept(p, ["national_portal"])
    first = claim(store)
    assert ids(first) == [[d1[0].packet_id], [d2[0].packet_id]]
    job = first[0][0]
    assert job.raw == d1[0].raw and job.encoding == "xml" and job.attempts == 0 and job.ordering_key == "D1"
    assert claim(store, "w2") == []  # both heads are leased: nothing else may go
    assert store.complete(job.job_id, "w1", attempt())
    assert ids(claim(store, "w2")) == [[d1[1].packet_id]]


def test_batches_take_consecutive_jobs_of_one_key(store: Store) -> None:
    d1 = [packet("D1") for _ in range(5)]
    solo = packet(None)
    for p in (*d1, solo):
        store.accept(p, ["national_portal"])
    batches = claim(store, max_batch=3)
    assert ids(batches) == [[p.packet_id for p in d1[:3]], [solo.packet_id]]
    assert [j.seq for j in batches[0]] == sorted(j.seq for j in batches[0])
    assert batches[1][0].ordering_key == solo.packet_id  # no dossier: the packet is its own key
    # The engine stops at the first failure and gives back the rest, unattempted.
    first, second, third = batches[0]
    assert store.complete(first.job_id, "w1", attempt())
    assert store.retry_later(second.job_id, "w1", attempt("transient", "HTTP 503"), T0 + timedelta(minutes=1))
    assert store.release([third.job_id], "w1") == 1
    assert store.complete(batches[1][0].job_id, "w1", attempt())
    assert claim(store) == []  # D1's head waits for its next attempt time
    again = claim(store, now=T0 + timedelta(minutes=2), max_batch=10)
    assert ids(again) == [[p.packet_id for p in d1[1:]]]
    assert again[0][0].attempts == 1 and again[0][1].attempts == 0


def test_expired_lease_comes_back_and_the_old_holder_loses_it(store: Store) -> None:
    p = packet()
    store.accept(p, ["national_portal"])
    (batch,) = claim(store, "dead-worker", lease=5)
    assert claim(store, "w2", now=T0 + timedelta(seconds=4)) == []
    (again,) = claim(store, "w2", now=T0 + timedelta(seconds=6))
    assert again[0].job_id == batch[0].job_id
    assert not store.complete(batch[0].job_id, "dead-worker", attempt())
    assert store.extend_lease([batch[0].job_id], "dead-worker", 30, T0) == 0
    assert store.extend_lease([batch[0].job_id], "w2", 30, T0 + timedelta(seconds=6)) == 1
    assert store.complete(again[0].job_id, "w2", attempt())
    view = store.get_job(batch[0].job_id)
    assert view is not None and view.state is JobState.DELIVERED and len(view.attempt_log) == 1


def test_dead_head_holds_its_dossier_or_is_skipped_by_policy(store: Store) -> None:
    a, b = packet("D1"), packet("D1")
    other = packet("D2")
    for p in (a, b, other):
        store.accept(p, ["national_portal"])
    batches = claim(store)
    assert store.dead_letter(batches[0][0].job_id, "w1", attempt("permanent", "E42 mã TTHC sai"), "E42 mã TTHC sai")
    assert store.complete(batches[1][0].job_id, "w1", attempt())
    assert claim(store, on_dead="hold") == []
    assert ids(claim(store, on_dead="skip")) == [[b.packet_id]]


def test_dead_letter_keeps_attempts_and_replay_is_audited(store: Store) -> None:
    p = packet("D9", packet_type="HoSo")
    store.accept(p, ["national_portal"])
    (batch,) = claim(store)
    job_id = batch[0].job_id
    store.retry_later(job_id, "w1", attempt("transient", "timeout"), T0)
    (batch,) = claim(store)
    store.dead_letter(job_id, "w1", attempt("permanent", "MaTTHC không tồn tại"), "MaTTHC không tồn tại")
    view = store.get_job(job_id)
    assert view is not None and view.state is JobState.DEAD and view.attempts == 2
    assert [a.outcome for a in view.attempt_log] == ["transient", "permanent"]
    assert view.attempt_log[1].message == "MaTTHC không tồn tại" and view.attempt_log[1].n == 2

    dead = JobFilter(destination="national_portal", dossier="D9", packet_type="HoSo", state=JobState.DEAD,
                     reason="không tồn tại", since=T0 - timedelta(days=1), until=T0 + timedelta(days=1))
    assert [j.job_id for j in store.find_jobs(dead)] == [job_id]
    assert store.find_jobs(JobFilter(packet_type="TienDoXuLy")) == []
    assert store.replay(dead, "operator@tinh", "mapping fixed", dry_run=True) == 1
    assert store.get_job(job_id).state is JobState.DEAD
    assert store.replay(dead, "operator@tinh", "mapping fixed", now=T0) == 1
    replayed = store.get_job(job_id)
    assert replayed is not None and replayed.state is JobState.PENDING and replayed.attempts == 2
    assert store.get_packet(p.packet_id).raw == p.raw
    (row,) = store.audit_log("jobs")
    assert row["actor"] == "operator@tinh" and row["detail"]["reason"] == "mapping fixed"
    assert row["detail"]["job_ids"] == [job_id]
    (again,) = claim(store)
    assert again[0].packet_id == p.packet_id and again[0].attempts == 2
    assert store.replay([job_id], "operator@tinh", "again") == 0  # not dead any more


def test_destination_pause_and_breaker_state(store: Store) -> None:
    assert store.destination_state("postal").paused is False
    store.set_paused("postal", True, "operator", "bảo trì định kỳ — planned maintenance")
    state = store.destination_state("postal")
    assert state.paused and state.pause_reason.startswith("bảo trì")
    opened = T0 + timedelta(minutes=3)
    store.save_breaker("postal", BreakerState.OPEN, opened)
    state = store.destination_state("postal")
    assert state.paused and state.breaker_state is BreakerState.OPEN and state.breaker_opened_at == opened
    store.set_paused("postal", False, "operator", "xong")
    assert not store.destination_state("postal").paused
    assert [r["action"] for r in store.audit_log("postal")] == ["destination.resume", "destination.pause"]


def test_purge_delivered_keeps_hashes_and_spares_undelivered(store: Store) -> None:
    done, waiting = packet("D1"), packet("D2")
    store.accept(done, ["national_portal"])
    store.accept(waiting, ["national_portal", "postal"])
    for batch in claim(store):
        store.complete(batch[0].job_id, "w1", attempt())
    assert store.purge_delivered(datetime.now(UTC) - timedelta(days=1)) == 0  # delivered too recently
    assert store.purge_delivered(datetime.now(UTC) + timedelta(seconds=1)) == 1
    gone, kept = store.get_packet(done.packet_id), store.get_packet(waiting.packet_id)
    assert gone is not None and gone.raw is None and gone.sha256 == done.sha256 and gone.purged_at is not None
    assert kept is not None and kept.raw == waiting.raw  # its postal job is not delivered yet
    assert store.accept(done, ["national_portal"]).duplicate  # the receipt survives the purge


def test_purge_dossier_removes_payloads_and_stops_delivery(store: Store) -> None:
    mine = [packet("D-person"), packet("D-person")]
    other = packet("D-other")
    for p in (*mine, other):
        store.accept(p, ["national_portal"])
    assert store.purge_dossier("D-person", "dpo@tinh", "yêu cầu xoá của công dân") == 2
    assert all(store.get_packet(p.packet_id).raw is None for p in mine)
    assert ids(claim(store)) == [[other.packet_id]]
    assert store.count_jobs(JobFilter(dossier="D-person", state=JobState.DEAD)) == 2
    assert store.replay(JobFilter(dossier="D-person"), "op", "try") == 0  # no payload to send
    (row,) = store.audit_log("D-person")
    assert row["action"] == "purge.dossier" and row["detail"]["packets"] == 2


def test_stored_raw_reads_the_bytes_of_many_packets_at_once(store: Store) -> None:
    kept, purged, unknown = packet("D1"), packet("D-person"), str(uuid.uuid4())
    store.accept_many([(kept, ["national_portal"]), (purged, ["national_portal"])])
    store.purge_dossier("D-person", "dpo@tinh")
    assert store.stored_raw([kept.packet_id, purged.packet_id, unknown]) == {kept.packet_id: kept.raw}
    assert store.stored_raw([]) == {}


def test_times_are_aware_utc(store: Store) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    p = packet(at=local)
    store.accept(p, ["x"])
    stored = store.get_packet(p.packet_id)
    assert stored is not None and stored.received_at == local and stored.received_at.tzinfo == UTC


def test_resends_inside_one_batch_are_duplicates_or_conflicts(store: Store) -> None:
    a = packet("D1")
    changed = packet("D1", packet_id=a.packet_id, raw=b"<GoiTin>other</GoiTin>")
    earlier = packet("D2")
    store.accept(earlier, ["postal"])
    results = store.accept_many([(a, ["national_portal"]), (a, ["national_portal"]), (changed, ["x"]),
                                 (earlier, ["postal"])])
    assert [(r.duplicate, r.conflict) for r in results] == [(False, False), (True, False), (False, True),
                                                            (True, False)]
    assert results[1].destinations == ["national_portal"] and results[3].destinations == ["postal"]
    assert store.counts() == {"national_portal": {"pending": 1}, "postal": {"pending": 1}}
    assert [row["action"] for row in store.audit_log(a.packet_id)] == ["accept.conflict"]
    (batch,) = [entry for entry in store.audit_about("D1") if entry.accepted()]  # one entry for the batch
    assert [item["packet_id"] for item in batch.accepted()] == [a.packet_id]  # the resends are not accepted


def test_previous_status_is_the_latest_accepted_for_the_dossier(store: Store) -> None:
    steps = [(4, T0), (9, T0 + timedelta(minutes=5)), (None, T0 + timedelta(minutes=9))]
    for status, at in steps:
        store.accept(NewPacket(**{**vars(packet("D-status", at=at)), "status": status}), ["national_portal"])
    assert store.previous_status("D-status") == 9
    assert store.previous_status("D-unknown") is None


def test_latest_changes_are_the_last_packets_carrying_a_status(store: Store) -> None:
    first, last, history = (NewPacket(**{**vars(packet("D-head", at=T0 + timedelta(minutes=n))), "status": status})
                            for n, status in ((0, 2), (5, 10), (9, None)))
    for new in (first, last, history):  # the last one carries no status (a finished dossier's late history)
        store.accept(new, ["national_portal"])
    assert store.latest_changes(["D-head", "D-unknown", "D-head"]) == {
        "D-head": (last.packet_id, last.sender, last.raw)}


def step(dossier: str, status: int | None, **fields: object) -> NewPacket:
    return NewPacket(**{**vars(packet(dossier)), "status": status, **fields})


def test_admission_sees_the_store_then_the_batch_and_skips_resends(store: Store) -> None:
    """``admit`` is asked about each new packet carrying a status, in batch order, with the dossier's
    status so far: the store's for the first, the batch's own earlier step for the next."""
    stored = step("D-admit", 2)
    store.accept(stored, ["national_portal"])
    asked: list[tuple[int | None, int | None]] = []

    def admit(new: NewPacket, previous: int | None) -> NewPacket | NotAdmitted:
        asked.append((previous, new.status))
        if previous == 10:
            return NotAdmitted({"why": f"{previous} → {new.status}"})
        return NewPacket(**{**vars(new), "verdicts": {**new.verdicts, "admitted_after": previous}})

    batch = [step("D-admit", 4), step("D-admit", 10), stored, step("D-admit", 5), step("D-other", 2),
             step("D-admit", None, packet_type="VanDonBuuChinh")]
    results = store.accept_many([(p, ["national_portal"]) for p in batch], admit)
    assert asked == [(2, 4), (4, 10), (10, 5), (None, 2)]  # the resend and the status-less packet: not asked
    assert [(r.verdicts or {}).get("admitted_after", "-") for r in results] == [2, 4, "-", "-", None, "-"]
    assert results[2].duplicate and results[2].verdicts is None
    assert results[3].refused == {"why": "10 → 5"} and results[3].destinations == []
    assert store.get_packet(batch[3].packet_id) is None
    assert store.get_packet(batch[1].packet_id).verdicts["admitted_after"] == 4
    assert [r.refused is None for r in results] == [True, True, True, False, True, True]
    assert store.previous_status("D-admit") == 10
    assert store.counts() == {"national_portal": {"pending": 5}}  # 2, 4, 10, D-other's 2, the status-less one


def test_a_batch_refused_whole_stores_nothing(store: Store) -> None:
    store.accept(step("D-closed", 10), ["national_portal"])
    results = store.accept_many([(step("D-closed", 4), ["x"]), (step("D-closed", 5), ["x"])],
                                lambda new, previous: NotAdmitted({"previous": previous}))
    assert [r.refused for r in results] == [{"previous": 10}, {"previous": 10}]
    assert store.counts() == {"national_portal": {"pending": 1}}


def test_whole_stores_nothing_of_a_batch_with_a_refusal(store: Store) -> None:
    """The classic sync protocol's all or nothing: one packet not admitted, none stored."""
    store.accept(step("D-whole", 10), ["national_portal"])
    fine, late = step("D-other-whole", 2), step("D-whole", 4)
    with pytest.raises(BatchNotAdmitted) as refusal:
        store.accept_many([(fine, ["x"]), (late, ["x"])],
                          lambda new, previous: NotAdmitted({"after": previous}) if previous == 10 else new,
                          whole=True)
    assert refusal.value.refusals == {late.packet_id: {"after": 10}}
    assert store.get_packet(fine.packet_id) is None
    assert store.counts() == {"national_portal": {"pending": 1}}


def test_complete_many_settles_a_batch_in_one_go(store: Store) -> None:
    mine = [packet("D1") for _ in range(3)]
    for p in mine:
        store.accept(p, ["national_portal"])
    (batch,) = claim(store, max_batch=3)
    stolen = batch[2].job_id
    store.release([stolen], "w1")
    claim(store, "w2", now=T0)  # nothing: D1's head is still leased by w1
    ids_ = [job.job_id for job in batch]
    assert store.complete_many(ids_, "w1", attempt()) == [True, True, False]  # the third was given back
    delivered = [store.get_job(job_id) for job_id in ids_[:2]]
    assert all(v is not None and v.state is JobState.DELIVERED and len(v.attempt_log) == 1 for v in delivered)
    assert ids(claim(store, "w2")) == [[mine[2].packet_id]]
    assert store.complete_many([], "w1", attempt()) == []


def test_complete_each_records_each_calls_own_attempt_in_one_go(store: Store) -> None:
    for dossier in ("D1", "D2", "D3"):
        store.accept(packet(dossier), ["national_portal"])
    first, second, third = (batch[0] for batch in claim(store, limit=3))
    store.release([third.job_id], "w1")  # given back: no longer held by w1
    slow = AttemptRecord(T0, 900, "delivered", "200", "chậm / slow")
    done = store.complete_each([(first.job_id, attempt()), (second.job_id, slow), (third.job_id, attempt())], "w1")
    assert done == [True, True, False]
    logs = {job.job_id: store.get_job(job.job_id) for job in (first, second, third)}
    assert [(a.n, a.duration_ms) for a in logs[first.job_id].attempt_log] == [(1, 12)]
    assert [(a.n, a.duration_ms, a.message) for a in logs[second.job_id].attempt_log] == [(1, 900, "chậm / slow")]
    assert logs[third.job_id].state is JobState.PENDING and logs[third.job_id].attempt_log == []
    assert store.complete_each([], "w1") == []


def test_claiming_after_a_long_delivered_history_finds_each_dossiers_next_steps(store: Store) -> None:
    sent: dict[str, list[str]] = {f"D{n}": [] for n in range(4)}
    for _ in range(10):
        for dossier in sent:
            new = packet(dossier)
            store.accept(new, ["national_portal"])
            sent[dossier].append(new.packet_id)
    for step in range(8):  # the first 8 steps of every dossier delivered, one at a time
        batches = claim(store, limit=4)
        assert sorted(ids(batches)) == sorted([steps[step]] for steps in sent.values())
        store.complete_many([batch[0].job_id for batch in batches], "w1", attempt())
    assert sorted(ids(claim(store, limit=10, max_batch=10))) == sorted(steps[8:] for steps in sent.values())


def test_accepting_waits_for_the_disk_and_bookkeeping_does_not(store: Store) -> None:
    sql_store = store  # SqlStore: the durability settings of its two kinds of write transaction
    sqlite = sql_store.engine.dialect.name == "sqlite"
    query = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
    with sql_store._write() as connection:
        durable = connection.exec_driver_sql(query).scalar()
    with sql_store._bookkeeping() as connection:
        relaxed = connection.exec_driver_sql(query).scalar()
    assert (durable, relaxed) == ((2, 1) if sqlite else ("on", "off"))  # FULL / NORMAL


def test_one_token_bucket_per_destination_for_every_worker(store: Store) -> None:
    """Rate 10/s, burst 8: the store's bucket, drawn from by two store handles (two worker processes)."""
    other = open_store(store.url)
    try:
        assert store.take_tokens("portal", 5, 10.0, 8, T0) == (5, 0.0)  # a full bucket to start
        assert other.take_tokens("portal", 5, 10.0, 8, T0) == (3, 0.0)  # what the first left
        granted, wait = store.take_tokens("portal", 1, 10.0, 8, T0)
        assert granted == 0 and wait == pytest.approx(0.1)
        assert other.take_tokens("portal", 5, 10.0, 8, T0 + timedelta(seconds=0.35)) == (3, 0.0)  # 3.5 refilled
        # a machine whose clock lags refills nothing and does not take the bucket back in time
        granted, wait = store.take_tokens("portal", 5, 10.0, 8, T0)
        assert granted == 0 and wait == pytest.approx(0.05)
        assert store.take_tokens("portal", 100, 10.0, 8, T0 + timedelta(hours=1)) == (8, 0.0)  # never past the burst
        assert store.take_tokens("postal", 1, 10.0, 8, T0) == (1, 0.0)  # each destination its own
        assert store.destination_state("portal").paused is False
    finally:
        other.close()
