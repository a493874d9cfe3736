"""Payments settled by the worker: a confirmed payment's receipt is fetched and verified by the payment
connector's worker task, claimed by lease (a worker that dies leaves it to the next), tried again on a clock.

Revision ID: 0016
Revises: 0019
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(100), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
