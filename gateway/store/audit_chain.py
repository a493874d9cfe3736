"""Appending to and reading the audit hash chain (``gateway.audit.chain``) inside the store's transactions.

Appends lock the one-row ``audit_head`` (PostgreSQL: ``FOR UPDATE``; SQLite has one writer already) as
the transaction's last step, so entries of every gateway and worker process link in one line while
the lock is held only from there to the commit. Entries are written with the head in the same
transaction: a rolled-back transaction leaves neither.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Sequence

import sqlalchemy as sa

from gateway.audit.chain import Entry, canonical_detail, canonical_json, entry_digest, link, timestamp
from gateway.audit.checkpoint import Checkpoint
from gateway.store.tables import audit, audit_checkpoints, audit_head

# What an append is handed: (actor, action, subject, dossier, detail).
NewEntry = tuple[str, str, str, "str | None", "dict[str, Any] | None"]

_HEAD = sa.select(audit_head.c.n, audit_head.c.hash).where(audit_head.c.id == 1)
_COLUMNS_IN = ("n", "at", "actor", "action", "subject", "dossier", "detail", "digest", "hash")


def _insert_sql(sqlite: bool) -> str:
    mark = "?" if sqlite else "%s"
    values = [mark if column != "detail" or sqlite else f"CAST({mark} AS json)" for column in _COLUMNS_IN]
    return f"INSERT INTO {audit.name} ({', '.join(_COLUMNS_IN)}) VALUES ({', '.join(values)})"


_STATEMENTS = {
    sqlite: (f"SELECT n, hash FROM {audit_head.name} WHERE id = 1" + ("" if sqlite else " FOR UPDATE"),
             _insert_sql(sqlite), f"UPDATE {audit_head.name} SET n = {'?' if sqlite else '%s'}, "
                                  f"hash = {'?' if sqlite else '%s'} WHERE id = 1")
    for sqlite in (True, False)}


def append(connection: sa.Connection, entries: Sequence[NewEntry], at: datetime | None = None, *,
           plain: bool = False) -> None:
    """Links ``entries`` to the chain in this transaction. ``plain``: every detail is already plain JSON
    (text keys, no tuples or dates), as the store's own entries are; others are made so first.

    On the driver's own cursor, three statements, each detail serialised once: the accepting transaction
    pays for this per packet."""
    if not entries:
        return
    at = (at or datetime.now(UTC)).astimezone(UTC)
    sqlite = connection.dialect.name == "sqlite"
    read_head, insert, move_head = _STATEMENTS[sqlite]
    stored_at: Any = at.replace(tzinfo=None)
    if sqlite:  # as SQLAlchemy's DateTime keeps it in SQLite, so the store reads it back the same
        stored_at = stored_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    stamp = timestamp(at)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(read_head)
        n, previous = cursor.fetchone()
        rows = []
        for actor, action, subject, dossier, detail in entries:
            n += 1
            text = canonical_json(detail or {} if plain else canonical_detail(detail))
            digest = entry_digest(n, stamp, actor, action, subject, dossier, text)
            previous = link(previous, digest)
            rows.append((n, stored_at, actor, action, subject, dossier, text, digest, previous))
        cursor.executemany(insert, rows)
        cursor.execute(move_head, (n, previous))
    finally:
        cursor.close()


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
    """Entries naming the dossier, or whose subject is the dossier or one of ``subjects`` (its packets, jobs)."""
    wanted = sorted({dossier, *subjects})
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
    connection.execute(audit_checkpoints.insert().values(
        n=checkpoint.n, hash=checkpoint.hash, at=checkpoint.at, jws=checkpoint.jws,
        timestamp_token=checkpoint.timestamp_token))
