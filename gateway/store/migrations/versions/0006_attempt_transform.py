"""Each attempt records what turned the packet into the destination's call (for the national portal,
the status/procedure mapping table's digest): a replay after a corrected mapping shows which table
each attempt ran.

Existing attempts keep every value; their transform is unknown (NULL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attempts", sa.Column("transform", sa.Text, nullable=True))  # a file name has no set length


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
