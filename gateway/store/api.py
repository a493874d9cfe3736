"""The durable store's contract: what the API (accept) and the delivery engine (claim,
complete, retry, dead-letter) and operators (find, replay, purge) can ask of it.

One implementation (``gateway.store.sql.SqlStore``) over SQLAlchemy Core serves both
SQLite (WAL, the embedded default) and PostgreSQL (scale-out); ``open_store(url)``
picks the dialect from the URL and brings the schema to the newest migration.

Times: every datetime handed in must be timezone-aware; the store keeps UTC and hands
back aware datetimes in UTC (display code converts to Asia/Ho_Chi_Minh).

Job ids are ``"<packet_id>/<destination>"``: one job per packet and destination, stable
across retries and replays. ``seq`` is the global acceptance order (monotonic); jobs of
one ordering key (the dossier code, or the packet id when there is none) are handed out
strictly in ``seq`` order, one holder at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol
from collections.abc import Callable, Sequence

if TYPE_CHECKING:
    from gateway.audit.chain import Entry
    from gateway.audit.checkpoint import Checkpoint
    from gateway.store.wakeups import JobSignal

OnDead = Literal["hold", "skip"]


class JobState(StrEnum):
    PENDING = "pending"  # waiting for its turn or its next attempt time
    LEASED = "leased"  # a worker holds it until lease_expires_at
    DELIVERED = "delivered"
    DEAD = "dead"  # dead letter: kept with every attempt and the reason, replayable


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class NewPacket:
    """A validated packet about to be stored, exactly as received."""

    packet_id: str  # the sender's MaGoiTin: the idempotency key
    sha256: str  # hex digest of ``raw``
    raw: bytes  # exactly the bytes received (and signed)
    encoding: Literal["xml", "json"]
    sender: str  # authenticated client name
    received_at: datetime
    packet_type: str  # LoaiGoiTin
    dossier: str | None  # MaHoSo, when the body has one
    verdicts: dict[str, Any] = field(default_factory=dict)  # {"validation": …, "signature": …}
    agency: str | None = None  # NoiGui
    status: int | None = None  # the dossier status it carries (TrangThaiHoSo / TrangThai), if any
    acts_for: frozenset[str] | None = None  # the agencies its sender may act for (None: any); not stored
    owner: str | None = None  # the agency its dossier belongs to if this packet creates it (None: ``agency``)

    @property
    def ordering_key(self) -> str:
        return self.dossier or self.packet_id


@dataclass(frozen=True)
class AcceptResult:
    """What the receipt is built from. On a duplicate, the *original* packet's fields."""

    packet_id: str
    sha256: str
    received_at: datetime
    destinations: list[str]
    duplicate: bool = False  # same id, same bytes: nothing new stored, no new jobs
    conflict: bool = False  # same id, different bytes: nothing stored, audited; HTTP 409
    verdicts: dict[str, Any] | None = None  # what was stored with a new packet, as admitted (None otherwise)
    refused: dict[str, Any] | None = None  # the admission check's refusal (nothing stored)
    stored_id: str | None = None  # the id it is stored under when not ``packet_id`` (``scoped_id``)


def scoped_id(sender: str, packet_id: str) -> str:
    """The id a packet is stored under when its MaGoiTin is already another sender's: scoped to its own
    sender, so that the collision is answered as if the id were unknown. A MaGoiTin is a UUID (no "/"),
    so no sender can send an id that looks like another's scoped one."""
    return f"{sender}/{packet_id}"


@dataclass(frozen=True)
class NotAdmitted:
    """An admission check's "no", with what the caller wants to say about it."""

    detail: dict[str, Any]
    reason: str | None = None  # the real reason, for the audit log only, when ``detail`` hides it


class BatchNotAdmitted(Exception):
    """``accept_many(…, whole=True)``: packets the admission check refused, by packet id, their
    refusals' details; nothing of the batch was stored."""

    def __init__(self, refusals: dict[str, dict[str, Any]]) -> None:
        super().__init__(f"{len(refusals)} packet(s) not admitted")
        self.refusals = refusals


# Checks a new packet that carries a dossier status against the dossier's previous status (None: its
# first), inside the accepting transaction: returns the packet to store (its verdicts may be amended)
# or NotAdmitted. Resends (an id already stored) are not checked: they get the original's receipt.
Admit = Callable[["NewPacket", "int | None"], "NewPacket | NotAdmitted"]

# Checks a new packet of a dossier that already has an owner (the agency of its first packet) inside the
# accepting transaction, before its status is looked at: None lets it through, else its refusal. A packet
# of a dossier without an owner makes its own agency the owner.
Guard = Callable[["NewPacket", str], "NotAdmitted | None"]


@dataclass(frozen=True)
class ClaimedJob:
    job_id: str
    packet_id: str  # = the idempotency key to send to the destination
    destination: str
    ordering_key: str
    seq: int
    attempts: int  # attempts already made before this one
    raw: bytes
    encoding: Literal["xml", "json"]
    packet_type: str
    # this claim's holder: the worker and the claim's own token; settle, extend and release with it, so a
    # claim that lapsed and was taken again — by anyone, the same worker too — can no longer touch the job
    holder: str = ""


@dataclass(frozen=True)
class AttemptRecord:
    """One try at delivering one job, as the engine saw it."""

    started_at: datetime
    duration_ms: int
    outcome: str  # OutcomeKind value: delivered | transient | permanent (or "released", "lease_lost")
    peer_status: str | None = None  # HTTP status and/or the peer's error code
    message: str = ""  # the peer's own words (no personal data)
    transform: str | None = None  # what turned the packet into the call (the connector's ``transform``)


@dataclass(frozen=True)
class AttemptView(AttemptRecord):
    n: int = 0  # 1-based attempt number of its job


@dataclass(frozen=True)
class JobView:
    job_id: str
    packet_id: str
    destination: str
    ordering_key: str
    seq: int
    state: JobState
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    packet_type: str
    dossier: str | None
    attempt_log: list[AttemptView] = field(default_factory=list)  # filled by get_job only


@dataclass(frozen=True)
class JobFilter:
    """Operators' selection of jobs; every field given narrows it. Dates bound created_at."""

    destination: str | None = None
    dossier: str | None = None
    packet_type: str | None = None
    state: JobState | None = None
    reason: str | None = None  # substring of last_error
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class PacketView:
    packet_id: str
    sha256: str
    encoding: str
    sender: str
    agency: str | None
    received_at: datetime
    packet_type: str
    dossier: str | None
    verdicts: dict[str, Any]
    raw: bytes | None  # None once purged
    purged_at: datetime | None
    destinations: list[str]


@dataclass(frozen=True)
class DestinationState:
    name: str
    paused: bool = False
    pause_reason: str | None = None
    breaker_state: BreakerState = BreakerState.CLOSED
    breaker_opened_at: datetime | None = None
    updated_at: datetime | None = None
    # set from the console; None: the configuration's (``windows``: the [[…windows]] tables, all of them)
    rate_per_second: float | None = None
    burst: int | None = None
    windows: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class WorkerSeen:
    """A delivery worker's row in the registry: it writes ``seen_at`` at every heartbeat."""
    name: str
    host: str
    pid: int
    destinations: list[str]
    started_at: datetime
    seen_at: datetime


@dataclass(frozen=True)
class ReplayRun:
    """A bulk replay from the console: the jobs chosen and, as each is done, whether it went back to pending."""
    run_id: str
    actor: str
    reason: str
    job_ids: list[str]
    results: dict[str, int]
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class ApiClientRecord:
    """An API client as ``gateway clients`` keeps it: a client of its own, or an override of a configured
    one of the same name (``key_sha256`` None: the configured key; ``agencies``/``types`` None: any, or
    the configured ones)."""

    name: str
    key_sha256: str | None
    agencies: list[str] | None = None
    types: list[str] | None = None
    suspended: bool = False
    updated_at: datetime | None = None


class Store(Protocol):
    """Everything the gateway keeps. Every method is one transaction."""

    url: str

    # --- accepting -------------------------------------------------------------------
    def accept(self, packet: NewPacket, destinations: Sequence[str]) -> AcceptResult:
        """Stores the packet and one job per destination in ONE transaction.

        Idempotent by packet_id: same id and sha256 → the original receipt fields with
        ``duplicate=True`` and no new jobs; same id, other sha256 → ``conflict=True``,
        nothing stored but an audit row."""
        ...

    def accept_many(self, items: Sequence[tuple[NewPacket, Sequence[str]]],
                    admit: Admit | None = None, *, whole: bool = False,
                    guard: Guard | None = None) -> list[AcceptResult]:
        """``accept`` for several packets in one transaction (group commit); results in order.

        Every new packet of a dossier is first checked by ``guard`` against the dossier's owner, read after
        the dossier is locked (so two agencies creating one dossier at the same instant, in one process or
        several, are decided one after the other); the first packet of a dossier records its owner. A
        packet id already stored by another sender is a conflict (audited), never its receipt.

        With ``admit``, each new packet carrying a status is checked in order against its dossier's
        previous status — the store's, or an earlier packet's of the same batch — read inside the
        transaction after the dossiers are locked, so two packets of one dossier accepted at the same
        instant, by one process or several, are checked one after the other. A refused packet gets
        ``refused`` in its result; with ``whole``, any refusal stores nothing (``BatchNotAdmitted``)."""
        ...

    def get_packet(self, packet_id: str) -> PacketView | None: ...

    def stored_raw(self, packet_ids: Sequence[str]) -> dict[str, bytes]:
        """The received bytes of those of ``packet_ids`` already stored (and not purged), in one read."""
        ...

    def lockout_failed(self, keys: Sequence[str], now: float, forget_seconds: float) -> dict[str, int]:
        """One failure more against each lockout key (shared by every API process); the counts after it."""
        ...

    def lockout_lock(self, until: dict[str, float]) -> None:
        """Locks keys until the given wall-clock times (never shortening a lock)."""
        ...

    def lockout_clear(self, key: str) -> None:
        ...

    def lockouts_in_force(self, now: float, forget_seconds: float, limit: int = 10_000) -> dict[str, float]:
        """Every key locked at ``now`` with until when (wall-clock seconds)."""
        ...

    def dossier_owner(self, dossier: str) -> str | None:
        """The agency that owns ``dossier`` (its first packet's), or None when the store has none of it."""
        ...

    def latest_changes(self, dossiers: Sequence[str]) -> dict[str, tuple[str, str, bytes | None]]:
        """Per dossier, the last packet stored that carries its status (the one ``previous_status``
        reads): its id, sender and bytes (None once purged); dossiers with none are left out."""
        ...

    def previous_status(self, dossier: str) -> int | None:
        """The status of the latest accepted packet of ``dossier`` that carried one
        (validation's StatusHistory)."""
        ...

    # --- delivering (the engine) -------------------------------------------------------
    def job_signal(self, interval: float) -> JobSignal:
        """Wakes idle runners when jobs may have become claimable — committed by any process
        (``gateway.store.wakeups``); started on first use, stopped by ``close``. ``interval``: how
        often SQLite's change counter is read."""
        ...

    def claim(self, destination: str, worker: str, *, limit: int, max_batch: int, lease_seconds: float,
              now: datetime | None = None, on_dead: OnDead = "hold") -> list[list[ClaimedJob]]:
        """Up to ``limit`` batches; each holds up to ``max_batch`` consecutive jobs of ONE
        ordering key in seq order, starting at that key's head (its lowest-seq job neither
        delivered nor — under ``on_dead="skip"`` — dead), only when the head is pending (or
        leased with an expired lease) and due (next_attempt_at ≤ now). A key whose head is
        live-leased, or dead under "hold", is not handed out. The jobs become leased by
        ``worker`` until now + lease_seconds, under this claim's ``holder``: the methods below take
        it, or the worker's name for any of its claims. Safe across processes."""
        ...

    def complete(self, job_id: str, worker: str, attempt: AttemptRecord) -> bool:
        """Delivered. False (and nothing changed) when ``worker`` no longer holds the lease."""
        ...

    def complete_many(self, job_ids: Sequence[str], worker: str, attempt: AttemptRecord) -> list[bool]:
        """``complete`` for a batch delivered in one call (one attempt record each), in ONE
        transaction; per job, whether ``worker`` still held it."""
        ...

    def complete_each(self, items: Sequence[tuple[str, AttemptRecord]], worker: str | Sequence[str]) -> list[bool]:
        """``complete`` for jobs of several calls, each with its own attempt record, in ONE
        transaction (the engine's group commit of outcomes); per job, whether ``worker`` still held it.
        ``worker``: one holder for all, or each item's own (``ClaimedJob.holder``)."""
        ...

    def retry_later(self, job_id: str, worker: str, attempt: AttemptRecord, next_attempt_at: datetime | None = None,
                    *, delay_seconds: float | None = None) -> bool:
        """Back to pending, due at ``next_attempt_at`` or ``delay_seconds`` after the store's time (``now``);
        attempt counted. False if the lease was lost."""
        ...

    def dead_letter(self, job_id: str, worker: str, attempt: AttemptRecord, reason: str) -> bool:
        """Dead letter with ``reason``; attempt counted. False if the lease was lost."""
        ...

    def release(self, job_ids: Sequence[str], worker: str) -> int:
        """Gives back leased, unattempted jobs (shutdown, pause): pending again, no attempt burnt."""
        ...

    def extend_lease(self, job_ids: Sequence[str], worker: str, lease_seconds: float,
                     now: datetime | None = None) -> int:
        """Pushes the lease of the jobs ``worker`` still holds to now + lease_seconds; how many."""
        ...

    def extend_leases(self, held: Sequence[tuple[str, str]], lease_seconds: float,
                      now: datetime | None = None) -> int:
        """``extend_lease`` for many claims in one transaction: (job id, holder) pairs; how many."""
        ...

    def now(self) -> datetime:
        """The store's time, which a ``now`` left out stands for: PostgreSQL's clock (the same for every
        worker, whatever their machines' clocks do), this process's with SQLite (one machine)."""
        ...

    def hold_session(self, worker: str) -> None:
        """PostgreSQL: opens (or reopens, if it was lost) a session that lives as long as this process, and
        ties ``worker``'s claims from now on to it: when the process dies the server ends the session and
        other workers take its jobs at once instead of waiting out the leases. SQLite: nothing."""
        ...

    def drop_session(self, worker: str) -> None:
        """Ends what ``hold_session`` opened."""
        ...

    def release_abandoned(self, worker_prefix: str) -> int:
        """Gives back, at once, every job leased by a worker whose name starts with ``worker_prefix`` —
        one known to be dead (its supervisor saw it end) — instead of waiting out the leases; how many."""
        ...

    # --- operators --------------------------------------------------------------------
    def find_jobs(self, selection: JobFilter) -> list[JobView]: ...

    def count_jobs(self, selection: JobFilter) -> int: ...

    def get_job(self, job_id: str) -> JobView | None:
        """The job with every attempt (``attempt_log``)."""
        ...

    def attempts_of(self, job_ids: Sequence[str]) -> dict[str, list[AttemptView]]:
        """Every attempt of each of ``job_ids``, in order, in one read."""
        ...

    def replay(self, selection: JobFilter | Sequence[str], actor: str, reason: str, *,
               dry_run: bool = False, now: datetime | None = None) -> int:
        """Dead → pending (due now) for the selected dead jobs; attempts kept; one audit row
        with who and why. Packet bytes are never touched. Returns how many (would) change."""
        ...

    def destination_state(self, name: str) -> DestinationState: ...

    def set_paused(self, name: str, paused: bool, actor: str, reason: str) -> None:
        """Manual pause/resume, audited."""
        ...

    def save_breaker(self, name: str, state: BreakerState, opened_at: datetime | None) -> None: ...

    def set_rate_limit(self, name: str, rate: float | None, burst: int | None, actor: str, reason: str) -> None:
        """The destination's rate limit for every worker from now on (None, None: back to the configuration's),
        audited."""
        ...

    def set_windows(self, name: str, windows: list[dict[str, Any]] | None, actor: str, reason: str) -> None:
        """The destination's maintenance windows for every worker (None: back to the configuration's), audited."""
        ...

    def worker_seen(self, name: str, host: str, pid: int, destinations: Sequence[str]) -> None:
        """Registers (or refreshes) a delivery worker: its heartbeat."""
        ...

    def worker_gone(self, name: str) -> None: ...

    def workers(self) -> list[WorkerSeen]: ...

    def start_replay_run(self, actor: str, reason: str, job_ids: Sequence[str]) -> str: ...

    def record_replay_result(self, run_id: str, job_id: str, count: int, finished: bool = False) -> None: ...

    def replay_run(self, run_id: str) -> ReplayRun | None: ...

    def take_tokens(self, name: str, want: int, rate: float, burst: int,
                    now: datetime | None = None) -> tuple[int, float]:
        """The destination's token bucket, one for every worker process: up to ``want`` tokens
        (refilled at ``rate`` per second, at most ``burst``), and when none is left the seconds
        until the next one."""

    def audit(self, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None, *,
              dossier: str | None = None) -> None:
        """Appends to the audit trail, a hash chain (``gateway.audit``): never updated or deleted. ``detail``
        holds no citizen data in clear (hashes, masked values); ``dossier`` names the dossier it is about,
        so its evidence bundle carries it."""
        ...

    def audit_many(self, rows: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        """``audit`` for many (actor, action, subject, detail) rows of frequent events (look-ups) in ONE
        transaction that, like delivery bookkeeping, does not wait for the disk: a power cut may lose the last
        few, never a packet's commit (which carries them to disk when it is made)."""
        ...

    def audit_log(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...

    def audit_entries(self, after: int = 0, until: int | None = None, limit: int = 5000) -> list[Entry]:
        """Chain entries after position ``after`` (up to ``until``), in order: for verifying the chain."""
        ...

    def audit_about(self, dossier: str, subjects: Sequence[str] = ()) -> list[Entry]:
        """Entries naming ``dossier``, or whose subject is it or one of ``subjects`` (its packets and jobs)."""
        ...

    def audit_head(self) -> tuple[int, str]:
        """(position, hash) of the chain's last entry; (0, GENESIS) when empty."""
        ...

    def audit_checkpoints(self, at_least: int = 0) -> list[Checkpoint]:
        """Checkpoints covering entry ``at_least`` or later, in order."""
        ...

    def checkpoint(self, make: Callable[[int, str], Checkpoint]) -> Checkpoint | None:
        """A checkpoint of the head made by ``make(n, hash)`` unless it has one; None while the chain is empty."""
        ...

    def dossier_packets(self, dossier: str) -> list[PacketView]:
        """Every packet of the dossier in the order received (payloads None once purged)."""
        ...

    def purge_delivered(self, older_than: datetime, actor: str = "retention") -> int:
        """Removes the payload of packets whose every job was delivered before ``older_than``;
        hashes, receipts, jobs, attempts and audit stay. How many packets."""
        ...

    def purge_dossier(self, dossier: str, actor: str, reason: str = "") -> int:
        """A person's deletion request: every payload of the dossier removed, undelivered jobs
        dead-lettered ("purged"), hashes/receipts/audit kept, audited. How many packets."""
        ...

    def rekey(self, actor: str, batch: int = 200) -> dict[str, int]:
        """Seals every stored payload under the key ring's first key (``gateway.store.sealing``): plain ones
        and those under older keys, a batch per transaction; audited. {"changed": n, "kept": n}."""
        ...

    # --- accounts ---------------------------------------------------------------------
    def api_clients(self) -> list[ApiClientRecord]: ...

    def save_api_client(self, record: ApiClientRecord, actor: str, action: str) -> None:
        """Adds or replaces the row of ``record.name``, audited as ``action`` (never with the key's hash)."""
        ...

    def classic_password(self, username: str) -> str | None:
        """The salted hash a classic account's legacy SHA-256 entry was re-hashed into, if any."""
        ...

    def save_classic_password(self, username: str, password_hash: str) -> None:
        """Keeps the re-hashed password of ``username`` (audited)."""
        ...

    # Receipts as answered (gateway.receipt.keeper): the exact bytes of each packet's first receipt.
    def keep_receipts(self, rows: Sequence[tuple[str, bytes, str]]) -> None:
        """Keeps (packet id, receipt bytes, signed by) for packets that have none kept yet."""
        ...

    def receipt_of(self, packet_id: str) -> bytes | None:
        """The receipt bytes first answered for ``packet_id``, if kept."""
        ...

    # Online payments (connectors/payment): the references created with the platform and their state.
    def open_payment(self, reference: str, dossier: str, packet_id: str, agency: str | None, amount: int,
                     variant: str, detail: dict[str, Any]) -> dict[str, Any]:
        """Records a payment reference in state "new" unless it exists; returns the row as stored."""
        ...

    def payment(self, reference: str) -> dict[str, Any] | None: ...

    def payments_of(self, dossier: str) -> list[dict[str, Any]]: ...

    def stale_payments(self, states: Sequence[str], before: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """Payments in one of ``states`` last changed before ``before`` (oldest first): those whose CONFIRM
        never came, for the payment connector to ask the platform about."""
        ...

    def update_payment(self, reference: str, state: str, detail: dict[str, Any] | None = None, *,
                       transaction: str | None = None, audit: tuple[str, str, dict[str, Any]] | None = None,
                       callback: tuple[str, dict[str, Any]] | None = None, holder: str | None = None,
                       retry_at: datetime | None = None) -> bool:
        """Moves a payment to ``state``, merging ``detail`` into what it holds; in the same transaction, an
        audit entry (actor, action, detail) about the payment's dossier, and a callback (transaction, reply)
        marked answered. With ``holder`` (a ``claim_payments`` lease): only while that lease is held — False
        and nothing changed otherwise — and the lease is given back; ``retry_at``: due again then, one more
        attempt counted."""
        ...

    def claim_payments(self, states: Sequence[str], holder: str, *, limit: int,
                       lease_seconds: float) -> list[dict[str, Any]]:
        """Payments in one of ``states``, due (``next_attempt_at`` unset or past) and not leased (or their
        lease lapsed), oldest change first: leased to ``holder`` until now + ``lease_seconds``. Safe across
        processes: one payment is held by one claim at a time."""
        ...

    def claim_callback(self, reference: str, transaction: str) -> dict[str, Any] | None:
        """A platform callback, once per (reference, transaction): None to handle it, else the first reply."""
        ...

    def record_callback(self, reference: str, transaction: str,
                        decide: Callable[[dict[str, Any]], dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
        """A platform callback handled once per (reference, transaction), in one write transaction: a repeat
        gets (False, the first reply); else ``decide`` is given the payment (locked: concurrent callbacks of one
        payment take turns) and answers {"state", "detail", "transaction", "audit", "reply"} (as
        ``update_payment``'s, ``reply`` the callback's), written with the callback marked answered: (True, reply)."""
        ...

    def counts(self) -> dict[str, dict[str, int]]:
        """{destination: {state: number of jobs}} for status pages and metrics."""
        ...

    def close(self) -> None: ...


def open_store(url: str, *, migrate: bool = True) -> Store:
    """A store for a SQLAlchemy URL: ``sqlite:///path/gateway.db`` or
    ``postgresql+psycopg://user@host/db``; with ``migrate``, upgrades the schema first."""
    from gateway.store.sql import SqlStore

    return SqlStore(url, migrate=migrate)
