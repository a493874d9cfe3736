"""Audit rows of frequent events (look-ups) written together, one transaction per interval, off the request
threads: each commit waits for the disk, and on SQLite the packets' commits would queue behind every one."""

from collections.abc import Callable
import logging
import threading
from typing import Any

from gateway.store.api import Store

log = logging.getLogger(__name__)

Row = tuple[str, str, str, dict[str, Any]]  # actor, action, subject, detail


class AuditBatcher:
    def __init__(self, store_of: Callable[[], Store], interval: float = 0.5) -> None:
        self.store_of, self.interval = store_of, interval
        self._rows: list[Row] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def add(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append((actor, action, subject, detail))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-batcher", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            self.store_of().audit_many(rows)
        except Exception as exc:  # noqa: BLE001 - the next round tries again with these rows
            log.error("audit rows not written yet (%d): %s", len(rows), type(exc).__name__)
            with self._lock:
                self._rows[:0] = rows

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self.flush()

    def close(self) -> None:
        """Writes what is left; later rows start the thread again."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stop = True
            self._wake.set()
            thread.join(10)
            self._stop = False
            self._wake.clear()
        self.flush()
