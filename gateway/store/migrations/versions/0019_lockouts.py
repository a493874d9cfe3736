"""Lockout counts shared between API processes: failures and locked-until per key (an account, an address).

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0019"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lockouts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),  # wall-clock seconds: shared between processes
        sa.Column("until_at", sa.Float, nullable=False),
    )
    op.create_index("ix_lockouts_until", "lockouts", ["until_at"])


def downgrade() -> None:
    op.drop_index("ix_lockouts_until", "lockouts")
    op.drop_table("lockouts")
