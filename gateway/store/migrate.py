"""Schema migrations (Alembic): forward only, never losing data."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
import sqlalchemy as sa

from gateway.store.engines import lock_key

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic(connection: sa.Connection, keys: Any = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["keys"] = keys  # the store's key ring: a migration reading payloads opens sealed ones
    return config


def upgrade(engine: sa.Engine, revision: str = "head", keys: Any = None) -> None:
    """Brings the schema to ``revision``; concurrent callers on PostgreSQL take turns."""
    with engine.begin() as connection:
        lock_key(connection, "gateway:migrate")
        command.upgrade(_alembic(connection, keys), revision)


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())
