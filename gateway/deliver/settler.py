"""Group commit of deliveries: calls that finish at about the same time are recorded as delivered in
one store transaction. With one writer at a time (SQLite) or a commit per call (PostgreSQL), one
transaction per call is what limited delivery; each caller still waits until its own jobs are
recorded, so a job's dossier moves on only after its delivery is in the store."""

from collections.abc import Sequence
from concurrent.futures import Future
import logging
import queue
import threading

from gateway.store.api import AttemptRecord, Store

log = logging.getLogger(__name__)

_Item = tuple[list[tuple[str, AttemptRecord]], str, "Future[list[bool]]"]


class Settler:
    def __init__(self, store: Store, *, batch_max: int = 512) -> None:
        self.store, self.batch_max = store, batch_max
        self.commits = 0  # transactions (fewer than calls when grouping works)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="settle-delivered", daemon=True)
        self._thread.start()

    def complete(self, items: Sequence[tuple[str, AttemptRecord]], holder: str) -> "Future[list[bool]]":
        """Per job (id, attempt), whether its claim (``holder``) still held it — once recorded."""
        future: Future[list[bool]] = Future()
        self._queue.put((list(items), holder, future))
        return future

    def close(self) -> None:
        """Records what is queued, then stops."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, size, stopping = [first], len(first[0]), False
            while size < self.batch_max:  # whatever finished during the previous commit rides along
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                group.append(item)
                size += len(item[0])
            self._commit(group)
            if stopping:
                return

    def _commit(self, group: list[_Item]) -> None:
        try:
            done = self.store.complete_each([job for items, _, _ in group for job in items],
                                            [holder for items, holder, _ in group for _ in items])
            self.commits += 1
        except Exception as exc:
            log.exception("recording %d deliveries failed", sum(len(items) for items, _, _ in group))
            for _, _, future in group:
                future.set_exception(exc)
            return
        start = 0
        for items, _, future in group:
            future.set_result(done[start:start + len(items)])
            start += len(items)
