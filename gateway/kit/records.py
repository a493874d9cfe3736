"""A connector's own tables in the gateway's store (its migration adds them to ``gateway.store.tables``):
the store's database opened with the store's engine settings (SQLite WAL and its write lock, PostgreSQL
through psycopg 3, parameters never quoted in errors), its schema brought to the newest migration."""

from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from gateway.config import Config


def store_url(config: "Config") -> str:
    return str(config.section("store").get("url", "sqlite:///gateway.db"))


def store_engine(url: str, *, migrate: bool = True) -> sa.Engine:
    """An engine on the store's database; with ``migrate``, the schema upgraded to head first."""
    from gateway.store import migrate as migrations
    from gateway.store.engines import create_engine, normalise_url

    engine = create_engine(normalise_url(url))
    if migrate:
        migrations.upgrade(engine)
    return engine


def store_table(name: str) -> sa.Table:
    """One of the store's tables by name (KeyError for a table no migration made)."""
    from gateway.store.tables import metadata

    return metadata.tables[name]
