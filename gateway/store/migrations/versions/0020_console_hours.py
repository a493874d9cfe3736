"""The monthly report's closed hours per agency (console_hours): counted once from packets and jobs, then read
instead of the history, so a report over a million packets reads a few thousand rows. The sync-quality view's
judgement per dossier (console_dossier_quality), judged again only when the dossier has new packets.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_hours",
        sa.Column("late_after", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("start", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("agency", sa.String(100), primary_key=True),
        sa.Column("received", sa.Integer, nullable=False),
        sa.Column("valid", sa.Integer, nullable=False),
        sa.Column("delivered", sa.Integer, nullable=False),
        sa.Column("late", sa.Integer, nullable=False),
    )
    op.create_table(
        "console_dossier_quality",
        sa.Column("dossier", sa.String(100), primary_key=True),
        sa.Column("rules", sa.String(64), nullable=False),
        sa.Column("packets", sa.Integer, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
        sa.Column("backwards", sa.Boolean, nullable=False),
        sa.Column("terminal", sa.Boolean, nullable=False),
        sa.Column("steps_complete", sa.Boolean, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("on_time", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_dossier_quality")
    op.drop_table("console_hours")
