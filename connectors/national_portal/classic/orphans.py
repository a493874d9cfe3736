"""Progress for a dossier nobody knows is answered as the portal answers it ("not found"), so a
one-stop system learns at once, as it did before the gateway, instead of a step held for days.

Known means: the gateway holds a packet of the dossier, or the portal's look-up (``TraCuuHoSo``)
finds it — a dossier synced directly before the switch to the gateway is on the portal only. The
look-up is bounded in time; when the portal does not answer within it, the step is accepted and the
delivery holds it until the dossier is there (bounded too, then a dead letter saying why).
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
import logging

from connectors.national_portal.answers import AnswerKind
from connectors.national_portal.classic.lookups import Lookups
from gateway.kit import Store

log = logging.getLogger(__name__)


@dataclass
class OrphanCheck:
    lookups: Lookups
    seconds: float  # the longest a call waits for the portal's answer
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="orphan-check"))

    def _on_portal(self, code: str) -> bool | None:
        answer = self.lookups.client.find_dossier(code)
        if answer.kind is not AnswerKind.OK:
            return None  # no usable answer: unknown, not absent
        return bool(answer.result)

    def unknown(self, dossiers: Sequence[str], store: Store) -> list[str]:
        """The dossiers neither the gateway nor (within ``seconds``) the portal knows."""
        held = store.latest_changes(dossiers)
        asked = {code: self.pool.submit(self._on_portal, code) for code in dossiers if code not in held}
        unknown = []
        for code, found in asked.items():
            try:
                if found.result(timeout=self.seconds) is False:
                    unknown.append(code)
            except FutureTimeout:
                log.info("orphan check: the portal did not answer within %.1f s; the step is held", self.seconds)
            except Exception:
                log.exception("orphan check failed; the step is held")
        return unknown

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
