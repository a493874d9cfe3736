"""Accounts kept where the gateway can write them: API clients added, re-keyed or suspended with
``gateway clients`` (complementing or overriding ``[clients.*]``), and the salted password hashes
classic accounts' legacy SHA-256 entries were re-hashed into at their first good login.

New tables only; nothing existing changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("key_sha256", sa.String(64), nullable=True, unique=True),  # NULL: the configured key
        sa.Column("agencies", sa.JSON, nullable=True),
        sa.Column("types", sa.JSON, nullable=True),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "classic_passwords",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
