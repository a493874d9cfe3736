"""The LGSP variant's transport: the province's integration platform in front of the database.

zeep writes the same SOAP envelope as for the national path; this transport carries it as a string in a JSON
member (``request_field``) to the platform with an OAuth client-credentials bearer token, and hands zeep the
SOAP answer taken from the answer's ``answer_field`` with the platform's HTTP status, so SOAP faults, HTTP
errors and malformed answers are classified exactly as on the national path. The token is cached until
``expires_in`` (less a margin) and fetched again once when the platform answers 401."""

import base64
from collections.abc import Callable, Mapping
import json
import threading
import time
from typing import Any

import requests

from connectors.population_db.faults import PopulationFault, http_kind, transport_kind
from connectors.population_db.settings import PopulationSettings
from gateway.kit import HttpClient, Unreadable, ZeepTransport, parse_json_document
from gateway.kit.zeep_transport import HeaderSource

MAX_TOKEN_ANSWER = 16384


class TokenSource:
    """Client-credentials tokens: one fetched at a time, cached until shortly before it expires."""

    def __init__(self, settings: PopulationSettings, http: HttpClient, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.http, self.clock = settings, http, clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.fetched = 0

    def token(self, stale: str | None = None) -> str:
        """The cached token, or a new one when there is none, it expired, or it is ``stale`` (refused)."""
        with self._lock:  # a token another thread renewed meanwhile is used as it is
            if self._token is not None and self._token != stale and self.clock() < self._expires:
                return self._token
            self._token, self._expires = self._fetch()
            return self._token

    def _fetch(self) -> tuple[str, float]:
        lgsp = self.settings.lgsp
        form = {"grant_type": "client_credentials"}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if lgsp.credentials_in == "basic":
            pair = f"{lgsp.client_id}:{lgsp.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form.update(client_id=lgsp.client_id, client_secret=lgsp.client_secret)
        if lgsp.scope:
            form["scope"] = lgsp.scope
        reply = self.http.post(lgsp.token_url, data=form, headers=headers)  # HttpError: classified by the client
        self.fetched += 1
        if reply.status_code != 200:
            raise PopulationFault(http_kind(self.settings, reply.status_code), "token", str(reply.status_code),
                                  "the platform's token endpoint refused")
        try:
            body: Any = parse_json_document(reply.content[:MAX_TOKEN_ANSWER].decode("utf-8"))
            token, expires_in = str(body["access_token"]), float(body.get("expires_in", 300))
        except (Unreadable, UnicodeDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise PopulationFault(transport_kind(self.settings, "malformed"), "token", "malformed",
                                  "the token answer is not {access_token, expires_in}") from None
        if not token:
            raise PopulationFault(transport_kind(self.settings, "malformed"), "token", "malformed", "empty token")
        return token, self.clock() + max(0.0, expires_in - lgsp.expiry_margin_seconds)


def _response(status: int, content: bytes, url: str) -> requests.Response:
    response = requests.Response()
    response._content = content
    response.status_code = status
    response.headers.update({"Content-Type": "text/xml; charset=utf-8"})
    response.url, response.encoding = url, "utf-8"
    return response


class LgspTransport(ZeepTransport):
    """zeep's SOAP posts, wrapped in the platform's JSON (the WSDL itself is read as on the national path)."""

    def __init__(self, settings: PopulationSettings, client: HttpClient, tokens: TokenSource,
                 headers: HeaderSource | None = None) -> None:
        super().__init__(client, headers=headers, operation_timeout=settings.read_timeout)
        self.population, self.tokens = settings, tokens  # not .settings: zeep's Transport has a method of that name

    def post(self, address: str, message: bytes | str, headers: Mapping[str, str]) -> requests.Response:
        lgsp = self.population.lgsp
        envelope = message.decode("utf-8") if isinstance(message, bytes) else message
        body: dict[str, Any] = {**lgsp.envelope_fields, lgsp.request_field: envelope}
        token = self.tokens.token()
        reply = self._send(body, token)
        if reply.status_code == 401:  # expired or revoked early: one new token, one more try
            reply = self._send(body, self.tokens.token(stale=token))
        return _response(reply.status_code, self._unwrapped(reply.status_code, reply.content), lgsp.url)

    def _send(self, body: dict[str, Any], token: str) -> Any:
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
