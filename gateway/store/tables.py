"""The store's tables (SQLAlchemy Core). The migrations in ``migrations/`` create exactly these."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored naive in UTC so that SQLite's text
    comparison and PostgreSQL's timestamp comparison order them the same way."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store needs timezone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# SQLite autoincrements only an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a bigint identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

packets = sa.Table(
    "packets", metadata,
    sa.Column("packet_id", sa.String(64), primary_key=True),  # the sender's MaGoiTin
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=True),  # exactly as received; NULL once purged
    sa.Column("encoding", sa.String(8), nullable=False),
    sa.Column("sender", sa.String(100), nullable=False),
    sa.Column("agency", sa.String(100), nullable=True),  # NoiGui (migration 0002)
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("packet_type", sa.String(40), nullable=False),
    sa.Column("dossier", sa.String(100), nullable=True),
    sa.Column("verdicts", sa.JSON, nullable=False),
    sa.Column("purged_at", UtcDateTime, nullable=True),
    sa.Column("status", sa.Integer, nullable=True),  # TrangThaiHoSo / TrangThai (migration 0003)
    # The subject of the audit entry of the committed batch that accepted it (migration 0021).
    sa.Column("audit_batch", sa.String(40), nullable=True),
)
sa.Index("ix_packets_dossier", packets.c.dossier)  # migration 0002
sa.Index("ix_packets_dossier_received", packets.c.dossier, packets.c.received_at)  # migration 0003

# Who owns a dossier: the agency of its first packet (migration 0008).
dossiers = sa.Table(
    "dossiers", metadata,
    sa.Column("dossier", sa.String(100), primary_key=True),
    sa.Column("agency", sa.String(100), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),  # global acceptance order
    sa.Column("job_id", sa.String(200), nullable=False, unique=True),
    sa.Column("packet_id", sa.String(64), sa.ForeignKey("packets.packet_id"), nullable=False),
    sa.Column("destination", sa.String(100), nullable=False),
    sa.Column("ordering_key", sa.String(100), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("delivered_at", UtcDateTime, nullable=True),
)
sa.Index("ix_jobs_key", jobs.c.destination, jobs.c.ordering_key, jobs.c.seq)
sa.Index("ix_jobs_state", jobs.c.destination, jobs.c.state, jobs.c.seq)
sa.Index("ix_jobs_packet", jobs.c.packet_id)
# What claiming reads, and only those rows: small however long the history (migration 0004).
# Literal SQL: SQLite uses a partial index only when the query repeats its condition word for word.
READY_JOBS = sa.text("state IN ('pending', 'leased')")
OPEN_JOBS = sa.text("state <> 'delivered'")
sa.Index("ix_jobs_ready", jobs.c.destination, jobs.c.seq, postgresql_where=READY_JOBS, sqlite_where=READY_JOBS)
sa.Index("ix_jobs_open_key", jobs.c.destination, jobs.c.ordering_key, jobs.c.seq,
         postgresql_where=OPEN_JOBS, sqlite_where=OPEN_JOBS)

attempts = sa.Table(
    "attempts", metadata,
    sa.Column("job_id", sa.String(200), primary_key=True),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("peer_status", sa.String(100), nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("transform", sa.Text, nullable=True),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    # The hash chain (migration 0010, gateway.audit.chain): position, the entry's digest, the chain hash.
    sa.Column("n", sa.BigInteger, nullable=True),
    sa.Column("dossier", sa.String(100), nullable=True),
    sa.Column("digest", sa.String(64), nullable=True),
    sa.Column("hash", sa.String(64), nullable=True),
)
sa.Index("ix_audit_subject", audit.c.subject)
sa.Index("ux_audit_n", audit.c.n, unique=True)  # migration 0010
sa.Index("ix_audit_dossier", audit.c.dossier)  # migration 0010
# refusals only (migration 0015): what /metrics' refusals by rule and the monthly report read; the entries of every
# accepted packet stay out of it, so intake pays nothing for it. Literal: SQLite matches a partial index word for word.
REFUSED_ENTRIES = sa.text("action = 'packet.refused'")
sa.Index("ix_audit_refused", audit.c.id, postgresql_where=REFUSED_ENTRIES, sqlite_where=REFUSED_ENTRIES)

# The chain's last entry, one row (id 1): appends lock it, so entries of every process link in one line.
audit_head = sa.Table(
    "audit_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Signed checkpoints of the chain (gateway.audit.checkpoint), migration 0010.
audit_checkpoints = sa.Table(
    "audit_checkpoints", metadata,
    sa.Column("n", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),  # as signed (gateway.audit.chain.timestamp)
    sa.Column("jws", sa.Text, nullable=True),  # NULL: no signing key was configured
    sa.Column("timestamp_token", sa.Text, nullable=True),  # RFC 3161, base64 DER, when a TSA is wired
)

destinations = sa.Table(
    "destinations", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("pause_reason", sa.Text, nullable=True),
    sa.Column("breaker_state", sa.String(16), nullable=False),
    sa.Column("breaker_opened_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("tokens", sa.Float, nullable=True),  # the shared token bucket (migration 0005)
    sa.Column("tokens_at", UtcDateTime, nullable=True),
    # set from the console (migration 0015); NULL: the configuration's
    sa.Column("rate_per_second", sa.Float, nullable=True),
    sa.Column("burst", sa.Integer, nullable=True),
    sa.Column("windows", sa.JSON, nullable=True),  # maintenance windows as configured ([[…windows]] tables)
)

# Delivery workers alive (migration 0015): each writes its row at start and at every heartbeat.
workers = sa.Table(
    "workers", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("destinations", sa.JSON, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("seen_at", UtcDateTime, nullable=False),
)

# The overview charts' closed buckets (migration 0015): a bucket that ended minutes ago never changes (deliveries,
# acceptances and attempts are stamped when they happen), so the console computes it once and keeps it here.
console_buckets = sa.Table(
    "console_buckets", metadata,
    sa.Column("destination", sa.String(100), primary_key=True),
    sa.Column("width", sa.Integer, primary_key=True, autoincrement=False),  # seconds
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),  # epoch seconds, a multiple of width
    sa.Column("delivered", sa.Integer, nullable=False),
    sa.Column("latency_s", sa.Float, nullable=False),  # the sum, acceptance → delivery, of the bucket's deliveries
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
)

# The monthly report's closed hours, per agency (migration 0020): counted once, read by every later report.
# Agency "" marks an hour as counted (an hour without packets has no other row); "—" is packets without NoiGui.
console_hours = sa.Table(
    "console_hours", metadata,
    sa.Column("late_after", sa.Integer, primary_key=True, autoincrement=False),  # seconds: what "late" meant
    sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),  # epoch seconds, UTC hour
    sa.Column("agency", sa.String(100), primary_key=True),
    sa.Column("received", sa.Integer, nullable=False),
    sa.Column("valid", sa.Integer, nullable=False),
    sa.Column("delivered", sa.Integer, nullable=False),
    sa.Column("late", sa.Integer, nullable=False),
)

# Each dossier's sync path summed up (migration 0018), written with its packets (gateway.store.dossier_sync):
# the sync-quality view reads these rows, never the packets.
dossier_sync = sa.Table(
    "dossier_sync", metadata,
    sa.Column("dossier", sa.String(100), primary_key=True),
    sa.Column("packets", sa.Integer, nullable=False),
    sa.Column("last_at", UtcDateTime, nullable=False),  # the latest packet's arrival
    sa.Column("first_status", sa.Integer, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("moves", sa.Text, nullable=False),  # distinct moves between successive statuses: "1>2,2>3"
    sa.Column("hoso_packet", sa.String(64), nullable=True),  # the latest HoSo
    sa.Column("finished", sa.Boolean, nullable=False),  # it has NgayKetThucXuLy and NgayHenTra (not purged)
    sa.Column("on_time", sa.Boolean, nullable=False),  # … and NgayKetThucXuLy ≤ NgayHenTra
)
# When each agency (NoiGui; "" for none) first and last sent for a dossier: who sees it, and in which periods.
dossier_sync_agencies = sa.Table(
    "dossier_sync_agencies", metadata,
    sa.Column("dossier", sa.String(100), primary_key=True),
    sa.Column("agency", sa.String(100), primary_key=True),
    sa.Column("first_at", UtcDateTime, nullable=False),
    sa.Column("last_at", UtcDateTime, nullable=False),
)
sa.Index("ix_dossier_sync_agencies_last", dossier_sync_agencies.c.last_at)
sa.Index("ix_dossier_sync_agencies_agency", dossier_sync_agencies.c.agency, dossier_sync_agencies.c.last_at)

# A bulk replay started from the console and its results so far (migration 0015), read by the page that follows it.
replay_runs = sa.Table(
    "replay_runs", metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("job_ids", sa.JSON, nullable=False),
    sa.Column("results", sa.JSON, nullable=False),  # {job_id: 0|1} as each is done
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=True),
)

# API clients managed with ``gateway clients`` (migration 0009): a row adds a client, or overrides a
# configured one of the same name (its key, when key_sha256 is set; suspended either way).
api_clients = sa.Table(
    "api_clients", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("key_sha256", sa.String(64), nullable=True, unique=True),  # NULL: the configured key
    sa.Column("agencies", sa.JSON, nullable=True),
    sa.Column("types", sa.JSON, nullable=True),
    sa.Column("suspended", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Classic accounts' passwords re-hashed (scrypt) at a good login against a legacy SHA-256 entry (migration 0009).
classic_passwords = sa.Table(
    "classic_passwords", metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
# The operators' console (migration 0011): local accounts and their sessions.
operators = sa.Table(
    "operators", metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),  # argon2id
    sa.Column("role", sa.String(16), nullable=False),  # viewer | operator | admin
    sa.Column("agencies", sa.JSON, nullable=False),  # agency codes (NoiGui) it may see; ["*"]: all
    sa.Column("must_change", sa.Boolean, nullable=False),  # change the password at the next login
    sa.Column("failures", sa.Integer, nullable=False),  # consecutive failed logins
    sa.Column("locked_until", UtcDateTime, nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

operator_sessions = sa.Table(
    "operator_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # SHA-256 of the cookie's token: a stolen table logs no one in
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)
sa.Index("ix_operator_sessions_user", operator_sessions.c.username)
sa.Index("ix_packets_received", packets.c.received_at)
sa.Index("ix_packets_agency_received", packets.c.agency, packets.c.received_at)
# covering: the console's overview counts and charts read these indexes alone, not the rows
sa.Index("ix_jobs_delivered", jobs.c.delivered_at, jobs.c.destination, jobs.c.created_at)
sa.Index("ix_jobs_created", jobs.c.destination, jobs.c.created_at)
DEAD_JOBS = sa.text("state = 'dead'")  # the console's dead letters and their counts, without reading the history
sa.Index("ix_jobs_dead", jobs.c.destination, jobs.c.seq, postgresql_where=DEAD_JOBS, sqlite_where=DEAD_JOBS)
# every destination's dead letters in order (migration 0015): an agency's page stops at its 200th, no sort of them all
sa.Index("ix_jobs_dead_seq", jobs.c.seq, postgresql_where=DEAD_JOBS, sqlite_where=DEAD_JOBS)
sa.Index("ix_attempts_started", attempts.c.started_at, attempts.c.outcome, attempts.c.job_id)

# The postal connector (connectors/postal, migration 0012): shipments it ordered, one per dossier (OrderNumber
# is the dossier code), and the tracking feed's cursor with the lease of the one poller reading it.
postal_shipments = sa.Table(
    "postal_shipments", metadata,
    sa.Column("order_number", sa.String(100), primary_key=True),
    sa.Column("agency", sa.String(100), nullable=False),
    sa.Column("item_code", sa.String(64), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # ordered | cancelled | delivered | returned
    sa.Column("last_status", sa.String(32), nullable=True),
    sa.Column("packet_id", sa.String(64), nullable=False),
    sa.Column("ordered_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

postal_cursors = sa.Table(
    "postal_cursors", metadata,
    sa.Column("feed", sa.String(100), primary_key=True),
    sa.Column("last_id", sa.String(64), nullable=True),
    sa.Column("holder", sa.String(100), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Online payments (migration 0013): each reference the gateway created with the platform (INIT) and its
# state (new → initiated → confirmed (the callback) → verified → forwarded (the worker); or failed, amount_mismatch, receipt_rejected …).
payments = sa.Table(
    "payments", metadata,
    sa.Column("reference", sa.String(64), primary_key=True),  # MaThamChieu (PayGov: orderId)
    sa.Column("dossier", sa.String(100), nullable=False),
    sa.Column("packet_id", sa.String(64), nullable=False),  # the packet that asked for it
    sa.Column("agency", sa.String(100), nullable=True),  # the dossier's NoiGui
    sa.Column("amount", sa.BigInteger, nullable=False),  # VND
    sa.Column("variant", sa.String(16), nullable=False),  # national | paygov
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("transaction_id", sa.String(64), nullable=True),  # MaGiaoDich of the payment that settled it
    sa.Column("detail", sa.JSON, nullable=False),  # pay URL, reason, verification report, originated packet
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # migration 0016: the worker task that fetches and verifies a confirmed payment's receipt holds it by lease
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime, nullable=True),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),  # tried again (receipt not fetched …) from then
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
)
sa.Index("ix_payments_dossier", payments.c.dossier)
sa.Index("ix_payments_state", payments.c.state, payments.c.updated_at)

# The platform's callbacks, once per (reference, transaction): a repeat gets the first one's reply.
payment_callbacks = sa.Table(
    "payment_callbacks", metadata,
    sa.Column("reference", sa.String(64), primary_key=True),
    sa.Column("transaction_id", sa.String(64), primary_key=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("finished", sa.Boolean, nullable=False),  # false: being handled, or to be handled again
    sa.Column("reply", sa.JSON, nullable=True),
)

# The receipts as the gateway answered them (migration 0017): the exact bytes, so an evidence bundle
# carries the original receipt, not one re-issued at export. One per packet (the first answer).
receipts = sa.Table(
    "receipts", metadata,
    sa.Column("packet_id", sa.String(64), primary_key=True),
    sa.Column("document", sa.LargeBinary, nullable=False),
    sa.Column("signed_by", sa.String(32), nullable=False),  # unsigned | xmldsig/jws
    sa.Column("issued_at", UtcDateTime, nullable=False),
)

lockouts = sa.Table(  # failed logins / keys counted across API processes (gateway.receive.lockout)
    "lockouts", metadata,
    sa.Column("key", sa.String(200), primary_key=True),  # account:<name> | account:?<digest> | address:<ip>
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),  # wall-clock seconds (time.time): shared between processes
    sa.Column("until_at", sa.Float, nullable=False),
    sa.Index("ix_lockouts_until", "until_at"),
)
