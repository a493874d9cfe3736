"""The dossier status a packet carried (TrangThaiHoSo / TrangThai), so validation can check
each new status against the last one accepted for its dossier.

Existing rows keep every value; their status stays unknown (NULL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("packets", sa.Column("status", sa.Integer, nullable=True))
    op.create_index("ix_packets_dossier_received", "packets", ["dossier", "received_at"])


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
