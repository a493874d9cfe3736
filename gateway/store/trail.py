"""Rows of frequent events (look-ups' audit rows, receipts as answered) written together, one transaction per
interval, off the request threads: each commit waits for the disk, and on SQLite the packets' commits would
queue behind every one."""

from collections.abc import Callable
import logging
import threading
from typing import Any, Generic, TypeVar

from gateway.store.api import Store

log = logging.getLogger(__name__)

Row = tuple[str, str, str, dict[str, Any]]  # actor, action, subject, detail
T = TypeVar("T")
MAX_HELD = 100_000  # rows held while the store fails; beyond it the oldest are dropped (logged)


class Batcher(Generic[T]):
    """Rows handed to ``write`` together, every ``interval`` seconds, from one thread started on first use."""

    name = "batcher"

    def __init__(self, write: Callable[[list[T]], None], interval: float = 0.5) -> None:
        self.write, self.interval = write, interval
        self._rows: list[T] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def put(self, row: T) -> None:
        with self._lock:
            self._rows.append(row)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            self.write(rows)
        except Exception as exc:  # noqa: BLE001 - the next round tries again with these rows
            log.error("%s: rows not written yet (%d): %s", self.name, len(rows), type(exc).__name__)
            with self._lock:
                self._rows[:0] = rows
                if len(self._rows) > MAX_HELD:
                    log.error("%s: %d rows dropped (store failing)", self.name, len(self._rows) - MAX_HELD)
                    del self._rows[:len(self._rows) - MAX_HELD]

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


class AuditBatcher(Batcher[Row]):
    """Audit rows of frequent events (look-ups), chained like every entry."""

    name = "audit-batcher"

    def __init__(self, store_of: Callable[[], Store], interval: float = 0.5) -> None:
        super().__init__(lambda rows: store_of().audit_many(rows), interval)

    def add(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        self.put((actor, action, subject, detail))


class ReceiptKeeper(Batcher[tuple[str, bytes, str]]):
    """The receipts as answered (packet id, bytes, signed by), kept after the answer left: the packet is
    durable before its receipt is made, so the receipt's own write is off the request thread. A receipt
    not yet written when the process dies is re-issued at export, and the bundle says so."""

    name = "receipt-keeper"

    def __init__(self, store_of: Callable[[], Store], interval: float = 0.2) -> None:
        super().__init__(lambda rows: store_of().keep_receipts(rows), interval)
