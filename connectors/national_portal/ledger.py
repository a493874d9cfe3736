"""The gateway's own record of which dossiers reached the national portal.

It decides ``isUpdating`` without asking the portal, and lets progress steps wait until
their dossier is there. One small table of its own, in any SQLAlchemy database.
"""

from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
import threading

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from gateway.kit import private_file

metadata = MetaData()
synced = Table(
    "national_portal_synced", metadata,
    Column("ma_ho_so", String(100), primary_key=True),
    Column("portal_id", String(100), nullable=True),  # token protocol: the portal's own id of the dossier
    Column("synced_at", DateTime(timezone=True), nullable=False),
)


_UNKNOWN = object()


class SyncLedger:
    """Rows are only ever added (a dossier on the portal stays there), so what this process has seen synced is
    remembered: a batch of progress steps costs no ledger query. What is not known yet is always asked again,
    since another worker may have synced it."""

    def __init__(self, engine: Engine | str, *, remember: int = 100_000) -> None:
        if isinstance(engine, str):
            database = make_url(engine).database
            if make_url(engine).get_backend_name() == "sqlite" and database and database != ":memory:":
                private_file(Path(database))
            engine = create_engine(engine)
        self.engine = engine
        metadata.create_all(self.engine)
        self._seen: OrderedDict[str, str | None] = OrderedDict()  # dossier → portal id, most recent last
        self._remember = remember
        self._lock = threading.Lock()

    def _recall(self, dossier: str) -> object:
        with self._lock:
            if dossier in self._seen:
                self._seen.move_to_end(dossier)
                return self._seen[dossier]
        return _UNKNOWN

    def _note(self, dossier: str, portal_id: str | None) -> None:
        with self._lock:
            self._seen[dossier] = portal_id
            self._seen.move_to_end(dossier)
            if len(self._seen) > self._remember:
                self._seen.popitem(last=False)

    def _lookup(self, dossier: str) -> object:
        known = self._recall(dossier)
        if known is _UNKNOWN:
            with self.engine.connect() as conn:
                row = conn.execute(select(synced.c.portal_id).where(synced.c.ma_ho_so == dossier)).first()
            if row is not None:
                known = row.portal_id
                self._note(dossier, known)
        return known

    def is_synced(self, dossier: str) -> bool:
        return self._lookup(dossier) is not _UNKNOWN

    def portal_id(self, dossier: str) -> str | None:
        known = self._lookup(dossier)
        return None if known is _UNKNOWN else known  # type: ignore[return-value]  # _UNKNOWN excluded: a str or None

    def mark_synced(self, dossier: str, portal_id: str | None = None) -> None:
        """Idempotent: a second sync of the same dossier keeps the first portal id unless a new one is given."""
        values = {"ma_ho_so": dossier, "portal_id": portal_id, "synced_at": datetime.now(UTC)}
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(synced).values(values)
        update = {"synced_at": insert.excluded.synced_at}
        if portal_id is not None:
            update["portal_id"] = insert.excluded.portal_id
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=[synced.c.ma_ho_so], set_=update))
        if portal_id is not None:  # without one, the stored id (perhaps another worker's) is read when needed
            self._note(dossier, portal_id)

    def close(self) -> None:
        self.engine.dispose()
