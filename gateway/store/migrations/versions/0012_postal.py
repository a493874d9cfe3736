"""The postal connector's own records: shipments it ordered (so a resend or a retry never orders twice,
and a withdrawal knows what to cancel) and the tracking feed's cursor (so polling resumes where it
stopped after a restart), with a lease so that one worker process polls at a time.

New tables only; nothing existing changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postal_shipments",
        sa.Column("order_number", sa.String(100), primary_key=True),  # OrderNumber = MaHoSo
        sa.Column("agency", sa.String(100), nullable=False),  # NoiGui of the packet that ordered it
        sa.Column("item_code", sa.String(64), nullable=True),  # the waybill, once known
        sa.Column("state", sa.String(16), nullable=False),  # ordered | cancelled | delivered | returned
        sa.Column("last_status", sa.String(32), nullable=True),  # the postal service's last StatusCode
        sa.Column("packet_id", sa.String(64), nullable=False),  # the packet that ordered it
        sa.Column("ordered_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "postal_cursors",
        sa.Column("feed", sa.String(100), primary_key=True),
        sa.Column("last_id", sa.String(64), nullable=True),  # the last feed item handled; NULL: from the start
        sa.Column("holder", sa.String(100), nullable=True),  # the poller holding the feed
        sa.Column("lease_expires_at", sa.DateTime, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
