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

from gateway.audit.chain import Entry, canonical_detail, entry_digest, link, timestamp
from gateway.audit.checkpoint import Checkpoint
from gateway.store.tables import audit, audit_checkpoints, audit_head

# What an append is handed: (actor, action, subject, dossier, detail).
NewEntry = tuple[str, str, str, "str | None", "dict[str, Any] | None"]

_HEAD = sa.select(audit_head.c.n, audit_head.c.hash).where(audit_head.c.id == 1)


def append(connection: sa.Connection, entries: Sequence[NewEntry], at: datetime | None = None) -> None:
    if not entries:
        return
    at = at or datetime.now(UTC)
    stamp = timestamp(at)
    n, previous = connection.execute(_HEAD.with_for_update()).one()
    rows = []
    for actor, action, subject, dossier, detail in entries:
        n += 1
        detail = canonical_detail(detail)
        digest = entry_digest(n, stamp, actor, action, subject, dossier, detail)
        previous = link(previous, digest)
        rows.append(dict(n=n, at=at, actor=actor, action=action, subject=subject, dossier=dossier, detail=detail,
                         digest=digest, hash=previous))
    connection.execute(audit.insert(), rows)
    connection.execute(audit_head.update().where(audit_head.c.id == 1).values(n=n, hash=previous))


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
