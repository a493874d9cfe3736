"""The LGSP variant's transport: the province's integration platform in front of the database.

zeep writes the same SOAP envelope as for the national path; this transport carries it as a string in a JSON
member (``request_field``) to the platform with an OAuth client-credentials bearer token, and hands zeep the
SOAP answer taken from the answer's ``answer_field`` with the platform's HTTP status, so SOAP faults, HTTP
errors and malformed answers are classified exactly as on the national path. The token (the kit's
``BearerTokens``) is cached until ``expires_in`` (less a margin) and fetched again once when the platform
answers 401."""

from collections.abc import Mapping
import json
from typing import Any

import requests

from connectors.population_db.faults import PopulationFault, http_kind, transport_kind
from connectors.population_db.settings import PopulationSettings
from gateway.kit import (BearerTokens, ClientCredentials, HttpClient, Reply, TokenFailure, Unreadable, ZeepTransport,
                         parse_json_document)
from gateway.kit.zeep_transport import HeaderSource


def token_source(settings: PopulationSettings, http: HttpClient) -> BearerTokens:
    """The platform's client-credentials tokens (the kit's cache, configured from ``[population_db.lgsp]``)."""
    lgsp = settings.lgsp
    return BearerTokens(http, ClientCredentials(lgsp.token_url, lgsp.client_id, lgsp.client_secret, lgsp.scope,
                                                lgsp.credentials_in, margin=lgsp.expiry_margin_seconds,
                                                timeout=settings.read_timeout))


def _response(status: int, content: bytes, url: str) -> requests.Response:
    response = requests.Response()
    response._content = content
    response.status_code = status
    response.headers.update({"Content-Type": "text/xml; charset=utf-8"})
    response.url, response.encoding = url, "utf-8"
    return response


class LgspTransport(ZeepTransport):
    """zeep's SOAP posts, wrapped in the platform's JSON (the WSDL itself is read as on the national path)."""

    def __init__(self, settings: PopulationSettings, client: HttpClient, tokens: BearerTokens,
                 headers: HeaderSource | None = None) -> None:
        super().__init__(client, headers=headers, operation_timeout=settings.read_timeout)
        self.population, self.tokens = settings, tokens  # not .settings: zeep's Transport has a method of that name

    def post(self, address: str, message: bytes | str, headers: Mapping[str, str]) -> requests.Response:
        lgsp = self.population.lgsp
        envelope = message.decode("utf-8") if isinstance(message, bytes) else message
        body: dict[str, Any] = {**lgsp.envelope_fields, lgsp.request_field: envelope}
        try:  # expired or revoked early (401): one new token, one more try
            reply = self.tokens.call(lambda token: self._send(body, token), lambda reply: reply.status_code == 401)
        except TokenFailure as exc:
            raise self._token_fault(exc) from None
        return _response(reply.status_code, self._unwrapped(reply.status_code, reply.content), lgsp.url)

    def _token_fault(self, failure: TokenFailure) -> Exception:
        """No token: the transport's error as it is (the client classifies it), else a fault of cause "token"."""
        if failure.error is not None:
            return failure.error
        if failure.refused and failure.reply is not None:
            return PopulationFault(http_kind(self.population, failure.reply.status_code), "token",
                                   str(failure.reply.status_code), "the platform's token endpoint refused")
        return PopulationFault(transport_kind(self.population, "malformed"), "token", "malformed", failure.reason)

    def _send(self, body: dict[str, Any], token: str) -> Reply:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if self.population.lgsp.direct_headers and self._headers is not None:
            headers = {**self._headers(self.population.url or self.population.lgsp.url), **headers}
        return self.http.request("POST", self.population.lgsp.url, content=_json(body),
                                 headers={**headers, "Content-Type": "application/json; charset=utf-8"},
                                 timeout=self.operation_timeout)

    def _unwrapped(self, status: int, content: bytes) -> bytes:
        """The SOAP answer inside the platform's JSON; the raw bytes when an error answer is not that JSON (an
        HTTP error then, classified by status); a malformed-answer fault for a 200 that is not."""
        try:
            data = parse_json_document(content.decode("utf-8"))
        except (Unreadable, UnicodeDecodeError):
            data = None
        inner = data.get(self.population.lgsp.answer_field) if isinstance(data, dict) else None
        if isinstance(inner, str) and inner:
            return inner.encode("utf-8")
        if status != 200:
            return content
        raise PopulationFault(transport_kind(self.population, "malformed"), "malformed", "LgspEnvelope",
                              f"the platform's answer has no string member {self.population.lgsp.answer_field!r}")


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
