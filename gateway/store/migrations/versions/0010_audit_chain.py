"""The audit trail becomes a hash chain (gateway.audit.chain): each entry gets its position, its digest
and its chain hash; a one-row head that appends lock; a table of signed checkpoints; entries about a
dossier name it.

Existing entries keep every value and are chained in id order, from the genesis hash.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

from gateway.audit.chain import GENESIS, canonical_detail, entry_digest, link, timestamp

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit", sa.Column("n", sa.BigInteger, nullable=True))
    op.add_column("audit", sa.Column("dossier", sa.String(100), nullable=True))
    op.add_column("audit", sa.Column("digest", sa.String(64), nullable=True))
    op.add_column("audit", sa.Column("hash", sa.String(64), nullable=True))
    op.create_index("ux_audit_n", "audit", ["n"], unique=True)
    op.create_index("ix_audit_dossier", "audit", ["dossier"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("n", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("jws", sa.Text, nullable=True),
        sa.Column("timestamp_token", sa.Text, nullable=True),
    )
    from gateway.store.tables import audit  # the table as it is now: its types read the rows back

    connection = op.get_bind()
    previous, n = GENESIS, 0
    for row in connection.execute(sa.select(audit.c.id, audit.c.at, audit.c.actor, audit.c.action, audit.c.subject,
                                            audit.c.detail).order_by(audit.c.id)).all():
        n += 1
        digest = entry_digest(n, timestamp(row.at), row.actor, row.action, row.subject, None,
                              canonical_detail(row.detail))
        previous = link(previous, digest)
        connection.execute(audit.update().where(audit.c.id == row.id).values(n=n, digest=digest, hash=previous))
    op.bulk_insert(head, [{"id": 1, "n": n, "hash": previous}])


def downgrade() -> None:
    raise NotImplementedError("migrations only go forward: restore a backup instead")
