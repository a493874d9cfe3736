"""The gateway's own audit duties: periodic signed (and timestamped) checkpoints of the chain, and recording the
configuration and signing key a process starts with (a change, a key rotation)."""

from __future__ import annotations

from datetime import UTC, datetime
import hashlib
import json
import logging
import threading
from collections.abc import Callable

from gateway.audit.chain import timestamp
from gateway.audit.checkpoint import Checkpoint, fingerprint, make_checkpoint
from gateway.config import Config
from gateway.receipt.build import Tsa, configured_tsa, gateway_signer
from gateway.store.api import Store
from signing.signer import Signer

log = logging.getLogger(__name__)
CONFIGURATION = "configuration"  # the subject of configuration and key entries


def checkpoint_now(store: Store, signer: Signer | None, tsa: Tsa | None = None) -> Checkpoint | None:
    """A checkpoint of the chain as it stands (signed when ``signer``, then timestamped by ``tsa``); None
    while it is empty."""
    return store.checkpoint(lambda n, hash_: make_checkpoint(
        n, hash_, timestamp(datetime.now(UTC)), signer, tsa.url if tsa else None, tsa.timeout if tsa else 10.0))


def record_configuration(store: Store, config: Config, signer: Signer | None, actor: str) -> list[str]:
    """Audits the configuration and signing certificate this process runs with when they differ from the
    last recorded ones ("config.change", "key.rotation"; the first time "config.loaded"). Only digests
    are kept: the configuration holds hashes of client keys, never secrets, but is no one's business."""
    digest = hashlib.sha256(json.dumps(config.raw, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    certificate = fingerprint(signer.certificate) if signer is not None else None
    last = store.audit_log(CONFIGURATION, limit=1)
    recorded = last[0]["detail"] if last else None
    actions = []
    if recorded is None:
        actions.append("config.loaded")
    else:
        if recorded.get("config_sha256") != digest:
            actions.append("config.change")
        if recorded.get("signing_certificate") != certificate:
            actions.append("key.rotation")
    for action in actions:
        store.audit(actor, action, CONFIGURATION, {
            "config_sha256": digest, "source": config.source, "signing_certificate": certificate,
            "previous_config_sha256": recorded and recorded.get("config_sha256"),
            "previous_signing_certificate": recorded and recorded.get("signing_certificate")})
    return actions


class AuditDuties:
    """What an API process does for the audit log while it serves (``[audit]``), in a thread of its own:
    records the configuration and key it runs with, then writes a checkpoint every ``checkpoint_seconds``
    while the chain grows (several processes may: a head is checkpointed once), and one when it stops.
    A store that is down delays them (tried again every few seconds); it never stops the server."""

    RETRY_SECONDS = 5.0

    def __init__(self, config: Config) -> None:
        self.config, self.signer, self.tsa = config, gateway_signer(config), configured_tsa(config)
        self.seconds = float(config.section("audit").get("checkpoint_seconds", 300))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None

    def start(self, store_of: Callable[[], Store]) -> None:
        self._thread = threading.Thread(target=self._run, args=(store_of,), name="audit-duties", daemon=True)
        self._thread.start()

    def _run(self, store_of: Callable[[], Store]) -> None:
        recorded = False
        while True:
            try:
                self._store = store_of()
                if not recorded:
                    record_configuration(self._store, self.config, self.signer, "gateway")
                    recorded = True
                elif self.seconds > 0:
                    checkpoint_now(self._store, self.signer, self.tsa)
            except Exception:  # the store may be down for a while: the next round tries again
                log.exception("audit: configuration or checkpoint not written")
            wait = self.RETRY_SECONDS if not recorded else self.seconds if self.seconds > 0 else None
            if self._stop.wait(wait):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._store is not None and self.seconds > 0:
            try:
                checkpoint_now(self._store, self.signer, self.tsa)
            except Exception:
                log.exception("audit: checkpoint not written")
