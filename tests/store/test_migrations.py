"""Migrations never lose data: a database populated at the first revision is upgraded to head."""

from datetime import UTC, datetime
import hashlib

import sqlalchemy as sa

from gateway.store import migrate, open_store
from gateway.store.engines import create_engine


def test_upgrading_a_populated_database_keeps_every_row(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate.upgrade(engine, "0001")
    assert migrate.current(engine) == "0001"
    raw = "<GoiTin>Trần Thị Bình</GoiTin>".encode()
    at = datetime(2026, 1, 2, 3, 4, 5)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO packets (packet_id, sha256, raw, encoding, sender, received_at, packet_type, dossier,"
            " verdicts) VALUES ('p1', :sha, :raw, 'xml', 'portal', :at, 'HoSo', 'D1', '{\"validation\": {}}')"),
            {"sha": hashlib.sha256(raw).hexdigest(), "raw": raw, "at": at})
        connection.execute(sa.text(
            "INSERT INTO jobs (job_id, packet_id, destination, ordering_key, state, attempts, next_attempt_at,"
            " created_at) VALUES ('p1/national_portal', 'p1', 'national_portal', 'D1', 'pending', 2, :at, :at)"),
            {"at": at})
        connection.execute(sa.text(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (:at, 'op', 'x', 'p1', '{}')"), {"at": at})
    engine.dispose()

    store = open_store(store_url)  # upgrades to head
    try:
        assert migrate.current(store.engine) == migrate.head() != "0001"
        kept = store.get_packet("p1")
        assert kept is not None and kept.raw == raw and kept.agency is None
        assert kept.received_at == at.replace(tzinfo=UTC) and kept.destinations == ["national_portal"]
        job = store.get_job("p1/national_portal")
        assert job is not None and job.attempts == 2 and job.dossier == "D1"
        assert store.audit_log("p1")[0]["actor"] == "op"
        (batch,) = store.claim("national_portal", "w", limit=1, max_batch=1, lease_seconds=5, now=datetime.now(UTC))
        assert batch[0].raw == raw
    finally:
        store.close()
