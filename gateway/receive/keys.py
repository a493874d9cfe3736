"""API clients managed with ``gateway clients`` (kept in the store) over the configured ``[clients.*]``.

A store row of a name that is not configured is a client of its own (its key's SHA-256, agencies,
types). A row of a configured name overrides it: its key when the row has one (``rotate-key``), and
``suspended`` either way; agencies and types stay the configuration's. Keys are long and random
(``new_key``), shown once, and kept only as their SHA-256: a 256-bit random key needs no slow hash.
The API re-reads the rows every ``refresh_seconds``, so a suspension or a new key takes effect on every
API process within about that time. The read runs on a thread of its own, never on the event loop that
authenticates requests: a request meanwhile is checked against the last rows read (the first read is made
when the API starts, ``refresh``).
"""

from collections.abc import Callable
import hashlib
import logging
import secrets
import threading
import time

from gateway.receive.auth import Client
from gateway.store import ApiClientRecord, Store

log = logging.getLogger(__name__)

KEY_PREFIX = "ckn_"  # recognisable in a leaked file or a secret scanner's rules


def new_key() -> tuple[str, str]:
    """A fresh key (256 random bits) and its SHA-256, in hex."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hashlib.sha256(key.encode("utf-8")).hexdigest()


def effective(configured: dict[str, Client], rows: list[ApiClientRecord]) -> dict[str, Client]:
    """Key hash → client, as the configuration and the store's rows together make it; suspended ones left out."""
    by_name = {client.name: (digest, client, False) for digest, client in configured.items()}
    for row in rows:
        if row.name in by_name:
            digest, client, _ = by_name[row.name]
            by_name[row.name] = (row.key_sha256 or digest, client, row.suspended)
        elif row.key_sha256:
            client = Client(name=row.name, agencies=None if row.agencies is None else frozenset(row.agencies),
                            types=None if row.types is None else frozenset(row.types))
            by_name[row.name] = (row.key_sha256, client, row.suspended)
    return {digest: client for digest, client, suspended in by_name.values() if not suspended}


class ManagedClients:
    def __init__(self, store: Callable[[], Store], refresh_seconds: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.refresh_seconds, self.clock = store, refresh_seconds, clock
        self._rows: list[ApiClientRecord] = []
        self._read_at: float | None = None
        self._reading = False  # a background read is under way: one at a time
        self._closed = False
        self._table: tuple[dict[str, Client], dict[str, Client]] | None = None  # (configured, effective)
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Reads the rows now (blocking: at start-up, or on the background thread)."""
        try:
            rows: list[ApiClientRecord] | None = self.store().api_clients()
        except Exception:  # the store is down: nothing can be accepted anyway; keep the last rows
            log.exception("reading the managed API clients failed")
            rows = None
        with self._lock:
            self._reading = False
            self._read_at = self.clock()
            if rows is not None and rows != self._rows:
                self._rows, self._table = rows, None

    def close(self) -> None:
        """No more background reads (the store is closing)."""
        with self._lock:
            self._closed = True

    def table(self, configured: dict[str, Client]) -> dict[str, Client]:
        """The effective table, as last read; a stale one is re-read on a background thread (never here:
        this runs on the event loop)."""
        with self._lock:
            now = self.clock()
            if not self._reading and not self._closed and (self._read_at is None or now - self._read_at >= self.refresh_seconds):
                self._reading = True
                threading.Thread(target=self.refresh, name="api-clients-refresh", daemon=True).start()
            if self._table is None or self._table[0] is not configured:
                self._table = (configured, effective(configured, self._rows) if self._rows else configured)
            return self._table[1]
