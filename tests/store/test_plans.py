"""The settling statements find their jobs by index on a fresh SQLite store (no statistics yet): a statement that
reads every job costs in proportion to the history — a 100,000-packet backlog drained at 125/s against a 500/s
rate limit while the settle named its jobs by (id, holder) pairs alone (bench/report.py --sections drain)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.store import open_store
from gateway.store.api import AttemptRecord


def test_settling_and_extending_a_claim_read_its_jobs_by_id(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/fresh.db")
    engine: sa.Engine = store.engine  # type: ignore[attr-defined]  # the SQL store's engine
    executed: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.startswith("UPDATE jobs") and "lease_owner) IN" in statement:
            executed.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        held = [("p1/national_portal", "w#1"), ("p2/national_portal", "w#1")]
        attempt = AttemptRecord(datetime.now(UTC), 5, "delivered")
        store.complete_each([(job_id, attempt) for job_id, _ in held], [holder for _, holder in held])
        store.extend_leases(held, 30)
        assert len(executed) == 2
        for statement, parameters in executed:
            with engine.connect() as connection:
                plan = " / ".join(str(row[-1]) for row in connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "USING INDEX sqlite_autoindex_jobs_1 (job_id=?)" in plan, plan
            assert "SCAN jobs" not in plan, plan
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
        store.close()
