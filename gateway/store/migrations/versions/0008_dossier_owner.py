"""Each dossier's owner: the agency (NoiGui) of its first packet. Only clients allowed for that agency
(or for one it hands its dossiers over to) may send the dossier's later steps or read it.

Existing dossiers get the agency of their earliest stored packet (ties broken by packet id).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# Each dossier's earliest packet with an agency (ties broken by packet id) gives the owner.
BACKFILL = ("INSERT INTO dossiers (dossier, agency, created_at) "
            "SELECT p.dossier, p.agency, p.received_at FROM packets p "
            "WHERE p.dossier IS NOT NULL AND p.agency IS NOT NULL AND NOT EXISTS ("
            "SELECT 1 FROM packets q WHERE q.dossier = p.dossier AND q.agency IS NOT NULL AND "
            "(q.received_at < p.received_at OR (q.received_at = p.received_at AND q.packet_id < p.packet_id)))")


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("dossier", sa.String(100), primary_key=True),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
