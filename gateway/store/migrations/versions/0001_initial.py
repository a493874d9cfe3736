"""Packets, jobs, attempts, audit trail, destination state.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "packets",
        sa.Column("packet_id", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=True),
        sa.Column("encoding", sa.String(8), nullable=False),
        sa.Column("sender", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("packet_type", sa.String(40), nullable=False),
        sa.Column("dossier", sa.String(100), nullable=True),
        sa.Column("verdicts", sa.JSON, nullable=False),
        sa.Column("purged_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "jobs",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(200), nullable=False, unique=True),
        sa.Column("packet_id", sa.String(64), sa.ForeignKey("packets.packet_id"), nullable=False),
        sa.Column("destination", sa.String(100), nullable=False),
        sa.Column("ordering_key", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_jobs_key", "jobs", ["destination", "ordering_key", "seq"])
    op.create_index("ix_jobs_state", "jobs", ["destination", "state", "seq"])
    op.create_index("ix_jobs_packet", "jobs", ["packet_id"])
    op.create_table(
        "attempts",
        sa.Column("job_id", sa.String(200), primary_key=True),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("peer_status", sa.String(100), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_subject", "audit", ["subject"])
    op.create_table(
        "destinations",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("pause_reason", sa.Text, nullable=True),
        sa.Column("breaker_state", sa.String(16), nullable=False),
        sa.Column("breaker_opened_at", sa.DateTime, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
