"""The delivery engine's hot statements, built once per store with bind parameters.

Building a SQLAlchemy statement with aliases and a correlated subquery costs more than running it
on SQLite; the engine claims and settles hundreds of times a second, so these are made once and
only their parameters change (``:destination``, ``:now``, ``:limit``, ``:seqs`` …).
"""

from dataclasses import dataclass
import hashlib
from typing import Any

import sqlalchemy as sa

from gateway.store.api import JobState, OnDead
from gateway.store.tables import attempts, dossiers, jobs, packets

PENDING, LEASED, DELIVERED, DEAD = (state.value for state in JobState)

TOKEN_MARK = "#"  # a lease's owner is "<worker>#<claim token>"  # noqa: S105 - a separator, not a password
SESSION_MARK = "~"  # … "<worker>#~<claim token>" when the lease lasts only as long as the worker's session
SESSION_PREFIX = "gateway-lease:"
# A session-tied lease whose session has ended is taken once its heartbeat is this old: the engine beats
# every BEAT_SECONDS at most, so a live worker misses four beats before its leases can go.
BEAT_SECONDS = 0.25
STALE_SECONDS = 1.0


def session_name(worker: str) -> str:
    """The application_name of the PostgreSQL session that keeps ``worker``'s session-tied leases alive
    (hashed: application_name holds 63 bytes)."""
    return SESSION_PREFIX + hashlib.md5(worker.encode(), usedforsecurity=False).hexdigest()[:16]


def _session_gone(owner: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """PostgreSQL: the lease is session-tied and its worker's session has ended (the process died, or
    its holding connection dropped for a moment)."""
    activity = sa.table("pg_stat_activity", sa.column("application_name"))
    live = sa.select(activity.c.application_name).where(activity.c.application_name.startswith(SESSION_PREFIX))
    worker = sa.func.split_part(owner, TOKEN_MARK, 1)
    return sa.and_(owner.contains(TOKEN_MARK + SESSION_MARK),
                   (sa.literal(SESSION_PREFIX) + sa.func.left(sa.func.md5(worker), 16)).not_in(live.scalar_subquery()))


def lapsed(table: sa.FromClause, postgres: bool) -> sa.ColumnElement[bool]:
    """A leased job another worker may take: its lease ran out (``:now``), or — PostgreSQL — it is tied to
    a session that has ended AND its heartbeat is stale (``lease_expires_at`` not pushed since ``:stale``,
    i.e. ``:now - STALE_SECONDS`` + the lease). The session alone is not enough: a live worker whose
    holding connection dropped for a moment keeps beating through its other connections, and its calls
    in flight must not be sent again by another worker."""
    now = sa.bindparam("now", type_=jobs.c.next_attempt_at.type)
    ran_out = table.c.lease_expires_at <= now
    if not postgres:
        return ran_out
    stale = sa.bindparam("stale", type_=jobs.c.lease_expires_at.type)
    return sa.or_(ran_out, sa.and_(table.c.lease_expires_at <= stale, _session_gone(table.c.lease_owner)))


def is_ready(table: sa.FromClause) -> sa.ColumnElement[bool]:
    """Pending or leased, written as ix_jobs_ready's condition (SQLite matches partial indexes by text)."""
    return table.c.state.in_([sa.literal_column("'pending'"), sa.literal_column("'leased'")])


def is_open(table: sa.FromClause) -> sa.ColumnElement[bool]:
    """Not delivered, written as ix_jobs_open_key's condition."""
    return table.c.state != sa.literal_column("'delivered'")


@dataclass(frozen=True)
class ClaimStatements:
    heads: sa.Select[Any]  # (seq, ordering_key) of up to :limit claimable heads, in seq order
    followers: sa.Select[Any]  # jobs behind the heads :keys, ranked per key (n), from :after on
    lease: sa.Update  # :seqs leased to :worker until :expires; on PostgreSQL returning ``rows``' columns
    rows: sa.Select[Any] | None  # what a claimed job carries, for :seqs (SQLite: its RETURNING cannot join)


def claim_statements(postgres: bool, on_dead: OnDead) -> ClaimStatements:
    destination: sa.BindParameter[str] = sa.bindparam("destination")
    now = sa.bindparam("now", type_=jobs.c.next_attempt_at.type)
    blocking = [PENDING, LEASED] + ([DEAD] if on_dead == "hold" else [])
    head, earlier = jobs.alias("head"), jobs.alias("earlier")
    available = sa.or_(head.c.state == PENDING, sa.and_(head.c.state == LEASED, lapsed(head, postgres)))
    # The walk in seq order reads ix_jobs_ready; for each row, "is it its key's first blocking job?"
    # is one probe of ix_jobs_open_key. Both hold undelivered rows only, so the history is never
    # scanned. A scalar subquery, not NOT EXISTS: the planner cannot turn it into a join that
    # rescans the destination's open jobs per row when its statistics are stale (fresh tables).
    first_blocking = (sa.select(earlier.c.seq).where(
        earlier.c.destination == destination, earlier.c.ordering_key == head.c.ordering_key,
        is_open(earlier), earlier.c.state.in_(blocking))
        .order_by(earlier.c.seq).limit(1).scalar_subquery())
    heads = (sa.select(head.c.seq, head.c.ordering_key)
             .where(head.c.destination == destination, is_ready(head), available,
                    head.c.next_attempt_at <= now, head.c.seq == first_blocking)
             .order_by(head.c.seq).limit(sa.bindparam("limit", type_=sa.Integer)))
    if postgres:
        heads = heads.with_for_update(skip_locked=True, of=head)
    # "free" as the head's test says it: the rest of a dead worker's batch travels with its head, not one
    # job per claim behind it (which cost PostgreSQL's recovery seconds)
    free = sa.or_(jobs.c.state == PENDING, sa.and_(jobs.c.state == LEASED, lapsed(jobs, postgres)))
    ranked = (sa.select(jobs.c.seq, jobs.c.ordering_key, jobs.c.state, jobs.c.next_attempt_at,
                        sa.case((free, True), else_=False).label("free"),
                        sa.func.row_number().over(partition_by=jobs.c.ordering_key, order_by=jobs.c.seq).label("n"))
              .where(jobs.c.destination == destination, jobs.c.ordering_key.in_(sa.bindparam("keys", expanding=True)),
                     is_open(jobs), jobs.c.seq > sa.bindparam("after"))
              .subquery())
    followers = (sa.select(ranked).where(ranked.c.n <= sa.bindparam("ranks"))
                 .order_by(ranked.c.ordering_key, ranked.c.seq))
    seqs: sa.BindParameter[list[int]] = sa.bindparam("seqs", expanding=True)
    lease = jobs.update().where(jobs.c.seq.in_(seqs)).values(
        state=LEASED, lease_owner=sa.bindparam("worker"),
        lease_expires_at=sa.bindparam("expires", type_=jobs.c.lease_expires_at.type))
    carried = (jobs.c.seq, jobs.c.job_id, jobs.c.packet_id, jobs.c.ordering_key, jobs.c.attempts,
               packets.c.raw, packets.c.encoding, packets.c.packet_type)
    if postgres:  # one round trip: UPDATE … FROM packets … RETURNING
        return ClaimStatements(heads, followers, lease.where(packets.c.packet_id == jobs.c.packet_id)
                               .returning(*carried), None)
    rows = sa.select(*carried).join(packets, packets.c.packet_id == jobs.c.packet_id).where(jobs.c.seq.in_(seqs))
    return ClaimStatements(heads, followers, lease, rows)


def held_by_worker() -> sa.ColumnElement[bool]:
    """The jobs :job_ids that :worker still holds: one claim's holder ("<worker>#<token>"), or a worker's
    name for any claim of that worker."""
    worker = sa.cast(sa.bindparam("worker"), sa.String)
    return sa.and_(jobs.c.job_id.in_(sa.bindparam("job_ids", expanding=True)), jobs.c.state == LEASED,
                   sa.or_(jobs.c.lease_owner == worker,
                          sa.func.substr(jobs.c.lease_owner, 1, sa.func.length(worker) + 1)
                          == worker.concat(TOKEN_MARK)))


def held_each() -> sa.ColumnElement[bool]:
    """The jobs of :held, (job id, holder) pairs, whose claim still holds them; :job_ids names the same jobs. The
    pairs alone would be a row-value IN, which SQLite (without statistics) answers by reading every job: the ids
    let it find them by the job id's own index."""
    return sa.and_(jobs.c.job_id.in_(sa.bindparam("job_ids", expanding=True)),
                   sa.tuple_(jobs.c.job_id, jobs.c.lease_owner).in_(sa.bindparam("held", expanding=True)),
                   jobs.c.state == LEASED)


def complete_statements(held: sa.ColumnElement[bool]) -> tuple[sa.Update, sa.Insert]:
    """Delivered (returning each job's attempt number), and the attempts' records."""
    complete = (jobs.update().where(held)
                .values(attempts=jobs.c.attempts + 1, lease_owner=None, lease_expires_at=None, state=DELIVERED,
                        delivered_at=sa.bindparam("at", type_=jobs.c.delivered_at.type), last_error=None)
                .returning(jobs.c.job_id, jobs.c.attempts))
    return complete, attempts.insert()


def abandoned() -> sa.Update:
    """Every job leased by a worker whose name starts with :prefix, back to pending."""
    prefix = sa.cast(sa.bindparam("prefix"), sa.String)
    return (jobs.update().where(jobs.c.state == LEASED,
                                sa.func.substr(jobs.c.lease_owner, 1, sa.func.length(prefix)) == prefix)
            .values(state=PENDING, lease_owner=None, lease_expires_at=None)
            .returning(jobs.c.destination))


def stored_ids_sql(sqlite: bool) -> str:
    """Which of a list of packet ids are stored, and by whom (admission, once per accepted batch), as the
    driver's SQL with one parameter: the list, as a JSON array for sqlite3, a list for psycopg."""
    listed = "IN (SELECT value FROM json_each(?))" if sqlite else "= ANY(%s)"
    return (f"SELECT {packets.c.packet_id.name}, {packets.c.sender.name} FROM {packets.name} "
            f"WHERE {packets.c.packet_id.name} {listed}")


def owners_sql(sqlite: bool) -> str:
    """The owners of a list of dossiers (admission, once per accepted batch), as ``stored_ids_sql``."""
    listed = "IN (SELECT value FROM json_each(?))" if sqlite else "= ANY(%s)"
    return (f"SELECT {dossiers.c.dossier.name}, {dossiers.c.agency.name} FROM {dossiers.name} "
            f"WHERE {dossiers.c.dossier.name} {listed}")


def previous_status_sql(placeholder: str) -> str:
    """The last status accepted for a dossier (validation's status history, read on every packet), as
    the driver's SQL: ``placeholder`` is its parameter mark (``?`` sqlite3, ``%s`` psycopg)."""
    return (f"SELECT {packets.c.status.name} FROM {packets.name} WHERE {packets.c.dossier.name} = {placeholder} "
            f"AND {packets.c.status.name} IS NOT NULL ORDER BY {packets.c.received_at.name} DESC LIMIT 1")

