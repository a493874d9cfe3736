"""Group commit: one writer thread commits accepted packets in small batches, so one fsync
serves many senders; each sender is answered only once its own batch has committed."""

from concurrent.futures import Future
import logging
import queue
import threading
import time
from collections.abc import Sequence

from gateway.store.api import AcceptResult, Admit, Guard, NewPacket, Store

log = logging.getLogger(__name__)

_Item = tuple[NewPacket, Sequence[str], "Future[AcceptResult]"]


class GroupCommitter:
    def __init__(self, store: Store, *, admit: Admit | None = None, guard: Guard | None = None,
                 batch_max: int = 128, batch_wait_ms: float = 0) -> None:
        self.store = store
        self.admit = admit  # checked in the accepting transaction (the dossier's status transition)
        self.guard = guard  # likewise, first: whether the sender may act on the dossier (its owner)
        self.batch_max = batch_max
        self.batch_wait = batch_wait_ms / 1000
        self.commits = 0  # transactions committed (fewer than packets when batching works)
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="accept-writer", daemon=True)
        self._thread.start()

    def submit(self, packet: NewPacket, destinations: Sequence[str]) -> "Future[AcceptResult]":
        future: Future[AcceptResult] = Future()
        self._queue.put((packet, destinations, future))
        return future

    def close(self) -> None:
        """Commits what is queued, then stops the writer."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        expected = 1  # senders active around the previous commit: as many are likely to come back
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stopping = [first], False
            deadline = time.monotonic() + self.batch_wait
            # Whatever queued up during the previous commit rides along. Waiting (at most batch_wait) only
            # while fewer have come than were active last time — those the previous commit answered and
            # those that queued meanwhile: they are about to send again, and one commit for all of them
            # beats two half-full ones taking turns (a commit costs about the same for 4 as for 8). A lone
            # sender never waits.
            while len(batch) < self.batch_max:
                remaining = deadline - time.monotonic() if len(batch) < expected else 0
                try:
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)
            expected = len(batch) + self._queue.qsize()
            if stopping:
                return

    def _commit(self, batch: list[_Item]) -> None:
        try:
            results = self.store.accept_many([(packet, routes) for packet, routes, _ in batch], self.admit,
                                                 guard=self.guard)
            self.commits += 1
        except Exception as exc:  # noqa: BLE001 - one bad packet must not fail its neighbours: retry one by one
            log.warning("batch commit failed (%s); committing %d packets one by one", type(exc).__name__, len(batch))
            for packet, routes, future in batch:
                try:
                    future.set_result(self.store.accept_many([(packet, routes)], self.admit, guard=self.guard)[0])
                except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                    future.set_exception(exc)
            return
        for (_, _, future), result in zip(batch, results):
            future.set_result(result)
