"""The store over SQLAlchemy Core: one implementation for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json
import threading
from typing import Any, Literal
from collections.abc import Callable, Sequence
import uuid

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.audit.chain import BATCH, Entry
from gateway.audit.checkpoint import Checkpoint
from gateway.messages import summary
from gateway.store import audit_chain, dossier_sync, migrate as migrations
from gateway.store import statements as statements_
from gateway.store.api import (AcceptResult, Admit, ApiClientRecord, AttemptRecord, AttemptView, BatchNotAdmitted,
                               BreakerState, ClaimedJob, DestinationState, Guard, JobFilter, JobState, JobView,
                               NewPacket, NotAdmitted, OnDead, PacketView, ReplayRun, WorkerSeen, scoped_id)
from gateway.store.engines import create_engine, is_sqlite, lock_key, lock_keys
from gateway.store.sealing import KEY_FILE_ENV, KEYS_ENV, KeyRing, SealingError, key_id_of, unseal
from gateway.store.statements import DEAD, DELIVERED
from gateway.store.tables import (api_clients, attempts, audit, classic_passwords, destinations, dossiers, jobs, lockouts, packets,
                                  payment_callbacks, payments, receipts, replay_runs, workers)
from gateway.store.wakeups import CHANNEL, JobSignal, watch_postgres, watch_sqlite

PURGED = summary("store.purged")  # a dead letter's last_error once its payload is purged


def _now() -> datetime:
    return datetime.now(UTC)


def job_id_for(packet_id: str, destination: str) -> str:
    return f"{packet_id}/{destination}"


def destination_of(job_id: str) -> str:
    return job_id.rpartition("/")[2]


def _reason(refusal: NotAdmitted) -> dict[str, str]:
    """The real reason of a refusal, in its audit entry, when it has one its answer does not say."""
    return {"reason": refusal.reason} if refusal.reason else {}


def _accepted_item(packet: NewPacket, routes: list[str]) -> dict[str, Any]:
    """A stored packet in its batch's audit entry: what identifies it and the verdicts' outcome, no content."""
    validation, signature = packet.verdicts.get("validation") or {}, packet.verdicts.get("signature") or {}
    return {"packet_id": packet.packet_id, "dossier": packet.dossier, "sender": packet.sender,
            "sha256": packet.sha256, "type": packet.packet_type, "agency": packet.agency, "status": packet.status,
            "to": routes, "valid": validation.get("valid"),
            "warnings": sorted({str(w.get("rule")) for w in validation.get("warnings") or [] if isinstance(w, dict)}),
            "signature": signature.get("verdict") if isinstance(signature, dict) else None}


def _batch_entry(batch: str, items: list[dict[str, Any]]) -> list[audit_chain.NewEntry]:
    """ONE entry for the packets a transaction accepts (``gateway.audit.chain.BATCH``): the chain's hashing,
    row and index updates are paid per batch. Its actor is the sender when the batch has one."""
    if not items:
        return []
    senders = {item["sender"] for item in items}
    return [(senders.pop() if len(senders) == 1 else "intake", BATCH, batch, None, {"items": items})]


def _settled_entry(worker: str, job_id: str, n: int, attempt: AttemptRecord, state: str) -> audit_chain.NewEntry:
    """A delivery attempt's outcome (the peer's words stay in ``attempts``)."""
    return (worker, f"delivery.{state}", job_id, None,
            {"attempt": n, "outcome": attempt.outcome, "peer_status": attempt.peer_status})


def _attempt_view(row: Any) -> AttemptView:
    return AttemptView(row.started_at, row.duration_ms, row.outcome, row.peer_status, row.message, row.transform,
                       row.n)


def _attempt_row(job_id: str, n: int, attempt: AttemptRecord) -> dict[str, Any]:
    """The ``attempts`` row of attempt number ``n`` of a job."""
    return dict(job_id=job_id, n=n, started_at=attempt.started_at, duration_ms=attempt.duration_ms,
                outcome=attempt.outcome, peer_status=attempt.peer_status, message=attempt.message,
                transform=attempt.transform)


class SqlStore:
    def __init__(self, url: str, *, migrate: bool = True, synchronous: str = "FULL",
                 relaxed_bookkeeping: bool = True, keys: KeyRing | None | Literal["environment"] = "environment",
                 audit_packets: bool = True) -> None:
        self.url = url
        # Payloads are sealed when a key ring is given or named by the environment (gateway.store.sealing).
        self.keys = KeyRing.from_environment() if keys == "environment" else keys
        self.audit_packets = audit_packets  # chained audit entries: per batch accepted, per packet refused, settled
        self._chain = audit_chain.Appender()
        self.relaxed_bookkeeping = relaxed_bookkeeping
        self.engine = create_engine(url, synchronous=synchronous)
        self._sqlite = is_sqlite(self.engine)
        # PostgreSQL: bookkeeping has a pool of its own, whose sessions do not wait for the disk.
        self._bookkeeping_engine = (create_engine(url, relaxed=True) if relaxed_bookkeeping and not self._sqlite
                                    else self.engine)
        self._writer = threading.Lock()
        self._write_connection: sa.Connection | None = None
        self._claims: dict[str, statements_.ClaimStatements] = {}
        self._complete_statements = statements_.complete_statements(statements_.held_by_worker())
        self._complete_each_statements = statements_.complete_statements(statements_.held_each())
        self._previous_status = statements_.previous_status_sql("?" if self._sqlite else "%s")
        self._stored_ids = statements_.stored_ids_sql(self._sqlite)
        self._owners = statements_.owners_sql(self._sqlite)
        self._signal: JobSignal | None = None
        self._sessions: dict[str, Any] = {}  # worker → the PostgreSQL session its leases live by
        # The clock leases, due times and the token bucket are reckoned on when a caller gives none: SQLite's
        # (every worker on this machine); PostgreSQL uses the server's own, the same for every worker.
        self.clock: Callable[[], datetime] = _now
        if migrate:
            migrations.upgrade(self.engine, keys=self.keys)

    def close(self) -> None:
        for worker in list(self._sessions):
            self.drop_session(worker)
        if self._signal is not None:
            self._signal.close()
        with self._writer:
            if self._write_connection is not None:
                self._write_connection.close()
                self._write_connection = None
        self.engine.dispose()
        self._bookkeeping_engine.dispose()

    def job_signal(self, interval: float) -> JobSignal:
        with self._writer:
            if self._signal is None:
                self._signal = JobSignal()
                if self._sqlite:
                    self._signal.watch(watch_sqlite(str(self.engine.url.database), interval), "job-signal")
                else:
                    url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                    self._signal.watch(watch_postgres(url), "job-signal")
            return self._signal

    def hold_session(self, worker: str) -> None:
        if self._sqlite:
            return
        with self._writer:
            session = self._sessions.get(worker)
            if session is not None and not session.closed and not session.broken:
                return
            url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._sessions[worker] = psycopg.connect(url, autocommit=True, connect_timeout=10,
                                                     application_name=statements_.session_name(worker))

    def drop_session(self, worker: str) -> None:
        with self._writer:
            session = self._sessions.pop(worker, None)
        if session is not None:
            session.close()

    @staticmethod
    def _notify(connection: sa.Connection, destinations_: set[str]) -> None:
        """PostgreSQL: tells listening workers, at commit, that jobs of ``destinations_`` may be claimable
        (SQLite's workers see every commit through ``PRAGMA data_version``)."""
        if connection.dialect.name == "postgresql" and destinations_:
            # The channel is the database's; the payload names the schema, which is the store's.
            connection.execute(sa.text("SELECT count(pg_notify(:channel, current_schema() || '/' || d)) "
                                       "FROM unnest(CAST(:ds AS text[])) AS d"),
                               {"channel": CHANNEL, "ds": sorted(destinations_)})

    def now(self) -> datetime:
        """The store's time: PostgreSQL's clock, or this process's with SQLite."""
        if self._sqlite:
            return self.clock()
        with self._read() as connection:
            return connection.execute(sa.select(sa.func.clock_timestamp())).scalar_one()  # type: ignore[no-any-return]  # clock_timestamp() is a timestamp (SQLAlchemy types it Any)

    def _now_in(self, connection: sa.Connection, now: datetime | None) -> datetime:
        """``now`` as given, else the store's time read in ``connection``'s transaction."""
        if now is not None:
            return now
        if self._sqlite:
            return self.clock()
        return connection.execute(sa.select(sa.func.clock_timestamp())).scalar_one()  # type: ignore[no-any-return]  # clock_timestamp() is a timestamp (SQLAlchemy types it Any)

    def _seal(self, packet_id: str, raw: bytes) -> bytes:
        return raw if self.keys is None else self.keys.seal(packet_id, raw)

    def _unseal(self, packet_id: str, raw: bytes | None) -> Any:
        return None if raw is None else unseal(self.keys, packet_id, raw)

    def rekey(self, actor: str, batch: int = 200) -> dict[str, int]:
        """Every payload sealed under the ring's first key: plain ones sealed, others re-sealed, a batch per
        transaction (the gateway keeps running). How many were changed and how many were already so."""
        if self.keys is None:
            raise SealingError(f"no store key ring: set {KEYS_ENV} or {KEY_FILE_ENV}")
        changed = kept = 0
        after = ""
        while True:
            with self._write() as connection:
                rows = list(connection.execute(
                    sa.select(packets.c.packet_id, packets.c.raw)
                    .where(packets.c.packet_id > after, packets.c.raw.is_not(None))
                    .order_by(packets.c.packet_id).limit(batch)))
                for row in rows:
                    if key_id_of(row.raw) == self.keys.current:
                        kept += 1
                        continue
                    raw = self._seal(row.packet_id, unseal(self.keys, row.packet_id, row.raw))
                    connection.execute(packets.update().where(packets.c.packet_id == row.packet_id).values(raw=raw))
                    changed += 1
                if rows:
                    after = rows[-1].packet_id
                    continue
                self._audit(connection, actor, "store.rekey", "packets",
                            {"key": self.keys.current, "changed": changed, "kept": kept})
            return {"changed": changed, "kept": kept}

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert if self._sqlite else postgresql.insert)(table)

    def _read(self) -> sa.Connection:
        return self.engine.connect().execution_options(read_only=True)

    @contextmanager
    def _write(self, relaxed: bool = False) -> Iterator[sa.Connection]:
        """A write transaction. SQLite has one writer at a time: this process's writers queue on a
        lock and start the moment the previous one commits, instead of meeting SQLite's busy
        handler, which sleeps (1, 2, 5 … 100 ms) between tries."""
        if not self._sqlite:
            with (self._bookkeeping_engine if relaxed else self.engine).connect() as connection:
                with connection.begin():
                    yield connection
            return
        with self._writer:  # one writer at a time: it keeps one connection (no pool round trip per transaction)
            if self._write_connection is None or self._write_connection.invalidated:
                self._write_connection = self.engine.connect()
            connection = self._write_connection.execution_options(relaxed=relaxed)
            with connection.begin():
                yield connection

    @contextmanager
    def _bookkeeping(self) -> Iterator[sa.Connection]:
        """A write transaction for delivery state (claims, outcomes, leases) that does not wait
        for the disk. Losing the last few after a power cut only repeats deliveries — with the
        same idempotency key — which the delivery contract allows; accepted packets are never
        written this way."""
        with self._write(relaxed=self.relaxed_bookkeeping) as connection:
            yield connection

    # --- accepting -------------------------------------------------------------------
    def accept(self, packet: NewPacket, destinations_: Sequence[str]) -> AcceptResult:
        return self.accept_many([(packet, destinations_)])[0]

    def accept_many(self, items: Sequence[tuple[NewPacket, Sequence[str]]],
                    admit: Admit | None = None, *, whole: bool = False,
                    guard: Guard | None = None) -> list[AcceptResult]:
        """Bulk statements: one insert for the packets, one for their jobs, whatever the batch size."""
        received = [packet.packet_id for packet, _ in items]  # the senders' own ids, for the answers
        refused: dict[str, NotAdmitted] = {}
        collisions: list[audit_chain.NewEntry] = []
        with self._write() as connection:
            # Per ordering key, seq order must equal commit order, or a claimer could see seq n+1
            # committed before seq n of the same dossier (PostgreSQL; SQLite has one writer). Per packet
            # id too: two senders using one new MaGoiTin at the same instant are scoped one after the other.
            lock_keys(connection, sorted({"key:" + packet.ordering_key for packet, _ in items}
                                         | {"id:" + packet.packet_id for packet, _ in items}))
            batch, resent = self._scoped(connection, items, collisions)
            first: dict[str, int] = {}  # a packet id seen twice in one batch: the second is a resend
            for index, (packet, _) in enumerate(batch):
                first.setdefault(packet.packet_id, index)
            fresh = [batch[index] for index in first.values()]
            fresh = self._admitted(connection, fresh, admit, guard, refused, resent)
            if refused and whole:  # the transaction is rolled back: nothing of the batch stays
                raise BatchNotAdmitted({received[index]: refused[packet.packet_id].detail
                                        for index, (packet, _) in enumerate(batch) if packet.packet_id in refused})
            audit_batch = f"batch:{uuid.uuid4().hex}" if self.audit_packets else None
            inserted = set(connection.execute(
                self._insert(packets).on_conflict_do_nothing(index_elements=["packet_id"])
                .returning(packets.c.packet_id),
                [dict(packet_id=p.packet_id, sha256=p.sha256, raw=self._seal(p.packet_id, p.raw), encoding=p.encoding, sender=p.sender,
                      agency=p.agency, received_at=p.received_at, packet_type=p.packet_type, dossier=p.dossier,
                      verdicts=p.verdicts, status=p.status, audit_batch=audit_batch)
                 for p, _ in fresh]).scalars()) if fresh else set()
            job_rows = [dict(job_id=job_id_for(p.packet_id, route), packet_id=p.packet_id, destination=route,
                             ordering_key=p.ordering_key, state=JobState.PENDING.value, attempts=0,
                             next_attempt_at=p.received_at, created_at=p.received_at)
                        for p, routes in fresh if p.packet_id in inserted for route in routes]
            if job_rows:
                connection.execute(jobs.insert(), job_rows)
                self._notify(connection, {route for p, routes in fresh if p.packet_id in inserted for route in routes})
            stored = {p.packet_id: p for p, _ in fresh if p.packet_id in inserted}
            dossier_sync.record(connection, list(stored.values()), self._unseal)
            entries = collisions + (_batch_entry(str(audit_batch), [
                _accepted_item(p, routes) for p, routes in fresh if p.packet_id in inserted]) + [
                (p.sender, "packet.refused", p.packet_id, p.dossier, {"sha256": p.sha256, "type": p.packet_type,
                                                                     "status": p.status, "at_commit": True,
                                                                     **_reason(refused[p.packet_id])})
                for p, _ in batch if p.packet_id in refused] if self.audit_packets else [])
            results: list[AcceptResult | None] = [
                AcceptResult(p.packet_id, p.sha256, p.received_at, [], refused=refused[p.packet_id].detail)
                if p.packet_id in refused else
                AcceptResult(p.packet_id, p.sha256, p.received_at, routes, verdicts=stored[p.packet_id].verdicts)
                if first[p.packet_id] == index and p.packet_id in stored else None
                for index, (p, routes) in enumerate(batch)]
            seen = {p.packet_id for (p, _), result in zip(batch, results) if result is None}
            known = self._originals(connection, seen) if seen else {}
            answered = [result if result is not None else self._resent(entries, packet, *known[packet.packet_id])
                        for (packet, _), result in zip(batch, results)]
            self._chain.append(connection, entries, plain=True)  # last: the chain's head is locked until the commit
        # Each sender is answered with its own MaGoiTin, whatever the id it is stored under.
        return [result if result.packet_id == sent else replace(result, packet_id=sent, stored_id=result.packet_id)
                for result, sent in zip(answered, received)]

    def _scoped(self, connection: sa.Connection, items: Sequence[tuple[NewPacket, Sequence[str]]],
                collisions: list[audit_chain.NewEntry]) -> tuple[list[tuple[NewPacket, list[str]]], set[str]]:
        """The batch with every packet whose MaGoiTin another sender already used (stored, or earlier in
        the batch) moved to its ``scoped_id`` — so the collision is answered as if the id were unknown,
        never with a conflict that shows the id exists — each collision audited; and which of the
        batch's ids (as stored) are stored already. Read after the ids are locked."""
        wanted = {packet.packet_id for packet, _ in items} | {scoped_id(packet.sender, packet.packet_id)
                                                             for packet, _ in items}
        listed = json.dumps(sorted(wanted)) if self._sqlite else sorted(wanted)
        cursor = connection.connection.cursor()  # the driver's, in this transaction
        cursor.execute(self._stored_ids, (listed,))
        senders: dict[str, str] = {row[0]: row[1] for row in cursor.fetchall()}
        cursor.close()
        stored = set(senders)
        batch = []
        for packet, routes in items:
            owner = senders.setdefault(packet.packet_id, packet.sender)  # the batch's first use claims it too
            if owner != packet.sender:
                collisions.append((packet.sender, "accept.foreign_id", packet.packet_id, packet.dossier,
                                   {"owner": owner, "stored_as": scoped_id(packet.sender, packet.packet_id)}))
                packet = replace(packet, packet_id=scoped_id(packet.sender, packet.packet_id))
            batch.append((packet, list(dict.fromkeys(routes))))
        return batch, stored

    def _admitted(self, connection: sa.Connection, fresh: list[tuple[NewPacket, list[str]]], admit: Admit | None,
                  guard: Guard | None, refused: dict[str, NotAdmitted],
                  resent: set[str]) -> list[tuple[NewPacket, list[str]]]:
        """``fresh`` as its dossiers' owners and ``admit`` let it through, in order: each new packet of a
        dossier is checked by ``guard`` against the dossier's owner, then, when it carries a status, by
        ``admit`` against the dossier's status so far — the store's, then the batch's earlier packets'.
        The first packet of a dossier records its agency as the owner."""
        named = [p for p, _ in fresh if p.dossier is not None]
        if not named:
            return fresh
        listed = (lambda values: json.dumps(values)) if self._sqlite else (lambda values: values)
        cursor = connection.connection.cursor()  # the driver's, in this transaction: a few reads per batch
        cursor.execute(self._owners, (listed(sorted({p.dossier for p in named})),))
        owners: dict[str, str] = {row[0]: row[1] for row in cursor.fetchall()}
        created: list[dict[str, Any]] = []
        statuses: dict[str, int | None] = {}
        admitted = []
        for packet, routes in fresh:
            dossier = packet.dossier
            if dossier is None or packet.packet_id in resent:  # a resend gets its original's receipt
                admitted.append((packet, routes))
                continue
            owner = owners.get(dossier)
            if owner is not None and guard is not None and (refusal := guard(packet, owner)) is not None:
                refused[packet.packet_id] = refusal  # before its status is looked at: nothing about it leaks
                continue
            if admit is not None and packet.status is not None:
                if dossier not in statuses:
                    cursor.execute(self._previous_status, (dossier,))
                    row = cursor.fetchone()
                    statuses[dossier] = None if row is None else int(row[0])
                verdict = admit(packet, statuses[dossier])
                if isinstance(verdict, NotAdmitted):
                    refused[packet.packet_id] = verdict
                    continue
                packet, statuses[dossier] = verdict, verdict.status
            if owner is None and (packet.owner or packet.agency) is not None:
                owners[dossier] = packet.owner or packet.agency  # type: ignore[assignment]  # not None: checked on the line above
                created.append(dict(dossier=dossier, agency=owners[dossier], created_at=packet.received_at))
            admitted.append((packet, routes))
        cursor.close()
        if created:
            connection.execute(self._insert(dossiers).on_conflict_do_nothing(index_elements=["dossier"]), created)
        return admitted

    def lockout_failed(self, keys: Sequence[str], now: float, forget_seconds: float) -> dict[str, int]:
        """One failure more against each key, atomically (other processes count too); a count whose last
        failure is older than ``forget_seconds`` starts again. The counts after it."""
        counted: dict[str, int] = {}
        with self._write() as connection:
            for key in keys:
                statement = self._insert(lockouts).values(key=key, failures=1, last_at=now, until_at=0.0)
                fresh = lockouts.c.last_at < now - forget_seconds
                connection.execute(statement.on_conflict_do_update(index_elements=["key"], set_={
                    "failures": sa.case((fresh, 1), else_=lockouts.c.failures + 1), "last_at": now,
                    "until_at": sa.case((fresh, 0.0), else_=lockouts.c.until_at)}))
                counted[key] = connection.execute(sa.select(lockouts.c.failures).where(lockouts.c.key == key)
                                                  ).scalar_one()
        return counted

    def lockout_lock(self, until: dict[str, float]) -> None:
        with self._write() as connection:
            for key, at in until.items():
                connection.execute(sa.update(lockouts).where(lockouts.c.key == key, lockouts.c.until_at < at)
                                   .values(until_at=at))

    def lockout_clear(self, key: str) -> None:
        with self._write() as connection:
            connection.execute(sa.delete(lockouts).where(lockouts.c.key == key))

    def lockouts_in_force(self, now: float, forget_seconds: float, limit: int = 10_000) -> dict[str, float]:
        """The keys locked now, with until when; forgotten counts are dropped on the way."""
        with self._write() as connection:
            connection.execute(sa.delete(lockouts).where(lockouts.c.last_at < now - forget_seconds,
                                                         lockouts.c.until_at < now))
            return {row.key: row.until_at for row in connection.execute(
                sa.select(lockouts.c.key, lockouts.c.until_at).where(lockouts.c.until_at > now)
                .order_by(lockouts.c.until_at.desc()).limit(limit))}

    def dossier_owner(self, dossier: str) -> str | None:
        with self._read() as connection:
            return connection.execute(sa.select(dossiers.c.agency).where(dossiers.c.dossier == dossier)
                                      ).scalar_one_or_none()

    @staticmethod
    def _originals(connection: sa.Connection,
                   packet_ids: set[str]) -> dict[str, tuple[str, datetime, list[str], str]]:
        originals: dict[str, tuple[str, datetime, list[str], str]] = {row.packet_id: (row.sha256, row.received_at, [], row.sender) for row in connection.execute(
            sa.select(packets.c.packet_id, packets.c.sha256, packets.c.received_at, packets.c.sender)
            .where(packets.c.packet_id.in_(packet_ids)))}
        for row in connection.execute(sa.select(jobs.c.packet_id, jobs.c.destination)
                                      .where(jobs.c.packet_id.in_(packet_ids)).order_by(jobs.c.seq)):
            originals[row.packet_id][2].append(row.destination)
        return originals

    @staticmethod
    def _resent(entries: list[audit_chain.NewEntry], packet: NewPacket, sha256: str, received_at: datetime,
                routes: list[str], sender: str) -> AcceptResult:
        if sender != packet.sender:  # not after ``_scoped`` (ids are locked, then read): a conflict showing nothing
            return AcceptResult(packet.packet_id, packet.sha256, packet.received_at, [], conflict=True)
        if sha256 == packet.sha256:
            return AcceptResult(packet.packet_id, sha256, received_at, routes, duplicate=True)
        entries.append((packet.sender, "accept.conflict", packet.packet_id, packet.dossier,
                        {"sha256_original": sha256, "sha256_received": packet.sha256}))
        return AcceptResult(packet.packet_id, sha256, received_at, routes, conflict=True)

    def previous_status(self, dossier: str) -> int | None:
        # Read for every packet received: on the driver's own connection, one statement, no
        # transaction of ours: a quarter of the CPU of the same read through SQLAlchemy's connection and
        # result layers (0.04–0.07 against 0.17–0.27 ms, SQLite).
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self._previous_status, (dossier,))
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool, which ends the driver's transaction (PostgreSQL)
        return None if row is None else int(row[0])

    def latest_changes(self, dossiers: Sequence[str]) -> dict[str, tuple[str, str, bytes | None]]:
        latest: dict[str, tuple[str, str, bytes | None]] = {}
        with self._read() as connection:
            for dossier in dict.fromkeys(dossiers):
                row = connection.execute(
                    sa.select(packets.c.packet_id, packets.c.sender, packets.c.raw)
                    .where(packets.c.dossier == dossier, packets.c.status.is_not(None))
                    .order_by(packets.c.received_at.desc()).limit(1)).first()
                if row is not None:
                    latest[dossier] = (row.packet_id, row.sender, self._unseal(row.packet_id, row.raw))
        return latest

    def get_packet(self, packet_id: str) -> PacketView | None:
        with self._read() as connection:
            row = connection.execute(sa.select(packets).where(packets.c.packet_id == packet_id)).one_or_none()
            if row is None:
                return None
            routes = list(connection.execute(sa.select(jobs.c.destination).where(
                jobs.c.packet_id == packet_id).order_by(jobs.c.seq)).scalars())
        return PacketView(row.packet_id, row.sha256, row.encoding, row.sender, row.agency, row.received_at,
                          row.packet_type, row.dossier, row.verdicts, self._unseal(row.packet_id, row.raw),
                          row.purged_at, routes)

    def stored_raw(self, packet_ids: Sequence[str]) -> dict[str, bytes]:
        if not packet_ids:
            return {}
        with self._read() as connection:
            rows = connection.execute(sa.select(packets.c.packet_id, packets.c.raw).where(
                packets.c.packet_id.in_(packet_ids), packets.c.raw.is_not(None)))
            return {row.packet_id: self._unseal(row.packet_id, row.raw) for row in rows}

    # --- delivering ------------------------------------------------------------------
    def claim(self, destination: str, worker: str, *, limit: int, max_batch: int, lease_seconds: float,
              now: datetime | None = None, on_dead: OnDead = "hold") -> list[list[ClaimedJob]]:
        statements = self._claim_statements(on_dead)
        with self._bookkeeping() as connection:
            # One claimer per destination at a time (PostgreSQL): each sees the leases the
            # previous one committed, so no ordering key is ever handed out twice.
            if now is None and not self._sqlite:  # the server's time once the lock is ours: no extra round trip
                locked = sa.func.pg_advisory_xact_lock(sa.func.hashtext("claim:" + destination))
                now = connection.execute(sa.select(locked, sa.func.clock_timestamp())).one()[1]
            else:
                lock_key(connection, "claim:" + destination)
            now = self._now_in(connection, now)
            at = {"now": now, "stale": now + timedelta(seconds=lease_seconds - statements_.STALE_SECONDS)}
            found = list(connection.execute(statements.heads, {"destination": destination, **at, "limit": limit}))
            behind = (self._followers(connection, statements, destination, {row.ordering_key: row.seq for row in found},
                                      max_batch - 1, at, on_dead) if max_batch > 1 and found else {})
            batches = [[row.seq] + behind.get(row.ordering_key, []) for row in found]
            seqs = [seq for batch in batches for seq in batch]
            if not seqs:
                return []
            tied = statements_.SESSION_MARK if worker in self._sessions else ""
            holder = f"{worker}{statements_.TOKEN_MARK}{tied}{uuid.uuid4().hex[:12]}"
            leased = connection.execute(statements.lease, {"seqs": seqs, "worker": holder,
                                                           "expires": now + timedelta(seconds=lease_seconds)})
            carried = leased if statements.rows is None else connection.execute(statements.rows, {"seqs": seqs})
            claimed = {seq: ClaimedJob(job_id, packet_id, destination, key, seq, attempts,
                                       self._unseal(packet_id, raw), encoding, packet_type, holder)
                       for seq, job_id, packet_id, key, attempts, raw, encoding, packet_type in carried}
        return [[claimed[seq] for seq in batch] for batch in batches]

    def _claim_statements(self, on_dead: OnDead) -> statements_.ClaimStatements:
        if on_dead not in self._claims:
            self._claims[on_dead] = statements_.claim_statements(not self._sqlite, on_dead)
        return self._claims[on_dead]

    @staticmethod
    def _followers(connection: sa.Connection, statements: statements_.ClaimStatements, destination: str,
                   heads: dict[str, int], room: int, at: dict[str, datetime], on_dead: OnDead
                   ) -> dict[str, list[int]]:
        """Per head (ordering key → its seq), the jobs right behind it that can travel in the same
        batch, in order: one query for every head of the claim."""
        # Under "hold" a key's rows after its head are the candidates themselves (anything not free ends the
        # batch); under "skip", a few more, for dead jobs passed over (fewer only means a smaller batch).
        ranks = room + 1 if on_dead == "hold" else room * 4 + 4
        rows = connection.execute(statements.followers, {"destination": destination, "keys": list(heads),
                                                         "after": min(heads.values()), "ranks": ranks, **at})
        now = at["now"]
        taken: dict[str, list[int]] = {key: [] for key in heads}
        closed: set[str] = set()
        for seq, key, state, next_attempt_at, free, _ in rows:
            if key in closed or seq <= heads[key]:
                continue
            if state == DEAD and on_dead == "skip":
                continue
            if not free or next_attempt_at > now or len(taken[key]) == room:
                closed.add(key)
                continue
            taken[key].append(seq)
        return taken

    def _finish(self, job_id: str, worker: str, attempt: AttemptRecord, delay_seconds: float | None = None,
                **values: Any) -> bool:
        with self._bookkeeping() as connection:
            if delay_seconds is not None:  # due that long after the store's time
                values["next_attempt_at"] = self._now_in(connection, None) + timedelta(seconds=delay_seconds)
            number = connection.execute(
                jobs.update().where(statements_.held_by_worker())
                .values(attempts=jobs.c.attempts + 1, lease_owner=None, lease_expires_at=None, **values)
                .returning(jobs.c.attempts), {"job_ids": [job_id], "worker": worker}).scalar_one_or_none()
            if number is None:
                return False
            connection.execute(attempts.insert().values(_attempt_row(job_id, number, attempt)))
            if self.audit_packets:
                actor = worker.partition(statements_.TOKEN_MARK)[0]  # the worker, not its claim's token
                self._chain.append(connection, [_settled_entry(actor, job_id, number, attempt, values["state"])],
                                   plain=True)
            return True

    def complete(self, job_id: str, worker: str, attempt: AttemptRecord) -> bool:
        return self._finish(job_id, worker, attempt, state=JobState.DELIVERED.value, delivered_at=_now(),
                            last_error=None)

    def complete_many(self, job_ids: Sequence[str], worker: str, attempt: AttemptRecord) -> list[bool]:
        return self.complete_each([(job_id, attempt) for job_id in job_ids], worker)

    def complete_each(self, items: Sequence[tuple[str, AttemptRecord]], worker: str | Sequence[str]) -> list[bool]:
        if not items:
            return []
        record = dict(items)
        held: dict[str, Any]
        if isinstance(worker, str):
            (complete, record_attempts), held = self._complete_statements, {"job_ids": list(record), "worker": worker}
        else:
            (complete, record_attempts) = self._complete_each_statements
            held = {"held": [(job_id, holder) for (job_id, _), holder in zip(items, worker, strict=True)],
                    "job_ids": list(record)}
        # the audit names the worker, not its claim's token
        actors = dict.fromkeys(record, worker) if isinstance(worker, str) else dict(zip(record, worker))
        with self._bookkeeping() as connection:
            numbers = {job_id: n for job_id, n in connection.execute(complete, {**held, "at": _now()})}
            if numbers:
                connection.execute(record_attempts,
                                   [_attempt_row(job_id, n, record[job_id]) for job_id, n in numbers.items()])
                if self.audit_packets:
                    self._chain.append(connection, [
                        _settled_entry(actors[job_id].partition(statements_.TOKEN_MARK)[0], job_id, n,
                                       record[job_id], DELIVERED) for job_id, n in numbers.items()], plain=True)
        return [job_id in numbers for job_id, _ in items]

    def retry_later(self, job_id: str, worker: str, attempt: AttemptRecord, next_attempt_at: datetime | None = None,
                    *, delay_seconds: float | None = None) -> bool:
        if (next_attempt_at is None) == (delay_seconds is None):
            raise ValueError("retry_later: next_attempt_at or delay_seconds, one of them")
        due = {} if next_attempt_at is None else {"next_attempt_at": next_attempt_at}
        return self._finish(job_id, worker, attempt, delay_seconds, state=JobState.PENDING.value, **due,
                            last_error=attempt.message or attempt.peer_status or attempt.outcome)

    def dead_letter(self, job_id: str, worker: str, attempt: AttemptRecord, reason: str) -> bool:
        return self._finish(job_id, worker, attempt, state=JobState.DEAD.value, last_error=reason)

    def release(self, job_ids: Sequence[str], worker: str) -> int:
        if not job_ids:
            return 0
        with self._bookkeeping() as connection:
            released = connection.execute(
                jobs.update().where(statements_.held_by_worker())
                .values(state=JobState.PENDING.value, lease_owner=None, lease_expires_at=None),
                {"job_ids": list(job_ids), "worker": worker}).rowcount
            self._notify(connection, {destination_of(job_id) for job_id in job_ids})
            return released

    def extend_lease(self, job_ids: Sequence[str], worker: str, lease_seconds: float,
                     now: datetime | None = None) -> int:
        if not job_ids:
            return 0
        with self._bookkeeping() as connection:
            return connection.execute(
                jobs.update().where(statements_.held_by_worker())
                .values(lease_expires_at=self._now_in(connection, now) + timedelta(seconds=lease_seconds)),
                {"job_ids": list(job_ids), "worker": worker}).rowcount

    def extend_leases(self, held: Sequence[tuple[str, str]], lease_seconds: float,
                      now: datetime | None = None) -> int:
        if not held:
            return 0
        with self._bookkeeping() as connection:
            return connection.execute(
                jobs.update().where(statements_.held_each())
                .values(lease_expires_at=self._now_in(connection, now) + timedelta(seconds=lease_seconds)),
                {"held": [tuple(pair) for pair in held], "job_ids": [job_id for job_id, _ in held]}).rowcount

    def release_abandoned(self, worker_prefix: str) -> int:
        with self._bookkeeping() as connection:
            released = list(connection.execute(statements_.abandoned(), {"prefix": worker_prefix}).scalars())
            self._notify(connection, set(released))
        return len(released)

    # --- operators -------------------------------------------------------------------
    @staticmethod
    def _where(selection: JobFilter) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if selection.destination:
            conditions.append(jobs.c.destination == selection.destination)
        if selection.dossier:
            conditions.append(packets.c.dossier == selection.dossier)
        if selection.packet_type:
            conditions.append(packets.c.packet_type == selection.packet_type)
        if selection.state:
            conditions.append(jobs.c.state == JobState(selection.state).value)
        if selection.reason:
            conditions.append(jobs.c.last_error.contains(selection.reason, autoescape=True))
        if selection.since:
            conditions.append(jobs.c.created_at >= selection.since)
        if selection.until:
            conditions.append(jobs.c.created_at < selection.until)
        return conditions

    _JOB_COLUMNS = (*jobs.c, packets.c.packet_type, packets.c.dossier)

    @staticmethod
    def _view(row: Any, log: list[AttemptView] | None = None) -> JobView:
        return JobView(row.job_id, row.packet_id, row.destination, row.ordering_key, row.seq, JobState(row.state),
                       row.attempts, row.next_attempt_at, row.lease_owner, row.lease_expires_at, row.last_error,
                       row.created_at, row.delivered_at, row.packet_type, row.dossier, log or [])

    def find_jobs(self, selection: JobFilter) -> list[JobView]:
        query = (sa.select(*self._JOB_COLUMNS).join(packets, packets.c.packet_id == jobs.c.packet_id)
                 .where(*self._where(selection)).order_by(jobs.c.seq)
                 .limit(selection.limit).offset(selection.offset))
        with self._read() as connection:
            return [self._view(row) for row in connection.execute(query)]

    def count_jobs(self, selection: JobFilter) -> int:
        # the packets only when the selection reads them: a count by state then stays in ix_jobs_state
        by_packet = selection.dossier or selection.packet_type
        query = (sa.select(sa.func.count())
                 .select_from(jobs.join(packets, packets.c.packet_id == jobs.c.packet_id) if by_packet else jobs)
                 .where(*self._where(selection)))
        with self._read() as connection:
            return int(connection.execute(query).scalar_one())

    def get_job(self, job_id: str) -> JobView | None:
        with self._read() as connection:
            row = connection.execute(sa.select(*self._JOB_COLUMNS).join(packets, packets.c.packet_id == jobs.c.packet_id)
                                     .where(jobs.c.job_id == job_id)).one_or_none()
            if row is None:
                return None
            log = [_attempt_view(a) for a in connection.execute(sa.select(attempts).where(attempts.c.job_id == job_id)
                                                                 .order_by(attempts.c.n))]
        return self._view(row, log)

    def attempts_of(self, job_ids: Sequence[str]) -> dict[str, list[AttemptView]]:
        found: dict[str, list[AttemptView]] = {job_id: [] for job_id in job_ids}
        with self._read() as connection:
            for chunk in range(0, len(job_ids), 500):
                for a in connection.execute(sa.select(attempts).where(attempts.c.job_id.in_(job_ids[chunk:chunk + 500]))
                                            .order_by(attempts.c.job_id, attempts.c.n)):
                    found[a.job_id].append(_attempt_view(a))
        return found

    def replay(self, selection: JobFilter | Sequence[str], actor: str, reason: str, *,
               dry_run: bool = False, now: datetime | None = None) -> int:
        query = (sa.select(jobs.c.job_id).join(packets, packets.c.packet_id == jobs.c.packet_id)
                 .where(jobs.c.state == JobState.DEAD.value, packets.c.raw.is_not(None)).order_by(jobs.c.seq))
        if isinstance(selection, JobFilter):
            query = query.where(*self._where(selection)).limit(selection.limit)
            described: Any = {key: str(value) for key, value in vars(selection).items()
                              if value is not None and key not in ("limit", "offset")}
        else:
            query = query.where(jobs.c.job_id.in_(list(selection)))
            described = {"job_ids": list(selection)}
        with self._write() as connection:
            chosen = list(connection.execute(query).scalars())
            if dry_run or not chosen:
                return len(chosen)
            connection.execute(jobs.update().where(jobs.c.job_id.in_(chosen), jobs.c.state == JobState.DEAD.value)
                               .values(state=JobState.PENDING.value, next_attempt_at=now or _now()))
            self._notify(connection, {destination_of(job_id) for job_id in chosen})
            self._audit(connection, actor, "replay", "jobs",
                        {"reason": reason, "selection": described, "count": len(chosen), "job_ids": chosen})
        return len(chosen)

    def destination_state(self, name: str) -> DestinationState:
        with self._read() as connection:
            row = connection.execute(sa.select(destinations).where(destinations.c.name == name)).one_or_none()
        if row is None:
            return DestinationState(name)
        return DestinationState(row.name, row.paused, row.pause_reason, BreakerState(row.breaker_state),
                                row.breaker_opened_at, row.updated_at, row.rate_per_second, row.burst, row.windows)

    def _upsert_destination(self, connection: sa.Connection, name: str, **values: Any) -> None:
        values["updated_at"] = _now()
        statement = self._insert(destinations).values(
            name=name, **{"paused": False, "breaker_state": BreakerState.CLOSED.value, **values})
        connection.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))

    def set_paused(self, name: str, paused: bool, actor: str, reason: str) -> None:
        with self._write() as connection:
            self._upsert_destination(connection, name, paused=paused, pause_reason=reason if paused else None)
            self._audit(connection, actor, "destination.pause" if paused else "destination.resume", name,
                        {"reason": reason})

    def save_breaker(self, name: str, state: BreakerState, opened_at: datetime | None) -> None:
        with self._write() as connection:
            self._upsert_destination(connection, name, breaker_state=BreakerState(state).value,
                                     breaker_opened_at=opened_at)

    def set_rate_limit(self, name: str, rate: float | None, burst: int | None, actor: str, reason: str) -> None:
        with self._write() as connection:
            before = connection.execute(sa.select(destinations.c.rate_per_second, destinations.c.burst)
                                        .where(destinations.c.name == name)).first()
            self._upsert_destination(connection, name, rate_per_second=rate, burst=burst)
            self._audit(connection, actor, "destination.rate_limit" if rate is not None else "destination.rate_limit_reset",
                        name, {"reason": reason, "rate_per_second": rate, "burst": burst,
                               "before": list(before) if before else None})

    def set_windows(self, name: str, windows: list[dict[str, Any]] | None, actor: str, reason: str) -> None:
        with self._write() as connection:
            self._upsert_destination(connection, name, windows=windows)
            self._audit(connection, actor, "destination.windows" if windows is not None else "destination.windows_reset",
                        name, {"reason": reason, "windows": windows})

    def worker_seen(self, name: str, host: str, pid: int, destinations_: Sequence[str]) -> None:
        now = _now()
        with self._bookkeeping() as connection:
            statement = self._insert(workers).values(name=name, host=host[:200], pid=pid,
                                                      destinations=list(destinations_), started_at=now, seen_at=now)
            connection.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"seen_at": now}))

    def worker_gone(self, name: str) -> None:
        with self._bookkeeping() as connection:
            connection.execute(workers.delete().where(workers.c.name == name))

    def workers(self) -> list[WorkerSeen]:
        with self._read() as connection:
            return [WorkerSeen(r.name, r.host, r.pid, list(r.destinations or []), r.started_at, r.seen_at)
                    for r in connection.execute(sa.select(workers).order_by(workers.c.name))]

    def start_replay_run(self, actor: str, reason: str, job_ids: Sequence[str]) -> str:
        run_id = uuid.uuid4().hex
        with self._write() as connection:
            connection.execute(replay_runs.insert().values(run_id=run_id, actor=actor, reason=reason,
                                                           job_ids=list(job_ids), results={}, started_at=_now()))
        return run_id

    def record_replay_result(self, run_id: str, job_id: str, count: int, finished: bool = False) -> None:
        with self._write() as connection:  # one writer per run: read, add, write back
            results = connection.execute(sa.select(replay_runs.c.results)
                                         .where(replay_runs.c.run_id == run_id)).scalar_one()
            values: dict[str, Any] = {"results": {**results, job_id: count} if job_id else results}
            if finished:
                values["finished_at"] = _now()
            connection.execute(replay_runs.update().where(replay_runs.c.run_id == run_id).values(**values))

    def replay_run(self, run_id: str) -> ReplayRun | None:
        with self._read() as connection:
            r = connection.execute(sa.select(replay_runs).where(replay_runs.c.run_id == run_id)).first()
        return None if r is None else ReplayRun(r.run_id, r.actor, r.reason, list(r.job_ids), dict(r.results),
                                                r.started_at, r.finished_at)

    def take_tokens(self, name: str, want: int, rate: float, burst: int,
                    now: datetime | None = None) -> tuple[int, float]:
        bucket = (sa.select(destinations.c.tokens, destinations.c.tokens_at)
                  .where(destinations.c.name == name).with_for_update())
        with self._bookkeeping() as connection:
            now = self._now_in(connection, now)
            row = connection.execute(bucket).one_or_none()
            if row is None:  # the first draw ever: the row, then its lock (a rival's row, if it won)
                self._upsert_destination(connection, name)
                row = connection.execute(bucket).one()
            # Clocks of several machines differ a little: time never runs backwards for the bucket.
            stamp = now if row.tokens_at is None else max(row.tokens_at, now)
            tokens = float(burst) if row.tokens is None or row.tokens_at is None else min(
                float(burst), row.tokens + (stamp - row.tokens_at).total_seconds() * rate)
            granted = max(0, min(want, int(tokens)))
            connection.execute(destinations.update().where(destinations.c.name == name)
                               .values(tokens=tokens - granted, tokens_at=stamp))
        return granted, 0.0 if granted else (1 - (tokens - granted)) / rate

    def _audit(self, connection: sa.Connection, actor: str, action: str, subject: str,
               detail: dict[str, Any] | None, dossier: str | None = None) -> None:
        self._chain.append(connection, [(actor, action, subject, dossier, detail)])

    def audit(self, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None, *,
              dossier: str | None = None) -> None:
        with self._write() as connection:
            self._audit(connection, actor, action, subject, detail, dossier)

    def audit_many(self, rows: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        if rows:  # chained like every entry; written without waiting for the disk (bookkeeping)
            with self._bookkeeping() as connection:
                self._chain.append(connection, [(actor, action, subject, None, detail)
                                                for actor, action, subject, detail in rows])

    def audit_log(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = sa.select(audit).order_by(audit.c.n.desc()).limit(limit)
        if subject is not None:
            query = query.where(audit.c.subject == subject)
        with self._read() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def audit_entries(self, after: int = 0, until: int | None = None, limit: int = 5000) -> list[Entry]:
        with self._read() as connection:
            return audit_chain.entries(connection, after, until, limit)

    def audit_about(self, dossier: str, subjects: Sequence[str] = ()) -> list[Entry]:
        with self._read() as connection:
            return audit_chain.entries_about(connection, dossier, subjects)

    def audit_head(self) -> tuple[int, str]:
        with self._read() as connection:
            return audit_chain.head(connection)

    def audit_checkpoints(self, at_least: int = 0) -> list[Checkpoint]:
        with self._read() as connection:
            return audit_chain.checkpoints(connection, at_least)

    def checkpoint(self, make: Callable[[int, str], Checkpoint]) -> Checkpoint | None:
        """A checkpoint of the chain's head made by ``make(n, hash)`` (signing is the caller's), unless the
        head has one already (then that one); None while the chain is empty."""
        with self._read() as connection:
            n, hash_ = audit_chain.head(connection)
            existing = audit_chain.checkpoints(connection, n)
        if n == 0:
            return None
        if existing and existing[0].n == n:
            return existing[0]
        made = make(n, hash_)
        with self._write() as connection:
            audit_chain.add_checkpoint(connection, made)  # unless another process made one of this head meanwhile
            return audit_chain.checkpoints(connection, n)[0]

    def dossier_packets(self, dossier: str) -> list[PacketView]:
        with self._read() as connection:
            rows = list(connection.execute(sa.select(packets).where(packets.c.dossier == dossier)
                                           .order_by(packets.c.received_at, packets.c.packet_id)))
            routes: dict[str, list[str]] = {row.packet_id: [] for row in rows}
            for chunk in range(0, len(rows), 500):
                for packet_id, destination in connection.execute(
                        sa.select(jobs.c.packet_id, jobs.c.destination)
                        .where(jobs.c.packet_id.in_([row.packet_id for row in rows[chunk:chunk + 500]]))
                        .order_by(jobs.c.seq)):
                    routes[packet_id].append(destination)
        return [PacketView(row.packet_id, row.sha256, row.encoding, row.sender, row.agency, row.received_at,
                           row.packet_type, row.dossier, row.verdicts, self._unseal(row.packet_id, row.raw),
                           row.purged_at, routes[row.packet_id])
                for row in rows]

    def purge_delivered(self, older_than: datetime, actor: str = "retention") -> int:
        undelivered_or_recent = sa.select(jobs.c.seq).where(
            jobs.c.packet_id == packets.c.packet_id,
            sa.or_(jobs.c.state != JobState.DELIVERED.value, jobs.c.delivered_at >= older_than)).exists()
        with self._write() as connection:
            purged_ids = list(connection.execute(
                packets.update().where(packets.c.raw.is_not(None), packets.c.received_at < older_than,
                                       ~undelivered_or_recent)
                .values(raw=None, purged_at=_now()).returning(packets.c.packet_id)).scalars())
            purged = len(purged_ids)
            dossier_sync.forget_contents(connection, purged_ids)
            if purged:
                self._audit(connection, actor, "purge.delivered", "packets",
                            {"older_than": older_than.isoformat(), "count": purged})
        return purged

    def purge_dossier(self, dossier: str, actor: str, reason: str = "") -> int:
        of_dossier = sa.select(packets.c.packet_id).where(packets.c.dossier == dossier)
        with self._write() as connection:
            purged = connection.execute(packets.update().where(packets.c.dossier == dossier,
                                                               packets.c.raw.is_not(None))
                                        .values(raw=None, purged_at=_now())).rowcount
            dossier_sync.forget_contents(connection, None, dossier)
            stopped = connection.execute(
                jobs.update().where(jobs.c.packet_id.in_(of_dossier),
                                    jobs.c.state.in_([JobState.PENDING.value, JobState.LEASED.value]))
                .values(state=JobState.DEAD.value, last_error=PURGED, lease_owner=None,
                        lease_expires_at=None)).rowcount
            self._audit(connection, actor, "purge.dossier", dossier,
                        {"reason": reason, "packets": purged, "jobs_stopped": stopped}, dossier)
        return purged

    # --- accounts ---------------------------------------------------------------------
    def api_clients(self) -> list[ApiClientRecord]:
        with self._read() as connection:
            return [ApiClientRecord(row.name, row.key_sha256, row.agencies, row.types, row.suspended, row.updated_at)
                    for row in connection.execute(sa.select(api_clients).order_by(api_clients.c.name))]

    def save_api_client(self, record: ApiClientRecord, actor: str, action: str) -> None:
        values = dict(key_sha256=record.key_sha256, agencies=record.agencies, types=record.types,
                      suspended=record.suspended, updated_at=_now())
        with self._write() as connection:
            connection.execute(self._insert(api_clients).values(name=record.name, **values)
                               .on_conflict_do_update(index_elements=["name"], set_=values))
            self._audit(connection, actor, action, f"client:{record.name}",
                        {"suspended": record.suspended, "agencies": record.agencies, "types": record.types,
                         "own_key": record.key_sha256 is not None})

    def classic_password(self, username: str) -> str | None:
        with self._read() as connection:
            return connection.execute(sa.select(classic_passwords.c.password_hash)
                                      .where(classic_passwords.c.username == username)).scalar_one_or_none()

    def save_classic_password(self, username: str, password_hash: str) -> None:
        values = dict(password_hash=password_hash, updated_at=_now())
        with self._write() as connection:
            connection.execute(self._insert(classic_passwords).values(username=username, **values)
                               .on_conflict_do_update(index_elements=["username"], set_=values))
            self._audit(connection, "gateway", "password.rehash", f"classic:{username}", {})

    # --- receipts as answered (migration 0017) ------------------------------------------------
    def keep_receipts(self, rows: Sequence[tuple[str, bytes, str]]) -> None:
        """Keeps (packet id, receipt bytes, signed by) unless the packet has one already: the first answer
        is the evidence. Written together, without waiting for the disk (the packet itself is durable)."""
        if rows:
            now = _now()
            with self._bookkeeping() as connection:
                connection.execute(self._insert(receipts).on_conflict_do_nothing(index_elements=["packet_id"]),
                                   [{"packet_id": packet_id, "document": document, "signed_by": signed_by,
                                     "issued_at": now} for packet_id, document, signed_by in rows])

    def receipt_of(self, packet_id: str) -> bytes | None:
        with self._read() as connection:
            document = connection.execute(sa.select(receipts.c.document)
                                          .where(receipts.c.packet_id == packet_id)).scalar_one_or_none()
        return None if document is None else bytes(document)

    # --- online payments (migration 0013) ---------------------------------------------------
    def open_payment(self, reference: str, dossier: str, packet_id: str, agency: str | None, amount: int,
                     variant: str, detail: dict[str, Any]) -> dict[str, Any]:
        now = _now()
        with self._write() as connection:
            connection.execute(self._insert(payments).values(
                reference=reference, dossier=dossier, packet_id=packet_id, agency=agency, amount=amount,
                variant=variant, state="new", transaction_id=None, detail=detail, created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=["reference"]))
            row = connection.execute(sa.select(payments).where(payments.c.reference == reference)).one()
        return dict(row._mapping)

    def payment(self, reference: str) -> dict[str, Any] | None:
        with self._read() as connection:
            row = connection.execute(sa.select(payments).where(payments.c.reference == reference)).one_or_none()
        return None if row is None else dict(row._mapping)

    def payments_of(self, dossier: str) -> list[dict[str, Any]]:
        with self._read() as connection:
            return [dict(row._mapping) for row in connection.execute(
                sa.select(payments).where(payments.c.dossier == dossier).order_by(payments.c.created_at))]

    def stale_payments(self, states: Sequence[str], before: datetime, limit: int = 100) -> list[dict[str, Any]]:
        with self._read() as connection:
            return [dict(row._mapping) for row in connection.execute(
                sa.select(payments).where(payments.c.state.in_(list(states)), payments.c.updated_at < before)
                .order_by(payments.c.updated_at).limit(limit))]

    def update_payment(self, reference: str, state: str, detail: dict[str, Any] | None = None, *,
                       transaction: str | None = None, audit: tuple[str, str, dict[str, Any]] | None = None,
                       callback: tuple[str, dict[str, Any]] | None = None, holder: str | None = None,
                       retry_at: datetime | None = None) -> bool:
        with self._write() as connection:
            row = connection.execute(sa.select(payments.c.detail, payments.c.dossier, payments.c.lease_owner,
                                               payments.c.attempts)
                                     .where(payments.c.reference == reference).with_for_update()).one()
            if holder is not None and row.lease_owner != holder:  # the lease lapsed and was taken: not ours
                return False
            values: dict[str, Any] = dict(state=state, updated_at=_now(), detail={**row.detail, **(detail or {})})
            if transaction is not None:
                values["transaction_id"] = transaction
            if holder is not None:
                values.update(lease_owner=None, lease_expires_at=None)
            if retry_at is not None:
                values.update(next_attempt_at=retry_at, attempts=row.attempts + 1)
            connection.execute(payments.update().where(payments.c.reference == reference).values(**values))
            if audit is not None:
                self._audit(connection, audit[0], audit[1], reference, audit[2], row.dossier)
            if callback is not None:
                connection.execute(payment_callbacks.update().where(
                    payment_callbacks.c.reference == reference, payment_callbacks.c.transaction_id == callback[0])
                    .values(finished=True, reply=callback[1]))
        return True

    def claim_payments(self, states: Sequence[str], holder: str, *, limit: int,
                       lease_seconds: float) -> list[dict[str, Any]]:
        now = _now()
        free = sa.or_(payments.c.lease_expires_at.is_(None), payments.c.lease_expires_at < now)
        due = sa.or_(payments.c.next_attempt_at.is_(None), payments.c.next_attempt_at <= now)
        query = (sa.select(payments.c.reference).where(payments.c.state.in_(list(states)), free, due)
                 .order_by(payments.c.updated_at).limit(limit))
        with self._read() as connection:  # idle pollers take no write lock (SQLite has one writer)
            if connection.execute(query.limit(1)).first() is None:
                return []
        with self._write() as connection:
            if not self._sqlite:  # SQLite's one writer serialises claims already
                query = query.with_for_update(skip_locked=True)
            references = list(connection.execute(query).scalars())
            if not references:
                return []
            connection.execute(payments.update().where(payments.c.reference.in_(references)).values(
                lease_owner=holder, lease_expires_at=now + timedelta(seconds=lease_seconds)))
            rows = connection.execute(sa.select(payments).where(payments.c.reference.in_(references))
                                      .order_by(payments.c.updated_at))
            return [dict(row._mapping) for row in rows]

    def record_callback(self, reference: str, transaction: str,
                        decide: Callable[[dict[str, Any]], dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
        with self._write() as connection:
            connection.execute(self._insert(payment_callbacks).values(
                reference=reference, transaction_id=transaction, received_at=_now(), finished=False, reply=None)
                .on_conflict_do_nothing(index_elements=["reference", "transaction_id"]))
            known = connection.execute(sa.select(payment_callbacks.c.finished, payment_callbacks.c.reply).where(
                payment_callbacks.c.reference == reference,
                payment_callbacks.c.transaction_id == transaction).with_for_update()).one()
            if known.finished:
                return False, dict(known.reply)
            row = connection.execute(sa.select(payments).where(payments.c.reference == reference)
                                     .with_for_update()).one()
            payment = dict(row._mapping)
            change = decide(payment)
            values: dict[str, Any] = dict(state=change["state"], updated_at=_now(),
                                          detail={**payment["detail"], **(change.get("detail") or {})})
            if change.get("transaction") is not None:
                values["transaction_id"] = change["transaction"]
            connection.execute(payments.update().where(payments.c.reference == reference).values(**values))
            if change.get("audit") is not None:
                actor, action, detail = change["audit"]
                self._audit(connection, actor, action, reference, detail, payment["dossier"])
            connection.execute(payment_callbacks.update().where(
                payment_callbacks.c.reference == reference, payment_callbacks.c.transaction_id == transaction)
                .values(finished=True, reply=change["reply"]))
            return True, dict(change["reply"])

    def claim_callback(self, reference: str, transaction: str) -> dict[str, Any] | None:
        """Records a callback; ``None`` the first time (or while unfinished: to be handled again),
        else the reply the first one got."""
        with self._write() as connection:
            connection.execute(self._insert(payment_callbacks).values(
                reference=reference, transaction_id=transaction, received_at=_now(), finished=False, reply=None)
                .on_conflict_do_nothing(index_elements=["reference", "transaction_id"]))
            row = connection.execute(sa.select(payment_callbacks).where(
                payment_callbacks.c.reference == reference,
                payment_callbacks.c.transaction_id == transaction).with_for_update()).one()
        return row.reply if row.finished else None

    def counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        with self._read() as connection:
            for row in connection.execute(sa.select(jobs.c.destination, jobs.c.state, sa.func.count())
                                          .group_by(jobs.c.destination, jobs.c.state)):
                result.setdefault(row[0], {})[row[1]] = int(row[2])
        return result
