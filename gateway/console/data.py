"""What the console's pages read from the store: search, a dossier's timeline, the overview, reports.

Read-only SQL over the store's tables on the store's engine; every change an operator makes goes
through the store's own methods (``Store.replay``, ``Store.set_paused``, ``Store.audit``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gateway.console.accounts import Operator
from gateway.packets.stored import hoso_fields
from gateway.receive.ownership import Ownership
from gateway.store.api import JobState
from gateway.store.sealing import KeyRing, unseal
from gateway.store import dossier_sync, tables
from gateway.store.tables import REFUSED_ENTRIES, attempts, audit, destinations, dossiers, jobs, packets

LOCAL_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh has no daylight saving time: months are cut at UTC+7


# --- dossier ownership: the recorded owner (``dossiers``), judged by the API's own ``Ownership`` ----------
# One decision for every read: the console asks ``Ownership.may_act`` over the owner the store recorded,
# hand-overs included, exactly as look-ups and evidence bundles do.

def dossier_agency(connection: sa.Connection, dossier: str) -> str | None:
    """The agency that owns ``dossier`` (the store's ownership record)."""
    return connection.execute(sa.select(dossiers.c.agency).where(dossiers.c.dossier == dossier)).scalar()


def may_read(ownership: Ownership, operator: Operator, owner: str | None) -> bool:
    """Whether ``operator`` may read a dossier of ``owner`` (None: no owner recorded — only an operator of
    all agencies, as a client of any agency)."""
    return operator.all_agencies or (owner is not None and ownership.may_act(operator.acting_for, owner))


def visible_packets(operator: Operator) -> list[sa.ColumnElement[bool]]:
    """The condition on ``packets`` rows an operator may see in lists (all, or those its agencies sent: a
    packet's NoiGui is its dossier's owner or an agency the owner hands over to, as the intake enforces)."""
    return [] if operator.all_agencies else [packets.c.agency.in_(operator.agencies)]


# --- search ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    dossier: str | None = None
    packet_id: str | None = None
    sender: str | None = None
    packet_type: str | None = None
    destination: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50

    @property
    def empty(self) -> bool:
        return not any((self.dossier, self.packet_id, self.sender, self.packet_type, self.destination, self.state,
                        self.since, self.until))


@dataclass
class Found:
    packet_id: str
    dossier: str | None
    packet_type: str
    sender: str
    agency: str | None
    received_at: datetime
    jobs: list[tuple[str, str]] = field(default_factory=list)  # (destination, state)


def search(engine: sa.Engine, query: Search, operator: Operator) -> list[Found]:
    conditions = visible_packets(operator)
    for column, value in ((packets.c.dossier, query.dossier), (packets.c.packet_id, query.packet_id),
                          (packets.c.sender, query.sender), (packets.c.packet_type, query.packet_type)):
        if value:
            conditions.append(column == value)
    if query.since:
        conditions.append(packets.c.received_at >= query.since)
    if query.until:
        conditions.append(packets.c.received_at < query.until)
    if query.destination or query.state:
        job_conditions = [jobs.c.packet_id == packets.c.packet_id]
        if query.destination:
            job_conditions.append(jobs.c.destination == query.destination)
        if query.state:
            job_conditions.append(jobs.c.state == JobState(query.state).value)
        conditions.append(sa.select(jobs.c.seq).where(*job_conditions).exists())
    statement = (sa.select(packets.c.packet_id, packets.c.dossier, packets.c.packet_type, packets.c.sender,
                           packets.c.agency, packets.c.received_at)
                 .where(*conditions).order_by(packets.c.received_at.desc()).limit(query.limit))
    with engine.connect() as connection:
        found = {row.packet_id: Found(*row) for row in connection.execute(statement)}
        if found:
            for row in connection.execute(sa.select(jobs.c.packet_id, jobs.c.destination, jobs.c.state)
                                          .where(jobs.c.packet_id.in_(list(found))).order_by(jobs.c.seq)):
                found[row.packet_id].jobs.append((row.destination, row.state))
    return list(found.values())


# --- a dossier's timeline ---------------------------------------------------------------------------

@dataclass
class Attempt:
    n: int
    started_at: datetime
    duration_ms: int
    outcome: str
    peer_status: str | None
    message: str
    transform: str | None


@dataclass
class Delivery:
    job_id: str
    destination: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    log: list[Attempt] = field(default_factory=list)


@dataclass
class TimelinePacket:
    packet_id: str
    packet_type: str
    sender: str
    agency: str | None
    received_at: datetime
    sha256: str
    encoding: str
    status: int | None
    verdicts: dict[str, Any]
    purged: bool
    deliveries: list[Delivery] = field(default_factory=list)


def timeline(engine: sa.Engine, dossier: str, operator: Operator,
             ownership: Ownership) -> list[TimelinePacket] | None:
    """Every packet of ``dossier`` in order received, each with its deliveries and their attempts; None when
    the dossier is unknown or belongs to an agency the operator may not see (the same answer: no leak)."""
    with engine.connect() as connection:
        if not may_read(ownership, operator, dossier_agency(connection, dossier)):
            return None
        rows = connection.execute(
            sa.select(packets.c.packet_id, packets.c.packet_type, packets.c.sender, packets.c.agency,
                      packets.c.received_at, packets.c.sha256, packets.c.encoding, packets.c.status,
                      packets.c.verdicts, packets.c.purged_at)
            .where(packets.c.dossier == dossier).order_by(packets.c.received_at, packets.c.packet_id)).all()
        if not rows:
            return None
        found = {r.packet_id: TimelinePacket(r.packet_id, r.packet_type, r.sender, r.agency, r.received_at, r.sha256,
                                             r.encoding, r.status, r.verdicts or {}, r.purged_at is not None)
                 for r in rows}
        deliveries: dict[str, Delivery] = {}
        for r in connection.execute(sa.select(jobs).where(jobs.c.packet_id.in_(list(found))).order_by(jobs.c.seq)):
            deliveries[r.job_id] = Delivery(r.job_id, r.destination, r.state, r.attempts, r.last_error,
                                            r.next_attempt_at, r.delivered_at)
            found[r.packet_id].deliveries.append(deliveries[r.job_id])
        if deliveries:
            for a in connection.execute(sa.select(attempts).where(attempts.c.job_id.in_(list(deliveries)))
                                        .order_by(attempts.c.job_id, attempts.c.n)):
                deliveries[a.job_id].log.append(Attempt(a.n, a.started_at, a.duration_ms, a.outcome, a.peer_status,
                                                        a.message, a.transform))
    return list(found.values())


def packet_raw(engine: sa.Engine, packet_id: str, operator: Operator, ownership: Ownership,
               keys: KeyRing | None = None) -> tuple[bytes, str, str | None] | None:
    """(raw, encoding, dossier) of a packet the operator may see and that is not purged; ``keys``: the
    store's key ring, for payloads sealed at rest."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(packets.c.raw, packets.c.encoding, packets.c.dossier, packets.c.agency)
                                 .where(packets.c.packet_id == packet_id)).first()
        if row is None or row.raw is None:
            return None
        if row.dossier:  # a dossier's packet: the recorded owner decides, hand-overs included
            allowed = may_read(ownership, operator, dossier_agency(connection, row.dossier))
        else:  # a packet of no dossier: its own NoiGui
            allowed = operator.sees(row.agency)
    return (unseal(keys, packet_id, row.raw), row.encoding, row.dossier) if allowed else None


# --- dead letters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeadLetter:
    job_id: str
    destination: str
    dossier: str | None
    packet_type: str
    agency: str | None
    attempts: int
    last_error: str | None
    created_at: datetime


def dead_letters(engine: sa.Engine, operator: Operator, *, destination: str | None = None, dossier: str | None = None,
                 reason: str | None = None, limit: int = 200) -> list[DeadLetter]:
    # written as ix_jobs_dead / ix_jobs_dead_seq say it (a literal, no bound value) so that both stores use the
    # partial index; a Boolean literal_column is rendered ``… = 1`` by SQLAlchemy 2.1 on SQLite, which no index
    # matches: an agency's page then read all its packets (1.3 s p95 at 1 M, bench/README.md)
    conditions = [jobs.c.state == sa.literal_column("'dead'"), *visible_packets(operator)]
    if destination:
        conditions.append(jobs.c.destination == destination)
    if dossier:
        conditions.append(packets.c.dossier == dossier)
    if reason:
        conditions.append(jobs.c.last_error.contains(reason, autoescape=True))
    statement = (sa.select(jobs.c.job_id, jobs.c.destination, packets.c.dossier, packets.c.packet_type,
                           packets.c.agency, jobs.c.attempts, jobs.c.last_error, jobs.c.created_at)
                 .join(packets, packets.c.packet_id == jobs.c.packet_id).where(*conditions)
                 .order_by(jobs.c.seq).limit(limit))
    with engine.connect() as connection:
        return [DeadLetter(*row) for row in connection.execute(statement)]


def visible_jobs(engine: sa.Engine, job_ids: Sequence[str], operator: Operator) -> list[str]:
    """Those of ``job_ids`` the operator may act on (a forged form cannot reach another agency's jobs)."""
    if not job_ids:
        return []
    with engine.connect() as connection:
        return list(connection.execute(
            sa.select(jobs.c.job_id).join(packets, packets.c.packet_id == jobs.c.packet_id)
            .where(jobs.c.job_id.in_(list(job_ids)), *visible_packets(operator))).scalars())


# --- overview ---------------------------------------------------------------------------------------

def _epoch(engine: sa.Engine, column: Any) -> Any:
    if engine.dialect.name == "sqlite":  # julianday: half the CPU of strftime('%s') per row
        return sa.cast((sa.func.julianday(column) - 2440587.5) * 86400, sa.BigInteger)
    return sa.cast(sa.func.floor(sa.func.extract("epoch", column)), sa.BigInteger)


@dataclass
class DestinationFigures:
    name: str
    state: str = "flowing"  # flowing | retrying | circuit_open | paused | maintenance
    paused: bool = False
    pause_reason: str | None = None
    breaker: str = "closed"
    maintenance_until: datetime | None = None
    backlog: int = 0
    retrying: int = 0  # 1 when a waiting job has failed before
    oldest_waiting: datetime | None = None
    delivered_hour: int = 0
    delivered_day: int = 0
    failed_hour: int = 0
    failed_day: int = 0
    dead: int = 0


def destination_figures(engine: sa.Engine, names: Sequence[str], now: datetime) -> dict[str, DestinationFigures]:
    figures = {name: DestinationFigures(name) for name in names}
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    with engine.connect() as connection:
        # each count stays in a partial index (the open jobs', the dead letters'), however long the history
        for name, n in connection.execute(sa.select(jobs.c.destination, sa.func.count())
                                          .where(sa.text("state IN ('pending', 'leased')")).group_by(jobs.c.destination)):
            figures.setdefault(name, DestinationFigures(name)).backlog = int(n)
        for name, n in connection.execute(sa.select(jobs.c.destination, sa.func.count())
                                          .where(sa.text("state = 'dead'")).group_by(jobs.c.destination)):
            figures.setdefault(name, DestinationFigures(name)).dead = int(n)
        for name, entry in figures.items():
            if entry.backlog:
                first = connection.execute(sa.select(jobs.c.created_at).where(
                    jobs.c.destination == name, sa.text("state IN ('pending', 'leased')"))
                    .order_by(jobs.c.seq).limit(1)).scalar()
                entry.oldest_waiting = first
                entry.retrying = int(connection.execute(sa.select(sa.literal(1)).where(  # any: stops at the first
                    jobs.c.destination == name, sa.text("state IN ('pending', 'leased')"), jobs.c.attempts > 0)
                    .limit(1)).scalar() or 0)
        delivered_hour = sa.func.sum(sa.case((jobs.c.delivered_at >= hour, 1), else_=0))
        # SQLite would rather scan a whole index in destination order than range-read ix_jobs_delivered and
        # sort: "+destination" takes that choice away (PostgreSQL picks the range read by itself)
        by_destination = sa.text("+jobs.destination") if engine.dialect.name == "sqlite" else jobs.c.destination
        for row in connection.execute(sa.select(jobs.c.destination, sa.func.count(), delivered_hour)
                                      .where(jobs.c.delivered_at >= day).group_by(by_destination)):
            entry = figures.setdefault(row[0], DestinationFigures(row[0]))
            entry.delivered_day, entry.delivered_hour = int(row[1]), int(row[2] or 0)
        failed_hour = sa.func.sum(sa.case((attempts.c.started_at >= hour, 1), else_=0))
        for row in connection.execute(
                sa.select(jobs.c.destination, sa.func.count(), failed_hour)
                .select_from(attempts.join(jobs, jobs.c.job_id == attempts.c.job_id))
                .where(attempts.c.started_at >= day, attempts.c.outcome.in_(["transient", "permanent"]))
                .group_by(jobs.c.destination)):
            entry = figures.setdefault(row[0], DestinationFigures(row[0]))
            entry.failed_day, entry.failed_hour = int(row[1]), int(row[2] or 0)
        for row in connection.execute(sa.select(destinations)):
            if row.name in figures:
                entry = figures[row.name]
                entry.paused, entry.pause_reason, entry.breaker = bool(row.paused), row.pause_reason, row.breaker_state
    return figures


RANGES = {"hour": (timedelta(hours=1), 12), "day": (timedelta(days=1), 24), "week": (timedelta(days=7), 28)}


@dataclass
class Series:
    starts: list[datetime]
    delivered: list[int]
    failed: list[int]
    accepted: list[int]
    backlog: list[int]
    latency_s: list[float | None]  # mean acceptance → delivery of the bucket's deliveries


CLOSED_AFTER = timedelta(minutes=5)  # a bucket that ended this long ago is final: kept in console_buckets


def _bucket_counts(engine: sa.Engine, destination: str, origin: int, width: int, until: datetime | None,
                   count: int) -> dict[int, tuple[int, float, int, int]]:
    """Per bucket index from ``origin`` (epoch seconds) of ``width`` seconds, up to ``until`` (None: now):
    (delivered, sum of acceptance → delivery seconds, accepted, failed)."""
    start = datetime.fromtimestamp(origin, UTC)

    def buckets(column: Any, *where: Any, extra: Any = None) -> dict[int, tuple[int, float]]:
        bucket = (_epoch(engine, column) - origin) // width  # integer division: no rounding up into the next bucket
        value = sa.func.count() if extra is None else sa.func.sum(extra)
        bounds = [column >= start] + ([column < until] if until is not None else [])
        statement = sa.select(bucket.label("b"), sa.func.count(), value).where(*bounds, *where).group_by("b")
        with engine.connect() as connection:
            found: dict[int, tuple[int, float]] = {}
            for b, n, v in connection.execute(statement):  # the current second may round into one bucket more
                b = min(int(b), count - 1)
                if b >= 0:
                    previous = found.get(b, (0, 0.0))
                    found[b] = (previous[0] + int(n), previous[1] + float(v or 0))
            return found

    delivered = buckets(jobs.c.delivered_at, jobs.c.destination == destination,
                        extra=_epoch(engine, jobs.c.delivered_at) - _epoch(engine, jobs.c.created_at))
    accepted = buckets(jobs.c.created_at, jobs.c.destination == destination)
    failed = buckets(attempts.c.started_at, attempts.c.job_id.like(f"%/{destination}"),
                     attempts.c.outcome.in_(["transient", "permanent"]))
    return {i: (delivered.get(i, (0, 0.0))[0], delivered.get(i, (0, 0.0))[1], accepted.get(i, (0, 0.0))[0],
                failed.get(i, (0, 0.0))[0]) for i in range(count)}


def _kept_buckets(engine: sa.Engine, destination: str, width: int, starts: list[int],
                  now: datetime) -> dict[int, tuple[int, float, int, int]]:
    """The closed buckets among ``starts``: read from console_buckets, the missing ones worked out in one
    range read and kept for next time."""
    from gateway.store.tables import console_buckets as kept

    closed = [s for s in starts if datetime.fromtimestamp(s + width, UTC) <= now - CLOSED_AFTER]
    if not closed:
        return {}
    with engine.connect() as connection:
        found = {row.start: (row.delivered, row.latency_s, row.accepted, row.failed) for row in connection.execute(
            sa.select(kept).where(kept.c.destination == destination, kept.c.width == width,
                                  kept.c.start.in_(closed)))}
    missing = [s for s in closed if s not in found]
    if missing:
        first, last = min(missing), max(missing)
        count = (last - first) // width + 1
        computed = _bucket_counts(engine, destination, first, width, datetime.fromtimestamp(last + width, UTC), count)
        rows = [dict(destination=destination, width=width, start=s, delivered=v[0], latency_s=v[1], accepted=v[2],
                     failed=v[3]) for i, v in computed.items() if (s := first + i * width) in missing]
        insert = (sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert)(kept)
        try:
            with engine.begin() as connection:
                connection.execute(insert.on_conflict_do_nothing(), rows)
        except sa.exc.SQLAlchemyError:  # kept next time, then: the page is drawn anyway
            pass
        found.update({row["start"]: (row["delivered"], row["latency_s"], row["accepted"], row["failed"]) for row in rows})
    return found


def series(engine: sa.Engine, destination: str, span: str, now: datetime, backlog_now: int) -> Series:
    """Per bucket over the last hour (5 min), day (1 h) or week (6 h), buckets aligned on their width (the last one
    is still open). Closed buckets come from console_buckets (worked out once); the open ones are read live.
    The backlog at each bucket's end is worked back from today's: minus what was accepted after it, plus
    what was delivered after it."""
    length, count = RANGES[span]
    width = int(length.total_seconds()) // count
    last = int(now.timestamp()) // width * width
    starts = [last - (count - 1 - i) * width for i in range(count)]
    values = _kept_buckets(engine, destination, width, starts, now)
    open_from = next((i for i, s in enumerate(starts) if s not in values), count)
    if open_from < count:
        live = _bucket_counts(engine, destination, starts[open_from], width, None, count - open_from)
        values.update({starts[open_from + i]: v for i, v in live.items()})
    row = [values.get(s, (0, 0.0, 0, 0)) for s in starts]
    result = Series([datetime.fromtimestamp(s, UTC) for s in starts], [v[0] for v in row], [v[3] for v in row],
                    [v[2] for v in row], [0] * count, [v[1] / v[0] if v[0] else None for v in row])
    level = backlog_now
    for i in reversed(range(count)):
        result.backlog[i] = max(0, level)
        level += result.delivered[i] - result.accepted[i]
    return result


# --- monthly report ---------------------------------------------------------------------------------

@dataclass
class MonthRow:
    agency: str
    month: str  # YYYY-MM, local time
    received: int = 0  # every packet that arrived: stored, and refused before storing
    valid: int = 0
    refused: int = 0  # refused (the audit log's ``packet.refused``): never stored
    delivered: int = 0
    delivered_late: int = 0


def _month(engine: sa.Engine, column: Any) -> Any:
    if engine.dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m", column, f"+{LOCAL_OFFSET_HOURS} hours")
    return sa.func.to_char(column + sa.text(f"interval '{LOCAL_OFFSET_HOURS} hours'"), "YYYY-MM")


def sender_agencies(config: Any, engine: sa.Engine) -> dict[str, tuple[str, ...] | None]:
    """Each API client's agencies (None: any), as configured and as ``gateway clients`` overrides them: whom a
    refusal, which names only its sender, is counted for."""
    from gateway.store.tables import api_clients

    found: dict[str, tuple[str, ...] | None] = {}
    for name, raw in config.section("clients").items():
        agencies = raw.get("agencies") if isinstance(raw, dict) else None
        found[name] = tuple(agencies) if agencies is not None else None
    with engine.connect() as connection:
        for name, agencies in connection.execute(sa.select(api_clients.c.name, api_clients.c.agencies)):
            if agencies is not None or name not in found:
                found[name] = tuple(agencies) if agencies is not None else None
    return found


def _hour(engine: sa.Engine, column: Any) -> Any:
    """The UTC hour a timestamp falls in, as text (exact: no float arithmetic at the hour's edge)."""
    if engine.dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m-%d %H", column)
    return sa.func.to_char(column, "YYYY-MM-DD HH24")


Counts = dict[tuple[str, str], list[int]]  # (agency, month or hour) → [received, valid, delivered, late]


def _counted(connection: sa.Connection, engine: sa.Engine, key: Any, key_delivered: Any,
             scope: list[sa.ColumnElement[bool]], since: datetime, until: datetime, late_after: timedelta) -> Counts:
    """Packets received (and valid) by when they arrived, jobs delivered (and late) by when they were delivered,
    per agency and ``key`` over [since, until)."""
    found: Counts = {}
    agency = sa.func.coalesce(packets.c.agency, "—")
    valid = packets.c.verdicts["validation"]["valid"].as_boolean()
    for a, k, n, n_valid in connection.execute(
            sa.select(agency, key, sa.func.count(), sa.func.sum(sa.case((valid.is_(False), 0), else_=1)))
            .where(packets.c.received_at >= since, packets.c.received_at < until, *scope).group_by(agency, key)):
        entry = found.setdefault((a, k), [0, 0, 0, 0])
        entry[0], entry[1] = int(n), int(n_valid or 0)
    late = sa.func.sum(sa.case(((_epoch(engine, jobs.c.delivered_at) - _epoch(engine, jobs.c.created_at))
                                > int(late_after.total_seconds()), 1), else_=0))
    for a, k, n, n_late in connection.execute(
            sa.select(agency, key_delivered, sa.func.count(), late)
            .select_from(jobs.join(packets, packets.c.packet_id == jobs.c.packet_id))
            .where(jobs.c.delivered_at >= since, jobs.c.delivered_at < until, *scope)
            .group_by(agency, key_delivered)):
        entry = found.setdefault((a, k), [0, 0, 0, 0])
        entry[2], entry[3] = int(n), int(n_late or 0)
    return found


def _local_month(hour_start: int) -> str:
    return datetime.fromtimestamp(hour_start + LOCAL_OFFSET_HOURS * 3600, UTC).strftime("%Y-%m")


def _kept_hours(engine: sa.Engine, operator: Operator, first: int, last: int, late_after: timedelta) -> Counts:
    """Per agency and local month, the counts of the closed hours [first, last) (epoch seconds): read from
    console_hours, the hours not counted yet counted in one range read and kept for next time."""
    from gateway.store.tables import console_hours as kept

    late_s = int(late_after.total_seconds())
    hours = range(first, last, 3600)
    scope = [] if operator.all_agencies else [kept.c.agency.in_(operator.agencies)]
    with engine.connect() as connection:
        counted = set(connection.execute(sa.select(kept.c.start).where(
            kept.c.late_after == late_s, kept.c.start >= first, kept.c.start < last, kept.c.agency == "")).scalars())
    missing = [h for h in hours if h not in counted]
    if missing:
        low, high = min(missing), max(missing) + 3600
        with engine.connect() as connection:
            computed = _counted(connection, engine, _hour(engine, packets.c.received_at),
                                _hour(engine, jobs.c.delivered_at), [], datetime.fromtimestamp(low, UTC),
                                datetime.fromtimestamp(high, UTC), late_after)
        wanted = set(missing)
        rows = [dict(late_after=late_s, start=h, agency="", received=0, valid=0, delivered=0, late=0) for h in missing]
        for (a, k), v in computed.items():
            h = int(datetime.strptime(k, "%Y-%m-%d %H").replace(tzinfo=UTC).timestamp())
            if h in wanted:
                rows.append(dict(late_after=late_s, start=h, agency=a, received=v[0], valid=v[1], delivered=v[2],
                                 late=v[3]))
        insert = (sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert)(kept)
        try:
            with engine.begin() as connection:
                for i in range(0, len(rows), 5000):
                    connection.execute(insert.on_conflict_do_nothing(), rows[i:i + 5000])
        except sa.exc.SQLAlchemyError:  # counted again next time, then: the report is drawn from the rows anyway
            pass
    found: Counts = {}
    with engine.connect() as connection:
        for h, a, received, valid, delivered, late in connection.execute(
                sa.select(kept.c.start, kept.c.agency, kept.c.received, kept.c.valid, kept.c.delivered, kept.c.late)
                .where(kept.c.late_after == late_s, kept.c.start >= first, kept.c.start < last, kept.c.agency != "",
                       *scope)):
            entry = found.setdefault((a, _local_month(h)), [0, 0, 0, 0])
            entry[0] += received
            entry[1] += valid
            entry[2] += delivered
            entry[3] += late
    return found


def monthly(engine: sa.Engine, operator: Operator, *, since: datetime, until: datetime,
            late_after: timedelta, senders: dict[str, tuple[str, ...] | None] | None = None,
            now: datetime | None = None, kept: bool = True) -> list[MonthRow]:
    """Per agency and month: packets received, valid and refused (by when they arrived), jobs delivered and
    delivered later than ``late_after`` after acceptance (by when they were delivered).

    Hours that closed before ``now`` (less CLOSED_AFTER) are read from console_hours (``kept``; False: every
    count straight from packets and jobs); the rest is counted live.

    A refusal is counted for its dossier's owner when the store refused it at commit (its dossier is known);
    otherwise for each agency of its sender (``senders``, see ``sender_agencies``); "—" when the sender may
    send for any agency."""
    rows: dict[tuple[str, str], MonthRow] = {}
    scope = visible_packets(operator)

    def row(key: tuple[str, str]) -> MonthRow:
        return rows.setdefault(key, MonthRow(*key))

    def add(counts: Counts) -> None:
        for key, (received, valid, delivered, late) in counts.items():
            entry = row(key)
            entry.received += received
            entry.valid += valid
            entry.delivered += delivered
            entry.delivered_late += late

    live_from = since
    first = -(-int(since.timestamp()) // 3600) * 3600  # kept hours: whole UTC hours inside the period
    closed = int(((now or now_utc()) - CLOSED_AFTER).timestamp()) // 3600 * 3600
    last = min(int(until.timestamp()) // 3600 * 3600, closed)
    if kept and first == since.timestamp() and last > first:
        add(_kept_hours(engine, operator, first, last, late_after))
        live_from = datetime.fromtimestamp(last, UTC)
    with engine.connect() as connection:
        if live_from < until:
            add(_counted(connection, engine, _month(engine, packets.c.received_at), _month(engine, jobs.c.delivered_at),
                         scope, live_from, until, late_after))
        refused_month = _month(engine, audit.c.at)
        for actor, m, owner, n in connection.execute(
                sa.select(audit.c.actor, refused_month, dossiers.c.agency, sa.func.count())
                .select_from(audit.outerjoin(dossiers, dossiers.c.dossier == audit.c.dossier))
                .where(REFUSED_ENTRIES, audit.c.at >= since, audit.c.at < until)
                .group_by(audit.c.actor, refused_month, dossiers.c.agency)):
            agencies = (owner,) if owner else (senders or {}).get(actor) or ("—",)
            for a in agencies:
                if operator.all_agencies or a in operator.agencies:
                    entry = row((a, m))
                    entry.refused += int(n)
                    entry.received += int(n)
    return sorted(rows.values(), key=lambda r: (r.month, r.agency))


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- the sync stream's quality, dossier by dossier ---------------------------------------------------

@dataclass
class Quality:
    dossiers: int = 0  # with a packet received in the period
    finished: int = 0  # whose latest HoSo has NgayKetThucXuLy and NgayHenTra
    on_time: int = 0  # … with NgayKetThucXuLy ≤ NgayHenTra
    terminal: int = 0  # at a final status
    steps_complete: int = 0  # … reached through moves the transition graph allows, none skipped
    backwards: list[str] = field(default_factory=list)  # dossiers whose status went back outside the graph
    stale: list[str] = field(default_factory=list)  # not final, no packet for ``stale_days``

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.finished if self.finished else None


@dataclass(frozen=True)
class Judged:
    """One dossier's path, judged: what ``quality`` counts for it."""
    packets: int
    last_at: datetime
    backwards: bool
    terminal: bool
    steps_complete: bool
    finished: bool
    on_time: bool


def _judge(engine: sa.Engine, dossiers_: list[str], transitions: dict[int, frozenset[int]], terminal: frozenset[int],
           keys: KeyRing | None) -> dict[str, Judged]:
    """Every packet of ``dossiers_`` read and judged: moves, final status, the latest HoSo's dates."""
    paths: dict[str, list[tuple[datetime, int | None, str, str]]] = {}
    raws: dict[str, tuple[bytes, str]] = {}
    with engine.connect() as connection:
        for start in range(0, len(dossiers_), 500):
            for dossier, at, status, packet_type, packet_id in connection.execute(
                    sa.select(packets.c.dossier, packets.c.received_at, packets.c.status, packets.c.packet_type,
                              packets.c.packet_id).where(packets.c.dossier.in_(dossiers_[start:start + 500]))
                    .order_by(packets.c.dossier, packets.c.received_at)):
                paths.setdefault(dossier, []).append((at, status, packet_type, packet_id))
        latest_hoso = {d: next((p[3] for p in reversed(path) if p[2] == "HoSo"), None) for d, path in paths.items()}
        ids = [pid for pid in latest_hoso.values() if pid]
        for start in range(0, len(ids), 500):
            for row in connection.execute(sa.select(packets.c.packet_id, packets.c.raw, packets.c.encoding)
                                          .where(packets.c.packet_id.in_(ids[start:start + 500]),
                                                 packets.c.raw.is_not(None))):
                raws[row.packet_id] = (unseal(keys, row.packet_id, row.raw), row.encoding)
    judged: dict[str, Judged] = {}
    for dossier, path in paths.items():
        statuses = [s for _, s, _, _ in path if s is not None]
        moves = list(zip(statuses, statuses[1:]))
        backwards = any(b < a and b not in transitions.get(a, frozenset()) for a, b in moves if a != b)
        final = bool(statuses) and statuses[-1] in terminal
        complete = final and statuses[0] == 1 and all(b in transitions.get(a, frozenset()) for a, b in moves if a != b)
        finished = on_time = False
        found = raws.get(latest_hoso[dossier] or "")
        if found is not None:
            dates = hoso_fields(*found, ("NgayKetThucXuLy", "NgayHenTra"))
            if dates["NgayKetThucXuLy"] and dates["NgayHenTra"]:
                finished, on_time = True, dates["NgayKetThucXuLy"] <= dates["NgayHenTra"]
        judged[dossier] = Judged(len(path), path[-1][0], backwards, final, complete, finished, on_time)
    return judged


def quality(engine: sa.Engine, operator: Operator, *, since: datetime, until: datetime, now: datetime,
            transitions: dict[int, frozenset[int]], terminal: frozenset[int], stale_after: timedelta,
            keys: KeyRing | None = None, kept: bool = True) -> Quality:
    """What the national index set scores, for dossiers that synced in [since, until): on time, complete, never
    backwards, not silent. Dates come from the latest HoSo packet's content (``NgayGio`` text compares in order).

    Counted from each dossier's path as the intake keeps it (dossier_sync), a few grouped rows; ``kept=False``
    reads every packet of the dossiers instead (the same view, slower: what the kept paths are checked against)."""
    if kept:
        return _kept_quality(engine, operator, since, until, now, transitions, terminal, stale_after)
    with engine.connect() as connection:
        active = sorted(d for d, in connection.execute(
            sa.select(packets.c.dossier).distinct()
            .where(packets.c.received_at >= since, packets.c.received_at < until, packets.c.dossier.is_not(None),
                   *visible_packets(operator))))
    judged = _judge(engine, active, transitions, terminal, keys)
    result = Quality()
    for dossier in sorted(judged):
        path = judged[dossier]
        result.dossiers += 1
        if path.backwards:
            result.backwards.append(dossier)
        if path.terminal:
            result.terminal += 1
            result.steps_complete += path.steps_complete
        elif now - path.last_at > stale_after:
            result.stale.append(dossier)
        result.finished += path.finished
        result.on_time += path.on_time
    return result


def _kept_quality(engine: sa.Engine, operator: Operator, since: datetime, until: datetime, now: datetime,
                  transitions: dict[int, frozenset[int]], terminal: frozenset[int], stale_after: timedelta) -> Quality:
    """The view from the kept paths: counts grouped by the paths' shapes (first and latest status, moves), each
    shape judged once; the dossiers listed (backwards, silent) read by their codes."""
    sync = tables.dossier_sync
    active = sync.c.dossier.in_(_active_kept(operator, since, until))
    result = Quality()
    bad_moves: set[str] = set()
    with engine.connect() as connection:
        for first, last, moves, n, finished, on_time in connection.execute(
                sa.select(sync.c.first_status, sync.c.last_status, sync.c.moves, sa.func.count(),
                          sa.func.sum(sa.case((sync.c.finished, 1), else_=0)),
                          sa.func.sum(sa.case((sync.c.on_time, 1), else_=0)))
                .where(active).group_by(sync.c.first_status, sync.c.last_status, sync.c.moves)):
            steps = dossier_sync.parse_moves(moves)
            final = last is not None and last in terminal
            result.dossiers += n
            result.finished += int(finished or 0)
            result.on_time += int(on_time or 0)
            if final:
                result.terminal += n
                if first == 1 and all(b in transitions.get(a, frozenset()) for a, b in steps):
                    result.steps_complete += n
            if any(b < a and b not in transitions.get(a, frozenset()) for a, b in steps):
                bad_moves.add(moves)
        if bad_moves:
            result.backwards = sorted(d for d, in connection.execute(
                sa.select(sync.c.dossier).where(active, sync.c.moves.in_(sorted(bad_moves)))))
        not_final = sa.or_(sync.c.last_status.is_(None), sync.c.last_status.not_in(sorted(terminal)))
        result.stale = sorted(d for d, in connection.execute(
            sa.select(sync.c.dossier).where(active, not_final, sync.c.last_at < now - stale_after)))
    return result


def _active_kept(operator: Operator, since: datetime, until: datetime) -> sa.CompoundSelect[str]:
    """The dossiers the operator sees a packet of in [since, until), from when each agency first and last sent
    for them; only an agency's span that straddles the whole period is checked in packets.

    Two selects put together, not one with the packets' check OR-ed in: PostgreSQL costs that OR as a hashed
    subplan over the period's packets, reads every kept path to join them, and the cost crosses its JIT
    threshold (compiling took ~70 ms a query on a 1 M store); apart, each is an index range (bench/README.md)."""
    senders = tables.dossier_sync_agencies
    scope = [] if operator.all_agencies else [senders.c.agency.in_(operator.agencies)]
    inside = (sa.select(packets.c.packet_id)
              .where(packets.c.dossier == senders.c.dossier, packets.c.received_at >= since,
                     packets.c.received_at < until, sa.func.coalesce(packets.c.agency, "") == senders.c.agency)
              .exists())
    within = sa.select(senders.c.dossier).where(senders.c.last_at >= since, senders.c.first_at < until, *scope,
                                                 sa.or_(senders.c.last_at < until, senders.c.first_at >= since))
    straddling = sa.select(senders.c.dossier).where(senders.c.last_at >= until, senders.c.first_at < since, *scope,
                                                     inside)
    return sa.union_all(within, straddling)
