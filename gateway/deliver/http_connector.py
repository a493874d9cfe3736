"""A generic destination reached over HTTP: the packet as received (XML or JSON), or a JSON batch.

One packet: POST the exact received bytes — for a JSON packet that came as a JWS, its payload, the
exact bytes signed (``gateway.packets.stored``) — with ``Idempotency-Key`` (the sender's MaGoiTin, the
same on every retry and replay). Several (``max_batch`` > 1, consecutive steps of one dossier):
POST ``{"batch": [{"idempotency_key", "encoding", "packet"}, …]}`` with ``X-Gateway-Batch``; the
answer may carry ``results`` (one per packet, in order) to say which were taken.

How answers are read (per destination, in configuration):
  2xx → delivered (a JSON answer whose ``error_code`` is not 0/"0"/"00" is a refusal, see below);
  connection errors, timeouts, 5xx, 429 (+ Retry-After), ``transient_statuses``,
  ``transient_error_codes`` and an unreadable 2xx answer → transient (tried again later);
  any other 4xx or refusal → permanent: dead letter, with the peer's own message.
"""

from collections.abc import Sequence
import json
from typing import Any

from gateway.deliver.connector import Delivery, Outcome, OutcomeKind
from gateway.deliver.http_client import HttpClient, HttpError, HttpTimeout, Reply
from gateway.deliver.policy import DestinationPolicy
from gateway.packets.stored import packet_bytes
from gateway.pii import scrub
from gateway.validate.pipeline import sniff

_OK_CODES = (0, "0", "00")
_MEDIA = {"xml": "application/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


def _packet(raw: bytes) -> tuple[bytes, str]:
    """The packet to forward and its encoding: the received bytes, or a JWS's payload."""
    encoding = sniff(raw) or "json"  # a compact JWS starts with neither "<" nor "{"
    return packet_bytes(raw, encoding), encoding


def _peer_message(response: Reply) -> str:
    """The peer's own words — of a JSON answer its message alone, the rest may quote the packet — scrubbed."""
    try:
        data = response.json()
        text = str(data.get("message") or data.get("error") or "") if isinstance(data, dict) else ""
    except ValueError:
        text = response.text
    return scrub(text)


class HttpConnector:
    transform = None  # the packet travels as received

    def __init__(self, policy: DestinationPolicy, client: HttpClient | None = None) -> None:
        self.name, self.max_batch, self.url = policy.name, policy.max_batch, policy.url
        self.transient_statuses = frozenset(policy.transient_statuses)
        self.transient_codes = frozenset(str(c) for c in policy.options.get("transient_error_codes", ()))
        self._client = client or HttpClient(timeout=policy.timeout_seconds, headers=policy.headers,
                                            max_connections=max(policy.concurrency, 1) * 2)

    def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        first = batch[0]
        headers = {"X-Ordering-Key": first.packet.dossier_code or first.idempotency_key,
                   "X-Attempt": str(first.attempt)}
        if len(batch) == 1:
            content, encoding = _packet(first.raw)
            headers |= {"Idempotency-Key": first.idempotency_key, "Content-Type": _MEDIA[encoding]}
        else:
            packets = [(d.idempotency_key, *_packet(d.raw)) for d in batch]
            content = json.dumps({"batch": [{"idempotency_key": key, "encoding": encoding, "packet": body.decode()}
                                            for key, body, encoding in packets]}, ensure_ascii=False).encode()
            headers |= {"X-Gateway-Batch": str(len(batch)), "Content-Type": _MEDIA["json"]}
        try:
            response = self._client.post(self.url, content=content, headers=headers)
        except HttpTimeout as exc:
            return [Outcome(OutcomeKind.TRANSIENT, f"hết thời gian chờ / timeout ({exc.kind})")] * len(batch)
        except HttpError as exc:
            return [Outcome(OutcomeKind.TRANSIENT, f"lỗi kết nối / connection error ({exc.kind})")] * len(batch)
        return self.classify(response, len(batch))

    def classify(self, response: Reply, count: int) -> list[Outcome]:
        status = response.status_code
        peer_status = str(status)
        if status == 429 or status >= 500 or status in self.transient_statuses:
            return [Outcome(OutcomeKind.TRANSIENT, _peer_message(response),
                            response.retry_after, peer_status)] * count
        if not 200 <= status < 300:
            return [Outcome(OutcomeKind.PERMANENT, _peer_message(response), None, peer_status)] * count
        try:
            answer: Any = response.json() if response.content else {}
        except ValueError:
            # We cannot tell whether it was taken: send again, the idempotency key absorbs a repeat.
            return [Outcome(OutcomeKind.TRANSIENT, "câu trả lời không đọc được / unreadable answer",
                            None, peer_status)] * count
        if not isinstance(answer, dict):
            return [Outcome(OutcomeKind.DELIVERED, peer_status=peer_status)] * count
        results = answer.get("results")
        if count > 1 and isinstance(results, list):
            outcomes = [self._item(r, peer_status) for r in results[:count]]
            # a peer that answered for fewer packets did not take the rest: they go again
            return outcomes + [Outcome(OutcomeKind.TRANSIENT, "không có kết quả / no result", None, peer_status)] * (
                count - len(outcomes))
        return [self._item(answer, peer_status)] * count

    def _item(self, answer: Any, peer_status: str) -> Outcome:
        if not isinstance(answer, dict):
            return Outcome(OutcomeKind.DELIVERED, peer_status=peer_status)
        code = answer.get("error_code", 0)
        if answer.get("ok") is False or code not in _OK_CODES:
            status = f"{answer.get('status', peer_status)}/{code}"
            message = scrub(str(answer.get("message", "")))
            kind = OutcomeKind.TRANSIENT if str(code) in self.transient_codes else OutcomeKind.PERMANENT
            return Outcome(kind, message, None, status)
        return Outcome(OutcomeKind.DELIVERED, peer_status=peer_status)

    def close(self) -> None:
        self._client.close()


def create(policy: DestinationPolicy) -> HttpConnector:
    return HttpConnector(policy)
