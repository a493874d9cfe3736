"""Waking idle delivery workers when jobs may have become claimable, instead of having them ask the
store many times a second (an idle worker polling four destinations kept a third of a CPU and its
PostgreSQL at 370 transactions a second busy).

``JobSignal`` counts wake-ups per destination; a runner notes the count before it claims and, when
the claim finds nothing, waits for the count to move (or for its fallback poll, which still catches
retries coming due and the expired leases of a dead worker). What moves it:

- the worker's own settlements (a delivered step frees its dossier's next one), in process;
- PostgreSQL: ``NOTIFY gateway_jobs, '<schema>/<destination>'`` sent by every transaction that makes
  jobs claimable (accept, replay, release), delivered at commit to a listening connection;
- SQLite: ``PRAGMA data_version``, which moves whenever another connection — another process
  included — commits a change to the file, read every ``interval`` on a connection of its own.
"""

from collections.abc import Callable
import logging
import sqlite3
import threading

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "gateway_jobs"
EVERY = ""  # the wake-up of every destination (SQLite's signal does not say which)
APPLICATION_NAME = "gateway-job-signal"  # the listening session, as pg_stat_activity shows it


class JobSignal:
    def __init__(self) -> None:
        self._moved = threading.Condition()
        self._counts: dict[str, int] = {}
        self._watchers: list[threading.Thread] = []
        self.closed = threading.Event()
        self.watching = threading.Event()  # set once the watcher sees commits (it is listening)

    def _count(self, destination: str) -> int:
        return self._counts.get(destination, 0) + self._counts.get(EVERY, 0)

    def seen(self, destination: str) -> int:
        """The count to hand to ``wait`` after a claim that found nothing."""
        with self._moved:
            return self._count(destination)

    def wake(self, destination: str = EVERY) -> None:
        with self._moved:
            self._counts[destination] = self._counts.get(destination, 0) + 1
            self._moved.notify_all()

    def wait(self, destination: str, seen: int, timeout: float) -> bool:
        """Until the count moved past ``seen`` (True) or ``timeout`` seconds passed (False)."""
        with self._moved:
            return self._moved.wait_for(lambda: self._count(destination) != seen or self.closed.is_set(), timeout)

    def watch(self, target: Callable[["JobSignal"], None], name: str) -> None:
        thread = threading.Thread(target=target, args=(self,), name=name, daemon=True)
        self._watchers.append(thread)
        thread.start()

    def close(self) -> None:
        self.closed.set()
        self.wake()
        for thread in self._watchers:
            thread.join(timeout=5)


def watch_sqlite(path: str, interval: float) -> Callable[[JobSignal], None]:
    def run(signal: JobSignal) -> None:
        connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
        try:
            version, failing = None, False
            while not signal.closed.wait(interval):
                try:
                    now = connection.execute("PRAGMA data_version").fetchone()[0]
                    failing = False
                except sqlite3.Error as exc:
                    if not failing:  # once, not every interval
                        log.warning("job signal: SQLite did not answer (%s)", type(exc).__name__)
                    now, failing = None, True  # every runner asks the store itself meanwhile
                if now != version or failing:
                    signal.wake()
                version = now
                signal.watching.set()
        finally:
            connection.close()
    return run


def watch_postgres(url: str) -> Callable[[JobSignal], None]:
    def run(signal: JobSignal) -> None:
        while not signal.closed.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=10,
                                     application_name=APPLICATION_NAME) as connection:
                    schema = connection.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]  # SELECT current_schema() always answers one row
                    connection.execute(f"LISTEN {CHANNEL}")
                    signal.wake()  # anything committed before the LISTEN took hold
                    signal.watching.set()
                    while not signal.closed.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            store, _, destination = notice.payload.rpartition("/")
                            if store == schema:  # another store in the same database is not ours
                                signal.wake(destination)
            except psycopg.Error as exc:
                log.warning("job signal: PostgreSQL listener lost (%s); reconnecting", type(exc).__name__)
                signal.wake()
                signal.closed.wait(1.0)
    return run
