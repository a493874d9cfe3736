"""The gateway's own record of which dossiers reached the national portal.

It decides ``isUpdating`` without asking the portal, and lets progress steps wait until
their dossier is there. One small table of its own, in any SQLAlchemy database.
"""

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()
synced = Table(
    "national_portal_synced", metadata,
    Column("ma_ho_so", String(100), primary_key=True),
    Column("portal_id", String(100), nullable=True),  # token protocol: the portal's own id of the dossier
    Column("synced_at", DateTime(timezone=True), nullable=False),
)


class SyncLedger:
    def __init__(self, engine: Engine | str) -> None:
        self.engine = create_engine(engine) if isinstance(engine, str) else engine
        metadata.create_all(self.engine)

    def is_synced(self, dossier: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(synced.c.ma_ho_so).where(synced.c.ma_ho_so == dossier)).first() is not None

    def portal_id(self, dossier: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(synced.c.portal_id).where(synced.c.ma_ho_so == dossier)).scalar()

    def mark_synced(self, dossier: str, portal_id: str | None = None) -> None:
        """Idempotent: a second sync of the same dossier keeps the first portal id unless a new one is given."""
        values = {"ma_ho_so": dossier, "portal_id": portal_id, "synced_at": datetime.now(UTC)}
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(synced).values(values)
        update = {"synced_at": insert.excluded.synced_at}
        if portal_id is not None:
            update["portal_id"] = insert.excluded.portal_id
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=[synced.c.ma_ho_so], set_=update))

    def close(self) -> None:
        self.engine.dispose()
