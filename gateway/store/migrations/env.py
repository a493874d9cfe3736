"""Alembic environment: migrations always run on a connection the caller opened
(``gateway.store.migrate.upgrade``), inside the caller's transaction."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
