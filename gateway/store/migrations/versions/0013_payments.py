"""Online payments: the references the gateway created (INIT) and their state, and the platform's
callbacks by (reference, transaction) so a callback repeated is answered once.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("reference", sa.String(64), primary_key=True),
        sa.Column("dossier", sa.String(100), nullable=False),
        sa.Column("packet_id", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(100), nullable=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("variant", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_payments_dossier", "payments", ["dossier"])
    op.create_index("ix_payments_state", "payments", ["state", "updated_at"])
    op.create_table(
        "payment_callbacks",
        sa.Column("reference", sa.String(64), primary_key=True),
        sa.Column("transaction_id", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("reply", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
