"""Each dossier's sync path summed up (dossier_sync) and when each agency sent for it (dossier_sync_agencies),
written with the packets from now on and filled here from the packets stored; the sync-quality view reads them
instead of every packet of the period. They replace the view's own cache (console_dossier_quality).

A sealed payload is opened with the key ring the store was opened with (else the environment's); one it cannot
open leaves its dossier not finished, as a purged one does.

Revision ID: 0018
Revises: 0021
Create Date: 2026-12-03
"""

from alembic import context, op
from cryptography.exceptions import InvalidTag
import sqlalchemy as sa

from gateway.store import dossier_sync
from gateway.store.sealing import KeyRing, SealingError, unseal

revision = "0018"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_sync",
        sa.Column("dossier", sa.String(100), primary_key=True),
        sa.Column("packets", sa.Integer, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
        sa.Column("first_status", sa.Integer, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("moves", sa.Text, nullable=False),
        sa.Column("hoso_packet", sa.String(64), nullable=True),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("on_time", sa.Boolean, nullable=False),
    )
    op.create_table(
        "dossier_sync_agencies",
        sa.Column("dossier", sa.String(100), primary_key=True),
        sa.Column("agency", sa.String(100), primary_key=True),
        sa.Column("first_at", sa.DateTime, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_dossier_sync_agencies_last", "dossier_sync_agencies", ["last_at"])
    op.create_index("ix_dossier_sync_agencies_agency", "dossier_sync_agencies", ["agency", "last_at"])
    keys = context.config.attributes.get("keys") or KeyRing.from_environment()

    def opened(packet_id: str, raw: bytes) -> bytes | None:
        try:
            return unseal(keys, packet_id, raw)
        except (SealingError, InvalidTag, ValueError):
            return None

    dossier_sync.rebuild(op.get_bind(), opened)
    op.drop_table("console_dossier_quality")


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
