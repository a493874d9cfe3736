"""The connector's own record in the gateway's store (migration 0012): shipments it ordered and the
tracking feed's cursor. SQLite and PostgreSQL alike (their upserts differ only in the dialect's insert)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.kit import store_engine, store_table

ORDERED, CANCELLED, DELIVERED, RETURNED = "ordered", "cancelled", "delivered", "returned"


@dataclass(frozen=True)
class Shipment:
    order_number: str  # = MaHoSo
    agency: str
    state: str
    item_code: str | None
    last_status: str | None
    packet_id: str


class PostalLedger:
    def __init__(self, engine: sa.Engine | str) -> None:
        self.engine = store_engine(engine) if isinstance(engine, str) else engine
        self.shipments = store_table("postal_shipments")
        self.cursors = store_table("postal_cursors")

    def _insert(self, table: sa.Table, values: dict[str, Any]) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table).values(values)

    # --- shipments ------------------------------------------------------------------

    def get(self, order_number: str) -> Shipment | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.shipments).where(self.shipments.c.order_number == order_number)).first()
        if row is None:
            return None
        return Shipment(row.order_number, row.agency, row.state, row.item_code, row.last_status, row.packet_id)

    def ordered(self, order_number: str, agency: str, packet_id: str, item_code: str | None = None) -> None:
        """The service has this order (accepted now, or already had it): idempotent."""
        now = datetime.now(UTC)
        insert = self._insert(self.shipments, {"order_number": order_number, "agency": agency, "item_code": item_code,
                                               "state": ORDERED, "last_status": None, "packet_id": packet_id,
                                               "ordered_at": now, "updated_at": now})
        update: dict[str, Any] = {"state": ORDERED, "updated_at": insert.excluded.updated_at}
        if item_code:
            update["item_code"] = insert.excluded.item_code
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=[self.shipments.c.order_number], set_=update))

    def moved(self, order_number: str, *, state: str | None = None, last_status: str | None = None,
              item_code: str | None = None) -> None:
        values: dict[str, Any] = {"updated_at": datetime.now(UTC)}
        if state:
            values["state"] = state
        if last_status is not None:
            values["last_status"] = last_status
        if item_code:
            values["item_code"] = item_code
        with self.engine.begin() as conn:
            conn.execute(sa.update(self.shipments).where(self.shipments.c.order_number == order_number).values(values))

    def count(self, state: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(self.shipments)
        if state:
            query = query.where(self.shipments.c.state == state)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # --- the tracking feed's cursor ------------------------------------------------

    def hold_feed(self, feed: str, holder: str, seconds: float) -> tuple[bool, str | None]:
        """Takes (or renews) the feed's lease: whether this holder may poll, and the cursor to resume from."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(self._insert(self.cursors, {"feed": feed, "last_id": None, "holder": None,
                                                     "lease_expires_at": None, "updated_at": now})
                         .on_conflict_do_nothing(index_elements=[self.cursors.c.feed]))
            taken = conn.execute(
                sa.update(self.cursors).where(self.cursors.c.feed == feed).where(sa.or_(
                    self.cursors.c.holder.is_(None), self.cursors.c.holder == holder,
                    self.cursors.c.lease_expires_at < now))
                .values(holder=holder, lease_expires_at=now + timedelta(seconds=seconds))).rowcount == 1
            last_id = conn.execute(sa.select(self.cursors.c.last_id).where(self.cursors.c.feed == feed)).scalar_one()
        return taken, last_id

    def advance(self, feed: str, holder: str, last_id: str) -> bool:
        """Moves the cursor, only while this holder holds the feed (a lapsed poller writes nothing)."""
        with self.engine.begin() as conn:
            return conn.execute(sa.update(self.cursors).where(self.cursors.c.feed == feed)
                                .where(self.cursors.c.holder == holder)
                                .values(last_id=last_id, updated_at=datetime.now(UTC))).rowcount == 1

    def release_feed(self, feed: str, holder: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(self.cursors).where(self.cursors.c.feed == feed)
                         .where(self.cursors.c.holder == holder).values(holder=None, lease_expires_at=None))

    def cursor(self, feed: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(self.cursors.c.last_id).where(self.cursors.c.feed == feed)).scalar()

    def close(self) -> None:
        self.engine.dispose()
