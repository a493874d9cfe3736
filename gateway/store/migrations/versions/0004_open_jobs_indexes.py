"""Indexes over the jobs not yet delivered, so claiming stays fast however many are delivered.

A claim walks the destination's pending and leased jobs in acceptance order (ix_jobs_ready) and,
for each, asks whether an earlier undelivered job of the same dossier exists (ix_jobs_open_key).
Both indexes hold only those rows, so a claim costs a few short index probes however long the
delivered history grows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = sa.text("state <> 'delivered'")
READY = sa.text("state IN ('pending', 'leased')")


def upgrade() -> None:
    op.create_index("ix_jobs_ready", "jobs", ["destination", "seq"],
                    postgresql_where=READY, sqlite_where=READY)
    op.create_index("ix_jobs_open_key", "jobs", ["destination", "ordering_key", "seq"],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
