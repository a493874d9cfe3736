"""The console's controls and observability: a destination's rate limit and maintenance windows set by an
operator (NULL: the configuration's), the workers' registry (/readyz "workers alive"), bulk replays'
progress, the partial index of refusals the refusal counters read, and the overview charts' closed buckets.

Existing rows keep every value.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("destinations", sa.Column("rate_per_second", sa.Float, nullable=True))
    op.add_column("destinations", sa.Column("burst", sa.Integer, nullable=True))
    op.add_column("destinations", sa.Column("windows", sa.JSON, nullable=True))
    op.create_table(
        "workers",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("destinations", sa.JSON, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "replay_runs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("job_ids", sa.JSON, nullable=False),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
    )
    refused = sa.text("action = 'packet.refused'")  # refusals only: accepted packets' entries stay out of it
    op.create_index("ix_audit_refused", "audit", ["id"], postgresql_where=refused, sqlite_where=refused)
    dead = sa.text("state = 'dead'")
    op.create_index("ix_jobs_dead_seq", "jobs", ["seq"], postgresql_where=dead, sqlite_where=dead)
    op.create_table(
        "console_buckets",
        sa.Column("destination", sa.String(100), primary_key=True),
        sa.Column("width", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("latency_s", sa.Float, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
