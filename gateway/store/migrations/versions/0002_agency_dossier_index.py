"""The sending agency (NoiGui) on each packet, and an index to trace a dossier's packets.

Existing rows keep every value; their agency stays unknown (NULL) rather than guessed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("packets", sa.Column("agency", sa.String(100), nullable=True))
    op.create_index("ix_packets_dossier", "packets", ["dossier"])


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
