"""The sync ledger on SQLite and PostgreSQL: persistent, idempotent, keeps the portal's id."""

from connectors.national_portal.ledger import SyncLedger


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
