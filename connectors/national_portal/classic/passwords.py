"""Checking a classic account's password, and moving legacy SHA-256 entries to salted hashes.

A configured ``password_hash`` (scrypt) is checked as it is. A legacy ``password_sha256`` is checked as
before, and at a good login the password is re-hashed (scrypt) into the store (``classic_passwords``),
audited: ``gateway portal accounts`` then prints, for each migrated account, the ``password_hash`` line
to put in the configuration in place of its ``password_sha256`` — the administrator never needs to
know the password. The configuration stays what a login is checked against: a password changed there
takes effect at once, and its next good login re-hashes the new one.
"""

from collections.abc import Callable
import logging
import threading

from connectors.national_portal.classic.settings import InboundClient
from gateway.kit.inbound import hash_password, is_legacy, verify_password, waste_time
from gateway.kit import Store, line

log = logging.getLogger(__name__)


class Busy(Exception):
    """Every password check slot stayed taken: the caller should try again later."""


class ClassicPasswords:
    """``concurrent`` checks at most at a time: each takes 32 MiB and ~0.1 s of CPU, so a flood of logins
    (from addresses not locked yet) queues here instead of taking the memory and every request thread."""

    def __init__(self, store: Callable[[], Store], concurrent: int = 4, wait_seconds: float = 5.0) -> None:
        self.store, self.wait_seconds = store, wait_seconds
        self._slots = threading.BoundedSemaphore(concurrent)

    def check(self, client: InboundClient | None, password: str) -> bool:
        """Blocking (a hash, maybe a write to the store): run it off the event loop. Busy when no slot frees
        within ``wait_seconds``."""
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise Busy()
        try:
            return self._check(client, password)
        finally:
            self._slots.release()

    def _check(self, client: InboundClient | None, password: str) -> bool:
        if client is None:
            return waste_time(password)
        if not verify_password(password, client.credential):
            return False
        if is_legacy(client.credential):
            try:
                self._rehash(client, password)
            except Exception:  # the store is down: the password was right all the same; next login tries again
                log.exception("re-hashing the password of %s failed", client.username)
        return True

    def _rehash(self, client: InboundClient, password: str) -> None:
        store = self.store()
        kept = store.classic_password(client.username)
        if kept is not None and verify_password(password, kept):
            return  # re-hashed at an earlier login: the configuration still holds the legacy entry
        store.save_classic_password(client.username, hash_password(password))
        log.warning("%s", line("national_portal.rehashed", account=client.username))
