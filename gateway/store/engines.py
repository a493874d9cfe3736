"""Dialect specifics: SQLite in WAL mode with write transactions that take the lock up
front (``BEGIN IMMEDIATE``), PostgreSQL through psycopg 3."""

import os
from pathlib import Path
import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use psycopg 3, the driver the project ships."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, synchronous: str = "FULL", relaxed: bool = False) -> sa.Engine:
    """Relaxed transactions commit without waiting for the disk: a power or server crash may forget
    the last of them, never corrupt, and never an earlier one while keeping a later one (the log is
    sequential). Delivery bookkeeping uses them; accepting packets never does. On SQLite a transaction
    is relaxed when begun with ``execution_options(relaxed=True)`` (synchronous=NORMAL in WAL); on
    PostgreSQL, when it runs on an engine made with ``relaxed=True``, whose sessions have
    synchronous_commit off (set when they connect, not by one more round trip per transaction).

    ``hide_parameters``: a database error's text never quotes a statement's parameters (packets
    hold citizens' names and identifiers), whoever logs it."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        if relaxed:  # added to the URL's own options (a search_path, say), not in place of them
            options = f"{parsed.query.get('options', '')} -c synchronous_commit=off".strip()
            parsed = parsed.update_query_dict({"options": options})
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        private_file(Path(parsed.database))
    engine = sa.create_engine(parsed, connect_args={"timeout": 60, "check_same_thread": False}, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not open transactions itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit survives power loss, not only a process crash (accept = durable).
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        record.info["synchronous"] = synchronous
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        options = connection.get_execution_options()
        if options.get("read_only", False):
            connection.exec_driver_sql("BEGIN")
            return
        wanted, state = "NORMAL" if options.get("relaxed") else synchronous, connection.connection.info
        if state.get("synchronous") != wanted:  # a statement saved per transaction: set only on change
            connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
            state["synchronous"] = wanted
        # Writers queue for the lock at BEGIN instead of failing to upgrade a read lock later.
        begin_immediate(connection.connection.driver_connection)  # type: ignore[arg-type]  # open: never None

    return engine


BUSY_TIMEOUT_MS = 60_000


def private_file(path: Path) -> None:
    """``path`` readable and writable by its owner only (0600), created empty if missing, in folders created
    0700; SQLite creates a database's ``-wal`` and ``-shm`` files with the database file's mode, and those
    left by an older version are narrowed here too. Existing folders are left as they are (a deployment's)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists() and each.stat().st_mode & 0o077:
            each.chmod(0o600)


def begin_immediate(driver_connection: sqlite3.Connection) -> None:
    """Takes SQLite's write lock, waiting for a writer of another process (the API and a worker share one
    file). A writer holds the lock for about a millisecond, but SQLite's own busy handler sleeps 1, 2, 5,
    10 … 100 ms between tries, so a waiting writer — and the delivery behind it — would lose up to a
    hundred times that. Here it tries again every half millisecond, for as long as the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    driver_connection.execute("PRAGMA busy_timeout=0")  # SQLITE_BUSY at once: the waiting is done here
    try:
        while True:
            try:
                driver_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)
    finally:
        driver_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def lock_key(connection: sa.Connection, key: str) -> None:
    """PostgreSQL: serialises transactions on ``key`` until commit (no-op on SQLite, which
    serialises every writer already)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))


def lock_keys(connection: sa.Connection, keys: list[str]) -> None:
    """``lock_key`` for many keys in one round trip, in sorted order so that two
    transactions locking overlapping keys cannot deadlock."""
    if connection.dialect.name == "postgresql" and keys:
        connection.execute(sa.text("SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM "
                                   "(SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"),
                           {"keys": sorted(keys)})
