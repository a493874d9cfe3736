"""The provincial portal as a destination: a signed webhook POST per run of one dossier's packets.

Answers: 2xx delivered (an optional ``results`` list, one per packet in order, may refuse single packets:
``{"ok": false, "error": …}``); 5xx, 429, ``transient_statuses``, timeouts and connection errors are
transient (the engine retries, honouring Retry-After); any other 4xx is a permanent refusal (dead letter
with the portal's words). Headers: ``Idempotency-Key`` (the first packet's MaGoiTin), ``X-Ordering-Key``
(the dossier), ``X-Gateway-Batch`` (how many), the signature header (see defaults.toml).
"""

from collections.abc import Sequence
from typing import Any

from connectors.provincial_portal import CARRIES, transform
from connectors.provincial_portal import messages  # noqa: F401 - joins the connector's sentences
from connectors.provincial_portal.client import detached, gateway_signer
from connectors.provincial_portal.settings import PortalSettings
from gateway.kit import (Config, ConfigError, Delivery, DestinationPolicy, HttpClient, HttpError, HttpTimeout, Outcome,
                         OutcomeKind, Reply, Signer, line, scrub)

NOT_REACHED = line("provincial_portal.not_reached")


class ProvincialPortalConnector:
    name = "provincial_portal"
    carries = CARRIES

    def __init__(self, policy: DestinationPolicy, settings: PortalSettings, signer: Signer | None,
                 client: HttpClient | None = None) -> None:
        self.url, self.max_batch, self.settings, self.signer = policy.url, policy.max_batch, settings, signer
        self.transient = frozenset(policy.transient_statuses) | settings.transient_statuses
        self.http = client or HttpClient(timeout=policy.timeout_seconds, headers=policy.headers,
                                         max_connections=max(policy.concurrency, 1) * 2)

    @property
    def transform(self) -> str:
        return "webhook: " + ("JWS detached" if self.signer else "unsigned")

    def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        body = transform.body(batch)
        first = batch[0]
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": first.idempotency_key,
                   "X-Ordering-Key": first.packet.dossier_code or first.idempotency_key,
                   "X-Gateway-Batch": str(len(batch)), "X-Attempt": str(first.attempt)}
        if self.signer is not None:
            headers[self.settings.signature_header] = detached(body, self.signer)
        try:
            reply = self.http.post(self.url, content=body, headers=headers)
        except HttpTimeout as exc:
            return [Outcome(OutcomeKind.TRANSIENT, line("provincial_portal.timeout", kind=exc.kind))] * len(batch)
        except HttpError as exc:
            return [Outcome(OutcomeKind.TRANSIENT, line("provincial_portal.connection", kind=exc.kind))] * len(batch)
        return self.classify(reply, len(batch))

    def classify(self, reply: Reply, count: int) -> list[Outcome]:
        status = reply.status_code
        words = _words(reply)
        if status >= 500 or status in self.transient:
            return [Outcome(OutcomeKind.TRANSIENT, words or f"HTTP {status}", retry_after=reply.retry_after,
                            peer_status=str(status))] * count
        if status >= 300:
            return [Outcome(OutcomeKind.PERMANENT, line("provincial_portal.refused", words=words),
                            peer_status=str(status))] * count
        results = _results(reply)
        if results is None:
            return [Outcome(OutcomeKind.DELIVERED, peer_status=str(status))] * count
        outcomes: list[Outcome] = []
        for index in range(count):
            result = results[index] if index < len(results) else {}
            if outcomes and outcomes[-1].kind is not OutcomeKind.DELIVERED:
                outcomes.append(Outcome(OutcomeKind.TRANSIENT, NOT_REACHED, peer_status=str(status)))
            elif isinstance(result, dict) and result.get("ok") is False:
                outcomes.append(Outcome(OutcomeKind.PERMANENT, scrub(str(result.get("error", "")))[:300],
                                        peer_status=str(status), dossier_only=True))
            else:
                outcomes.append(Outcome(OutcomeKind.DELIVERED, peer_status=str(status)))
        return outcomes

    def close(self) -> None:
        self.http.close()


def _words(reply: Reply) -> str:
    try:
        data = reply.json()
    except ValueError:
        return scrub(reply.text[:200])
    return scrub(str(data.get("message") or data.get("error") or ""))[:300] if isinstance(data, dict) else ""


def _results(reply: Reply) -> list[Any] | None:
    try:
        data = reply.json()
    except ValueError:
        return None
    results = data.get("results") if isinstance(data, dict) else None
    return results if isinstance(results, list) else None


def create(policy: DestinationPolicy, config: Config | None = None) -> ProvincialPortalConnector:
    config = config or Config.load()
    if not policy.url:  # the product's defaults name no one-stop system: a deployment gives its webhook
        raise ConfigError(line("provincial_portal.no_url", name=policy.name))
    settings = PortalSettings.from_config(config)
    return ProvincialPortalConnector(policy, settings, gateway_signer(config) if settings.sign else None)
