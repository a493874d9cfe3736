"""The inbound side: the postal service's tracking feed, polled by cursor.

Each item about a shipment the gateway ordered becomes a TrangThaiVanDon packet (to the provincial
portal); a delivery also the dossier's status-10 step (to the national portal). Both are *originated*:
handed to the gateway's intake (``originate(data, encoding)``), which validates, routes and stores them
like received packets, in the dossier's order. The cursor lives in the store and moves only past items
the intake has taken; items read twice give the same packets (ids derived from the item), which the
intake takes as resends. One worker process polls at a time (a lease on the cursor's row).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import os
import socket
import threading
from typing import Any
import uuid

from connectors.postal.client import FeedItem, Kind, PostalClient
from connectors.postal.ledger import PostalLedger
from connectors.postal.messages import slash
from connectors.postal.settings import PostalSettings
from connectors.postal.transform import item_time, returned_step, tracking_packet
from gateway.kit import Accepted, Refused, TryLater, scrub

log = logging.getLogger(__name__)

Originate = Callable[[bytes, str], Any]  # → the intake's Accepted | Refused | TryLater


def _verdict(result: Any) -> str:
    """"accepted", "refused" or "later", from the intake's answer. Anything else is "later": the item is
    read again, never lost."""
    if isinstance(result, Accepted):
        return "accepted"
    return "refused" if isinstance(result, Refused) else "later"


def _reason(result: Any) -> str:
    """The intake's rule and its English message (no citizen data: scrubbed all the same)."""
    if isinstance(result, Refused | TryLater):
        return scrub(f"{getattr(result, 'rule', '') or getattr(result, 'reason', '')}: {result.message_en}")
    return scrub(str(result))[:300]


@dataclass
class PollResult:
    held: bool = False  # this poller held the feed
    pages: int = 0
    items: int = 0  # items handled (the cursor moved past them)
    originated: int = 0  # packets the intake accepted (new or resends)
    refused: int = 0
    not_ours: int = 0  # shipments the gateway did not order
    error: str | None = None  # why the poll stopped early (the feed or the intake said "later")
    retry_after: float | None = None
    cursor: str | None = None


class TrackingPoller:
    def __init__(self, settings: PostalSettings, client: PostalClient, ledger: PostalLedger,
                 originate: Originate, holder: str | None = None) -> None:
        self.settings, self.client, self.ledger, self.originate = settings, client, ledger, originate
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def poll_once(self) -> PollResult:
        """Reads the feed from the stored cursor until it is drained or something says "later"."""
        tracking = self.settings.tracking
        result = PollResult()
        held, cursor = self.ledger.hold_feed(tracking.feed, self.holder, tracking.lease_seconds)
        result.held, result.cursor = held, cursor
        if not held:
            return result
        while True:
            answer, page = self.client.tracking(cursor, tracking.page_size)
            if answer.kind is not Kind.OK:
                result.error, result.retry_after = answer.message or answer.peer_status, answer.retry_after
                return result
            result.pages += 1
            for item in page.items:
                done = self._handle(item, result)
                if not done:
                    return result
                cursor = item.id
                result.items += 1
                if not self.ledger.advance(tracking.feed, self.holder, cursor):
                    result.error = slash("postal.lease_lost")
                    return result
                result.cursor = cursor
            if len(page.items) + page.skipped < tracking.page_size or not page.items:
                return result
            self.ledger.hold_feed(tracking.feed, self.holder, tracking.lease_seconds)  # renewed per page

    def _send(self, data: bytes, result: PollResult, what: str, item: FeedItem) -> bool:
        answer = self.originate(data, "json")
        verdict = _verdict(answer)
        if verdict == "later":
            result.error = slash("postal.intake_later", what=what, reason=_reason(answer))
            result.retry_after = getattr(answer, "retry_after", None)
            return False
        if verdict == "refused":  # a packet the gateway itself cannot accept: shown to operators, not retried
            result.refused += 1
            log.warning("postal: %s for dossier %s (feed item %s) refused by the intake: %s", what,
                        item.order_number, item.id, _reason(answer))
        else:
            result.originated += 1
        return True

    def _handle(self, item: FeedItem, result: PollResult) -> bool:
        shipment = self.ledger.get(item.order_number)
        if shipment is None:
            result.not_ours += 1
            return True
        mapping = self.settings.status(item.status_code)
        at = item_time(item, datetime.now(UTC))
        _, data = tracking_packet(item, mapping, shipment.agency, shipment.item_code, at, self.settings)
        if not self._send(data, result, "TrangThaiVanDon", item):
            return False
        if mapping.delivered:
            _, step = returned_step(item, shipment.agency, shipment.item_code, at, self.settings)
            if not self._send(step, result, "TienDoXuLy 10", item):
                return False
        self.ledger.moved(item.order_number, state=mapping.state, last_status=item.status_code,
                          item_code=item.item_code)
        return True

    def run(self, stop: threading.Event) -> None:
        """The worker's loop: poll, then wait ``poll_seconds`` (or what the peer asked, with backoff on
        failures) until ``stop`` is set; the feed's lease is given back on the way out."""
        failures = 0
        try:
            while not stop.is_set():
                try:
                    outcome = self.poll_once()
                except Exception:  # the store or a bug: logged, tried again later, the loop survives
                    log.exception("postal: tracking poll failed")
                    outcome = PollResult(error="exception")
                if outcome.error:
                    failures += 1
                    log.warning("postal: tracking poll stopped early: %s", outcome.error)
                    wait = outcome.retry_after or min(self.settings.tracking.poll_seconds, 2.0 ** failures)
                else:
                    failures = 0
                    wait = self.settings.tracking.poll_seconds
                stop.wait(wait)
        finally:
            try:
                self.ledger.release_feed(self.settings.tracking.feed, self.holder)
            except Exception:
                log.exception("postal: releasing the feed failed")
