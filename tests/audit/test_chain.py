"""The audit chain on both stores: intact after real work and a purge; every kind of tampering —
edit, delete, reorder, truncate, a rewritten chain, a forged checkpoint — detected at its first entry."""

from pathlib import Path
import subprocess
import sys

import pytest
import sqlalchemy as sa

from gateway.audit.chain import BATCH, GENESIS, entry_digest, item_hash, link, sealed_detail
from gateway.audit.checkpoint import make_checkpoint
from gateway.audit.service import checkpoint_now, record_configuration
from gateway.audit.verify import verify_store
from gateway.config import Config
from gateway.store import Store
from gateway.store.tables import audit, audit_checkpoints, audit_head
from signing.signer import KeySigner
from tests.audit.conftest import history
from tests.receive.test_signed_receipts import gateway_key


def tamper(store: Store, *statements: sa.Executable) -> None:
    """What anyone with write access to the database can do, outside the gateway."""
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def rows(store: Store) -> list[sa.Row]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(audit).order_by(audit.c.n)))


def rechain(store: Store, start: int) -> None:
    """A careful forger: recomputes every digest and hash from entry ``start`` on, and the head."""
    found = rows(store)
    previous = GENESIS if start == 1 else next(r.hash for r in found if r.n == start - 1)
    from gateway.audit.chain import timestamp
    updates = []
    for row in found:
        if row.n < start:
            continue
        digest = entry_digest(row.n, timestamp(row.at), row.actor, row.action, row.subject, row.dossier,
                              sealed_detail(row.action, row.detail))
        previous = link(previous, digest)
        updates.append(audit.update().where(audit.c.id == row.id).values(digest=digest, hash=previous))
    updates.append(audit_head.update().values(n=found[-1].n, hash=previous))
    tamper(store, *updates)


@pytest.fixture
def chained(store: Store, signer: KeySigner) -> Store:
    """History, a signed checkpoint, then more entries and a second checkpoint at the head."""
    history(store)
    checkpoint_now(store, signer)
    store.audit("operator", "look-up", "000.00.01.H22-241203-0001", {"why": "khiếu nại / complaint"})
    store.set_paused("postal", False, "operator", "xong / done")
    checkpoint_now(store, signer)
    return store


def test_real_work_makes_an_intact_chain_of_every_event(chained: Store, signer: KeySigner) -> None:
    report = verify_store(chained, [signer.certificate])
    assert report.ok, report.broken
    actions = [entry.action for entry in chained.audit_entries()]
    assert {BATCH, "delivery.delivered", "delivery.pending", "destination.pause", "destination.resume",
            "look-up"} <= set(actions)
    n, _ = chained.audit_head()
    assert report.entries == n == len(actions) and report.signed_up_to == n
    assert [c.n for c in chained.audit_checkpoints()] == [n - 2, n]
    assert all(v.signed and v.trusted for v in report.checkpoints)


def test_entries_hold_no_citizen_data_in_clear(chained: Store) -> None:
    text = repr([entry.to_dict() for entry in chained.audit_entries()])
    assert "Trần Thị Bình" not in text and "001099001234" not in text
    accepted = next(e for e in chained.audit_entries() if e.action == BATCH)
    assert set(accepted.detail or {}) == {"items"}
    assert {frozenset(item) for item in accepted.accepted()} == {frozenset(
        {"packet_id", "dossier", "sender", "sha256", "type", "agency", "status", "to", "valid", "warnings", "signature"})}


def test_one_entry_per_committed_batch_holds_each_packet(store: Store, signer: KeySigner) -> None:
    ours = history(store)  # each batch: a packet of each of two dossiers
    batches = [e for e in store.audit_entries() if e.action == BATCH]
    assert len(batches) == len(ours)
    assert [len(e.accepted()) for e in batches] == [2] * len(ours)
    assert [e.accepted()[0]["packet_id"] for e in batches] == [p.packet_id for p in ours]
    assert {item["dossier"] for e in batches for item in e.accepted()} == {ours[0].dossier, "000.00.01.H22-241203-0002"}
    assert [e.n for e in store.audit_about(ours[0].dossier) if e.action == BATCH] == [e.n for e in batches]
    checkpoint_now(store, signer)
    assert verify_store(store, [signer.certificate]).ok


def test_an_edited_item_of_a_batch_entry_is_named(chained: Store, signer: KeySigner) -> None:
    batch = next(r for r in rows(chained) if r.action == BATCH)
    items = [dict(item) for item in batch.detail["items"]]
    items[1]["sha256"] = "0" * 64
    tamper(chained, audit.update().where(audit.c.id == batch.id).values(detail={"items": items}))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and (broken.n, broken.kind) == (batch.n, "edited")


def test_an_item_withheld_from_the_store_is_named(chained: Store, signer: KeySigner) -> None:
    """The item's hash in place of the item keeps the digest, but the store must hold every item in clear."""
    batch = next(r for r in rows(chained) if r.action == BATCH)
    items = [item_hash(batch.detail["items"][0]), batch.detail["items"][1]]
    tamper(chained, audit.update().where(audit.c.id == batch.id).values(detail={"items": items}))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and (broken.n, broken.kind) == (batch.n, "edited")


def test_a_purge_keeps_the_chain_verifiable(chained: Store, signer: KeySigner) -> None:
    assert chained.purge_dossier("000.00.01.H22-241203-0001", "dpo", "yêu cầu của công dân") == 3
    checkpoint_now(chained, signer)
    report = verify_store(chained, [signer.certificate])
    assert report.ok and chained.audit_entries()[-1].action == "purge.dossier"


def test_an_edited_entry_is_named(chained: Store, signer: KeySigner) -> None:
    tamper(chained, audit.update().where(audit.c.n == 3).values(detail={"sha256": "0" * 64}))
    report = verify_store(chained, [signer.certificate])
    assert report.broken is not None and (report.broken.n, report.broken.kind) == (3, "edited")
    assert "entry 3" in str(report.broken)


def test_an_edited_actor_is_named(chained: Store, signer: KeySigner) -> None:
    tamper(chained, audit.update().where(audit.c.n == 5).values(actor="someone else"))
    assert (verify_store(chained, [signer.certificate]).broken.n, "edited") == (5, "edited")


def test_a_deleted_entry_is_named(chained: Store, signer: KeySigner) -> None:
    tamper(chained, audit.delete().where(audit.c.n == 4))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and (broken.n, broken.kind) == (4, "missing")


def test_a_deleted_entry_with_the_rest_renumbered_is_named(chained: Store, signer: KeySigner) -> None:
    later = [r for r in rows(chained) if r.n > 4]
    tamper(chained, audit.delete().where(audit.c.n == 4),
           *[audit.update().where(audit.c.id == r.id).values(n=r.n - 1) for r in later])
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and broken.n == 4 and broken.kind in ("edited", "chain")


def test_reordered_entries_are_named(chained: Store, signer: KeySigner) -> None:
    three, four = (r for r in rows(chained) if r.n in (3, 4))
    tamper(chained, audit.update().where(audit.c.id == three.id).values(n=-3),
           audit.update().where(audit.c.id == four.id).values(n=3),
           audit.update().where(audit.c.id == three.id).values(n=4))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and broken.n == 3


def test_a_truncated_log_is_named_even_with_its_head_moved_back(chained: Store, signer: KeySigner) -> None:
    first_checkpoint = chained.audit_checkpoints()[0].n
    cut = first_checkpoint - 2
    kept = next(r for r in rows(chained) if r.n == cut)
    tamper(chained, audit.delete().where(audit.c.n > cut), audit_head.update().values(n=cut, hash=kept.hash))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and (broken.n, broken.kind) == (cut + 1, "truncated")


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(chained: Store, signer: KeySigner) -> None:
    tamper(chained, audit.update().where(audit.c.n == 2).values(detail={"sha256": "f" * 64}))
    rechain(chained, 2)  # every digest and hash consistent again: only the signature knows
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and broken.kind == "checkpoint"
    assert broken.n == chained.audit_checkpoints()[0].n


def test_a_forged_checkpoint_is_named(chained: Store, signer: KeySigner) -> None:
    """The forger rewrites the chain, then the checkpoint's hash to match: its signature no longer holds."""
    tamper(chained, audit.update().where(audit.c.n == 2).values(detail={"sha256": "f" * 64}))
    rechain(chained, 2)
    first = chained.audit_checkpoints()[0].n
    new_hash = next(r.hash for r in rows(chained) if r.n == first)
    tamper(chained, audit_checkpoints.update().where(audit_checkpoints.c.n == first).values(hash=new_hash))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and (broken.n, broken.kind) == (first, "checkpoint")
    assert "forged" in broken.message_en


def test_a_checkpoint_signed_by_another_key_is_named(chained: Store, signer: KeySigner, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = KeySigner.from_pem(*gateway_key(tmp_path / "other"))
    first = chained.audit_checkpoints()[0]
    forged = make_checkpoint(first.n, first.hash, first.at, other)
    tamper(chained, audit_checkpoints.update().where(audit_checkpoints.c.n == first.n).values(jws=forged.jws))
    broken = verify_store(chained, [signer.certificate]).broken
    assert broken is not None and (broken.n, broken.kind) == (first.n, "checkpoint")
    assert "not signed by a trusted key" in broken.message_en
    assert verify_store(chained, [other.certificate]).broken.n == chained.audit_checkpoints()[1].n


def test_without_a_key_checkpoints_are_unsigned_and_still_pin_the_chain(store: Store) -> None:
    history(store)
    made = checkpoint_now(store, None)
    assert made is not None and made.jws is None
    report = verify_store(store)
    assert report.ok and report.signed_up_to == 0 and not report.checkpoints[0].signed
    tamper(store, audit.delete().where(audit.c.n >= made.n - 1), audit_head.update().values(n=1, hash=rows(store)[0].hash))
    broken = verify_store(store).broken
    assert broken is not None and broken.kind == "truncated"


def test_configuration_changes_and_key_rotations_are_audited(store: Store, signer: KeySigner, tmp_path: Path) -> None:
    config = Config.load()
    assert record_configuration(store, config, signer, "gateway") == ["config.loaded"]
    assert record_configuration(store, config, signer, "gateway") == []
    changed = Config({**config.raw, "retention": {"delivered_payload_days": 7}}, config.source)
    assert record_configuration(store, changed, signer, "gateway") == ["config.change"]
    (tmp_path / "next").mkdir()
    rotated = KeySigner.from_pem(*gateway_key(tmp_path / "next"))
    assert record_configuration(store, changed, rotated, "gateway") == ["key.rotation"]
    assert verify_store(store).ok


def test_processes_appending_at_once_make_one_unbroken_chain(store: Store, store_url: str, signer: KeySigner) -> None:
    script = Path(__file__).with_name("append_worker.py")
    workers = [subprocess.Popen([sys.executable, str(script), store_url, f"w{n}", "40"]) for n in range(3)]
    for worker in workers:
        assert worker.wait(timeout=180) == 0
    checkpoint_now(store, signer)
    report = verify_store(store, [signer.certificate])
    assert report.ok, report.broken
    entries = store.audit_entries()
    assert len(entries) == 3 * 40 * 2  # each round: one packet accepted, one operator entry
    assert {e.actor for e in entries if e.action == BATCH} == {"w0", "w1", "w2"}
