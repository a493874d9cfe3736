"""Accepted packets audited per committed batch: each packet names the batch entry that records it.

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No index: read per dossier, through ix_packets_dossier.
    op.add_column("packets", sa.Column("audit_batch", sa.String(40), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
