"""The sync ledger on SQLite and PostgreSQL: persistent, idempotent, keeps the portal's id."""

from connectors.national_portal.ledger import SyncLedger, synced


def test_ledger_persists_and_is_idempotent(store_url: str) -> None:
    ledger = SyncLedger(store_url)
    assert not ledger.is_synced("000.00.01.H22-241201-0001")
    ledger.mark_synced("000.00.01.H22-241201-0001")
    ledger.mark_synced("000.00.01.H22-241201-0001")  # again: no error
    ledger.mark_synced("000.00.01.H22-241201-0002", portal_id="a1b2")
    ledger.mark_synced("000.00.01.H22-241201-0002")  # a sync without an id keeps the known one
    ledger.close()
    reopened = SyncLedger(store_url)  # a restarted gateway still knows
    assert reopened.is_synced("000.00.01.H22-241201-0001")
    assert reopened.portal_id("000.00.01.H22-241201-0001") is None
    assert reopened.portal_id("000.00.01.H22-241201-0002") == "a1b2"
    reopened.mark_synced("000.00.01.H22-241201-0002", portal_id="c3d4")
    assert reopened.portal_id("000.00.01.H22-241201-0002") == "c3d4"
    reopened.close()


def test_what_was_seen_synced_is_remembered_and_the_unknown_asked_again(store_url: str) -> None:
    first, second = SyncLedger(store_url), SyncLedger(store_url)  # two workers sharing the ledger
    try:
        assert not first.is_synced("000.00.01.H22-241201-0003")
        second.mark_synced("000.00.01.H22-241201-0003", portal_id="e5f6")
        assert first.is_synced("000.00.01.H22-241201-0003")  # not remembered as unknown: asked again
        assert first.portal_id("000.00.01.H22-241201-0003") == "e5f6"
        with first.engine.begin() as conn:  # behind its back: the row goes (rows are never deleted in use)
            conn.execute(synced.delete().where(synced.c.ma_ho_so == "000.00.01.H22-241201-0003"))
        assert first.is_synced("000.00.01.H22-241201-0003")  # remembered: no query per batch of steps
        third = SyncLedger(store_url)  # a restarted worker knows only what is stored
        assert not third.is_synced("000.00.01.H22-241201-0003")
        third.close()
    finally:
        first.close()
        second.close()
