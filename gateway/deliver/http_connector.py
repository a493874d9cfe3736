"""A generic destination reached over HTTP: the packet as received (XML or JSON), or a JSON batch.

One packet: POST the exact received bytes — for a JSON packet that came as a JWS, its payload, the
exact bytes signed (``gateway.packets.stored``) — with ``Idempotency-Key`` (the sender's MaGoiTin, the
same on every retry and replay). Several (``max_batch`` > 1, consecutive steps of one dossier):
POST ``{"batch": [{"idempotency_key", "encoding", "packet"}, …]}`` with ``X-Gateway-Batch``; the
answer may carry ``results`` (one per packet, in order) to say which were taken.

How answers are read: ``gateway.kit.answers`` (per destination: ``transient_statuses`` and
``transient_error_codes`` in its configuration).
"""

from collections.abc import Sequence
import json

from gateway.config import ConfigError
from gateway.deliver.connector import Delivery, Outcome
from gateway.deliver.http_client import HttpClient, HttpError
from gateway.deliver.policy import DestinationPolicy
from gateway.packets.stored import packet_bytes
from gateway.kit.answers import AnswerReading, outcome_of_error
from gateway.messages import line
from gateway.validate.pipeline import sniff

_MEDIA = {"xml": "application/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


def _packet(raw: bytes) -> tuple[bytes, str]:
    """The packet to forward and its encoding: the received bytes, or a JWS's payload."""
    encoding = sniff(raw) or "json"  # a compact JWS starts with neither "<" nor "{"
    return packet_bytes(raw, encoding), encoding


class HttpConnector:
    transform = None  # the packet travels as received

    def __init__(self, policy: DestinationPolicy, client: HttpClient | None = None) -> None:
        self.name, self.max_batch, self.url = policy.name, policy.max_batch, policy.url
        self.reading = AnswerReading(frozenset(policy.transient_statuses),
                                     frozenset(str(c) for c in policy.options.get("transient_error_codes", ())))
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
        except HttpError as exc:
            return [outcome_of_error(exc)] * len(batch)
        return self.reading.reply(response, len(batch))

    def close(self) -> None:
        self._client.close()


def create(policy: DestinationPolicy) -> HttpConnector:
    if not policy.url:  # the product's defaults name destinations a deployment gives an address
        raise ConfigError(f"destinations.{policy.name}.url {line('deliver.url_unset')}")
    return HttpConnector(policy)
