"""Appending to and reading the audit hash chain (``gateway.audit.chain``) inside the store's transactions.

Appends lock the one-row ``audit_head`` (PostgreSQL: ``FOR UPDATE``; SQLite has one writer already) as
the transaction's last step, so entries of every gateway and worker process link in one line while
the lock is held only from there to the commit. Entries are written with the head in the same
transaction: a rolled-back transaction leaves neither.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.audit.chain import (BATCH, Entry, batch_texts, canonical_detail, canonical_json, entry_digest, link,
                                 sealed_detail, timestamp)
from gateway.audit.checkpoint import Checkpoint
from gateway.store.tables import audit, audit_checkpoints, audit_head, packets

# What an append is handed: (actor, action, subject, dossier, detail).
NewEntry = tuple[str, str, str, "str | None", "dict[str, Any] | None"]

_HEAD = sa.select(audit_head.c.n, audit_head.c.hash).where(audit_head.c.id == 1)
_COLUMNS_IN = ("n", "at", "actor", "action", "subject", "dossier", "detail", "digest", "hash")
_TYPES = ("bigint", "timestamp", "text", "text", "text", "text", "json", "text", "text")

_SQLITE = (f"SELECT n, hash FROM {audit_head.name} WHERE id = 1",
           f"INSERT INTO {audit.name} ({', '.join(_COLUMNS_IN)}) VALUES ({', '.join('?' * len(_COLUMNS_IN))})",
           f"UPDATE {audit_head.name} SET n = ?, hash = ? WHERE id = 1")
# One statement: the head moves from what this process saw last to the batch's last entry, and the entries
# are inserted only if it did (another process may have moved it since).
_POSTGRES_APPEND = (
    f"WITH moved AS (UPDATE {audit_head.name} SET n = %(n)s, hash = %(hash)s "
    f"WHERE id = 1 AND n = %(was_n)s AND hash = %(was_hash)s RETURNING 1) "
    f"INSERT INTO {audit.name} ({', '.join(_COLUMNS_IN)}) SELECT * FROM unnest("
    + ", ".join(f"%({column}_list)s::{kind}[]" for column, kind in zip(_COLUMNS_IN, _TYPES))
    + ") WHERE EXISTS (SELECT 1 FROM moved)")
_POSTGRES_HEAD = f"SELECT n, hash FROM {audit_head.name} WHERE id = 1 FOR UPDATE"


def _linked(entries: Sequence[NewEntry], n: int, previous: str, at: datetime, stored_at: Any,
            plain: bool) -> list[tuple[Any, ...]]:
    """The rows of ``entries`` following entry ``n`` whose hash is ``previous``."""
    stamp, rows = timestamp(at), []
    for actor, action, subject, dossier, detail in entries:
        n += 1
        stored = detail or {} if plain else canonical_detail(detail)
        if action == BATCH and set(stored) == {"items"} and isinstance(stored["items"], list):
            text, sealed = batch_texts(stored["items"])  # each item serialised once
        else:
            text = canonical_json(stored)
            sealed = text if action != BATCH else canonical_json(sealed_detail(action, stored))
        digest = entry_digest(n, stamp, actor, action, subject, dossier, sealed)
        previous = link(previous, digest)
        rows.append((n, stored_at, actor, action, subject, dossier, text, digest, previous))
    return rows


class Appender:
    """Links entries to the chain inside the caller's transaction, on the driver's own cursor, each detail
    serialised once: the accepting transaction pays for this per packet.

    SQLite (one writer at a time, statements in-process): read the head, insert, move the head. PostgreSQL:
    one round trip in the usual case — the head this process wrote last is assumed, and moved by a
    conditional UPDATE in the statement that inserts; the moved row stays locked until the commit. When
    another process moved it meanwhile, nothing was written: the head is read under ``FOR UPDATE`` and the
    statement runs again, now certain to hold."""

    def __init__(self) -> None:
        self._head: tuple[int, str] | None = None  # (n, hash) this process last appended; a guess, checked

    def append(self, connection: sa.Connection, entries: Sequence[NewEntry], at: datetime | None = None, *,
               plain: bool = False) -> None:
        """``plain``: every detail is already plain JSON (text keys, no tuples or dates), as the store's own
        entries are; others are made so first."""
        if not entries:
            return
        at = (at or datetime.now(UTC)).astimezone(UTC)
        cursor = connection.connection.cursor()
        try:
            if connection.dialect.name == "sqlite":
                self._head = self._sqlite(cursor, entries, at, plain)
            else:
                self._head = self._postgres(cursor, entries, at, plain)
        finally:
            cursor.close()

    @staticmethod
    def _sqlite(cursor: Any, entries: Sequence[NewEntry], at: datetime, plain: bool) -> tuple[int, str]:
        read_head, insert, move_head = _SQLITE
        cursor.execute(read_head)
        n, previous = cursor.fetchone()
        # as SQLAlchemy's DateTime keeps it in SQLite, so the store reads it back the same
        rows = _linked(entries, n, previous, at, at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"), plain)
        cursor.executemany(insert, rows)
        cursor.execute(move_head, rows[-1][0::8])
        return rows[-1][0], rows[-1][8]

    def _postgres(self, cursor: Any, entries: Sequence[NewEntry], at: datetime, plain: bool) -> tuple[int, str]:
        head = self._head
        for _ in range(2):
            if head is None:
                cursor.execute(_POSTGRES_HEAD)
                head = cursor.fetchone()
            rows = _linked(entries, head[0], head[1], at, at.replace(tzinfo=None), plain)
            columns = {f"{column}_list": list(values) for column, values in zip(_COLUMNS_IN, zip(*rows))}
            cursor.execute(_POSTGRES_APPEND, {**columns, "n": rows[-1][0], "hash": rows[-1][8],
                                              "was_n": head[0], "was_hash": head[1]})
            if cursor.rowcount == len(rows):
                return rows[-1][0], rows[-1][8]
            head = None  # another process appended since: read the head, locked
        raise RuntimeError("the audit chain's head moved while it was locked")


def entry_of(row: Any) -> Entry:
    return Entry(int(row.n), row.digest, row.hash, timestamp(row.at), row.actor, row.action, row.subject,
                 row.dossier, row.detail)


_COLUMNS = (audit.c.n, audit.c.at, audit.c.actor, audit.c.action, audit.c.subject, audit.c.dossier, audit.c.detail,
            audit.c.digest, audit.c.hash)


def entries(connection: sa.Connection, after: int, until: int | None, limit: int) -> list[Entry]:
    query = sa.select(*_COLUMNS).where(audit.c.n > after).order_by(audit.c.n).limit(limit)
    if until is not None:
        query = query.where(audit.c.n <= until)
    return [entry_of(row) for row in connection.execute(query)]


def entries_about(connection: sa.Connection, dossier: str, subjects: Sequence[str]) -> list[Entry]:
    """Entries naming the dossier, or whose subject is the dossier or one of ``subjects`` (its packets, jobs),
    and the batch entries that accepted its packets (``packets.audit_batch``)."""
    batches = connection.execute(sa.select(packets.c.audit_batch).distinct().where(
        packets.c.dossier == dossier, packets.c.audit_batch.is_not(None))).scalars()
    wanted = sorted({dossier, *subjects, *batches})
    found: dict[int, Entry] = {}
    for chunk in range(0, len(wanted), 500):
        for row in connection.execute(sa.select(*_COLUMNS).where(audit.c.subject.in_(wanted[chunk:chunk + 500]))):
            found[int(row.n)] = entry_of(row)
    for row in connection.execute(sa.select(*_COLUMNS).where(audit.c.dossier == dossier)):
        found[int(row.n)] = entry_of(row)
    return [found[n] for n in sorted(found)]


def head(connection: sa.Connection) -> tuple[int, str]:
    n, hash_ = connection.execute(_HEAD).one()
    return int(n), str(hash_)


def _checkpoint_of(row: Any) -> Checkpoint:
    return Checkpoint(int(row.n), row.hash, row.at, row.jws, row.timestamp_token)


def checkpoints(connection: sa.Connection, at_least: int = 0) -> list[Checkpoint]:
    return [_checkpoint_of(row) for row in connection.execute(
        sa.select(audit_checkpoints).where(audit_checkpoints.c.n >= at_least).order_by(audit_checkpoints.c.n))]


def add_checkpoint(connection: sa.Connection, checkpoint: Checkpoint) -> None:
    """Inserts the checkpoint unless one of the same entry exists (two processes checkpointing one head)."""
    insert = (sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert)(audit_checkpoints)
    connection.execute(insert.on_conflict_do_nothing(index_elements=["n"]).values(
        n=checkpoint.n, hash=checkpoint.hash, at=checkpoint.at, jws=checkpoint.jws,
        timestamp_token=checkpoint.timestamp_token))
