"""Each destination's token bucket lives in the store, so every worker process draws from one
rate limit (the national portal throttles the province, not each of its workers).

Existing rows keep every value; their bucket starts full.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("destinations", sa.Column("tokens", sa.Float, nullable=True))
    op.add_column("destinations", sa.Column("tokens_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
