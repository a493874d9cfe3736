"""How a peer's HTTP answer becomes a delivery outcome, for every connector that speaks HTTP.

  2xx → delivered, unless a JSON answer's ``error_code`` is not a success code: a refusal, permanent
        unless the code is one the destination says is worth a retry;
  connection errors, timeouts, 5xx, 429 (+ Retry-After), ``transient_statuses`` and an unreadable 2xx
        answer → transient (tried again later; the idempotency key absorbs a repeat);
  any other 4xx → permanent: dead letter, with the peer's own words, scrubbed of personal data.
"""

from dataclasses import dataclass
from typing import Any

from gateway.deliver.connector import Outcome, OutcomeKind
from gateway.deliver.http_client import HttpError, HttpTimeout, Reply
from gateway.messages import line
from gateway.pii import scrub

UNREADABLE = line("answer.unreadable")
NO_RESULT = line("answer.no_result")


def outcome_of_error(exc: HttpError) -> Outcome:
    """No answer at all: always worth another try."""
    if isinstance(exc, HttpTimeout):
        return Outcome(OutcomeKind.TRANSIENT, f"{line('answer.timeout')} ({exc.kind})")
    return Outcome(OutcomeKind.TRANSIENT, f"{line('answer.connection_error')} ({exc.kind})")


def peer_message(reply: Reply, keys: tuple[str, ...] = ("message", "error")) -> str:
    """The peer's own words — of a JSON answer its message alone, the rest may quote the packet — scrubbed."""
    try:
        data = reply.json()
        text = next((str(data[k]) for k in keys if isinstance(data, dict) and data.get(k)), "") \
            if isinstance(data, dict) else ""
    except ValueError:
        text = reply.text
    return scrub(text)


@dataclass(frozen=True)
class AnswerReading:
    """One destination's way of reading answers (its configuration: transient statuses and codes)."""

    transient_statuses: frozenset[int] = frozenset({408, 425, 429})
    transient_codes: frozenset[str] = frozenset()
    ok_codes: tuple[Any, ...] = (0, "0", "00")
    code_key: str = "error_code"

    def status(self, reply: Reply) -> Outcome | None:
        """The verdict of the HTTP status alone; None for a 2xx, whose body decides."""
        status = reply.status_code
        if status == 429 or status >= 500 or status in self.transient_statuses:
            return Outcome(OutcomeKind.TRANSIENT, peer_message(reply), reply.retry_after, str(status))
        if not 200 <= status < 300:
            return Outcome(OutcomeKind.PERMANENT, peer_message(reply), None, str(status))
        return None

    def item(self, answer: Any, peer_status: str) -> Outcome:
        """One packet's result in a 2xx JSON answer."""
        if not isinstance(answer, dict):
            return Outcome(OutcomeKind.DELIVERED, peer_status=peer_status)
        code = answer.get(self.code_key, 0)
        if answer.get("ok") is False or code not in self.ok_codes:
            status = f"{answer.get('status', peer_status)}/{code}"
            kind = OutcomeKind.TRANSIENT if str(code) in self.transient_codes else OutcomeKind.PERMANENT
            return Outcome(kind, scrub(str(answer.get("message", ""))), None, status)
        return Outcome(OutcomeKind.DELIVERED, peer_status=peer_status)

    def reply(self, reply: Reply, count: int = 1) -> list[Outcome]:
        """The outcomes of ``count`` packets sent in one call; a batch answer may say per packet (``results``)."""
        verdict = self.status(reply)
        if verdict is not None:
            return [verdict] * count
        peer_status = str(reply.status_code)
        try:
            answer: Any = reply.json() if reply.content else {}
        except ValueError:  # we cannot tell whether it was taken: send again
            return [Outcome(OutcomeKind.TRANSIENT, UNREADABLE, None, peer_status)] * count
        results = answer.get("results") if isinstance(answer, dict) else None
        if count > 1 and isinstance(results, list):
            outcomes = [self.item(r, peer_status) for r in results[:count]]
            # a peer that answered for fewer packets did not take the rest: they go again
            return outcomes + [Outcome(OutcomeKind.TRANSIENT, NO_RESULT, None, peer_status)] * (count - len(outcomes))
        return [self.item(answer, peer_status)] * count


def outcome_of_reply(reply: Reply, reading: AnswerReading | None = None) -> Outcome:
    """One packet's outcome from its answer."""
    return (reading or AnswerReading()).reply(reply, 1)[0]
