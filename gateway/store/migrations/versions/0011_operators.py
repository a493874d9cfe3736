"""The operators' console: local operator accounts, their sessions, and the indexes its pages read
(search by date, overview by delivery time, attempts by time, dead letters).

Existing rows keep every value.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agencies", sa.JSON, nullable=False),
        sa.Column("must_change", sa.Boolean, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime, nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_operator_sessions_user", "operator_sessions", ["username"])
    op.create_index("ix_packets_received", "packets", ["received_at"])
    op.create_index("ix_packets_agency_received", "packets", ["agency", "received_at"])
    # covering: the overview's counts and charts read these indexes alone, not the rows
    op.create_index("ix_jobs_delivered", "jobs", ["delivered_at", "destination", "created_at"])
    op.create_index("ix_jobs_created", "jobs", ["destination", "created_at"])
    op.create_index("ix_attempts_started", "attempts", ["started_at", "outcome", "job_id"])
    dead = sa.text("state = 'dead'")
    op.create_index("ix_jobs_dead", "jobs", ["destination", "seq"], postgresql_where=dead, sqlite_where=dead)


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
