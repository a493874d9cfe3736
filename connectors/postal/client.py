"""The postal service's HTTP API: create and cancel orders (JSON, ``access_token`` header and/or an OAuth
bearer token, the kit's ``BearerTokens``), and the
tracking feed read by cursor. Every answer is classified once, here; nothing is retried here (the
delivery engine and the poller own retries)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connectors.postal.messages import slash
from connectors.postal.settings import PostalSettings
from gateway.kit import BearerTokens, ClientCredentials, HttpClient, HttpError, HttpTimeout, Reply, TokenFailure, scrub


class Kind(StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"  # the service has this OrderNumber already
    NOT_FOUND = "not_found"  # cancel: no such order there
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Answer:
    kind: Kind
    message: str = ""  # scrubbed: personal data masked
    peer_status: str | None = None
    retry_after: float | None = None
    data: Any = None


@dataclass(frozen=True)
class FeedItem:
    id: str
    order_number: str
    status_code: str
    message: str
    item_code: str | None = None
    time: str | None = None  # as the service wrote it


@dataclass
class Page:  # filled as the page is read
    items: list[FeedItem] = field(default_factory=list)
    skipped: int = 0  # items without an id, an order number or a status code


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class PostalClient:
    def __init__(self, settings: PostalSettings, http: HttpClient | None = None) -> None:
        self.settings = settings
        headers = {"Accept": "application/json"}
        if settings.access_token:
            headers["access_token"] = settings.access_token
        self.http = http or HttpClient(settings.url, timeout=settings.read_timeout,
                                       connect_timeout=settings.connect_timeout, headers=headers,
                                       max_answer_bytes=settings.max_reply_bytes)
        oauth = settings.oauth
        self.tokens = BearerTokens(self.http, ClientCredentials(
            oauth.token_url, oauth.client_id, oauth.client_secret, oauth.scope, type_field="token_type",
            margin=oauth.expiry_margin_seconds, timeout=settings.read_timeout)) if oauth.enabled else None

    # --- wire ---------------------------------------------------------------------

    def _classify(self, response: Reply, known: Iterable[str]) -> Answer:
        status = response.status_code
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        words = _text(data.get("Message") or data.get("message")) if isinstance(data, dict) else response.text[:500]
        message = scrub(words, known)
        if status == 429 or status >= 500 or status == 408:
            return Answer(Kind.TRANSIENT, message or f"HTTP {status}", str(status), response.retry_after)
        if status in (401, 403):  # our token: an operator's matter, but nothing is wrong with the packet
            return Answer(Kind.TRANSIENT, slash("postal.answer.auth_refused", message=message), str(status),
                          response.retry_after)
        if not 200 <= status < 300:
            return Answer(Kind.PERMANENT, message or f"HTTP {status}", str(status))
        if not isinstance(data, dict):
            # cannot tell whether it was taken: again later; OrderNumber makes a repeat harmless
            return Answer(Kind.TRANSIENT, slash("postal.answer.unreadable"), str(status))
        code = _text(data.get("Status", data.get("status")))
        answers = self.settings.answers
        kind = (Kind.OK if code in answers.accepted else Kind.DUPLICATE if code in answers.duplicate
                else Kind.NOT_FOUND if code in answers.not_found else Kind.TRANSIENT if code in answers.transient
                else Kind.PERMANENT)
        return Answer(kind, message, f"{status}/{code}", response.retry_after, data)

    def _exchange(self, method: str, path: str, **kwargs: Any) -> Reply | Answer:
        """One call, with the bearer token when OAuth is on: a 401 forgets the token and the call is made once
        more with a new one. An Answer when there was no usable reply (no token, timeout, connection)."""
        if self.tokens is None:
            return self._send(method, path, {}, kwargs)
        try:
            return self.tokens.call(
                lambda token: self._send(method, path, {"Authorization": f"Bearer {token}"}, kwargs),
                lambda reply: isinstance(reply, Reply) and reply.status_code == 401)
        except TokenFailure as exc:
            return Answer(Kind.TRANSIENT, slash("postal.answer.token", reason=exc.reason), None, exc.retry_after)

    def _send(self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Reply | Answer:
        try:
            return (self.http.post(path, headers=headers, **kwargs) if method == "POST"
                    else self.http.get(path, headers=headers, **kwargs))
        except HttpTimeout as exc:
            return Answer(Kind.TRANSIENT, slash("postal.answer.timeout", kind=exc.kind))
        except HttpError as exc:
            return Answer(Kind.TRANSIENT, slash("postal.answer.connection", kind=exc.kind))

    def _call(self, method: str, path: str, known: Iterable[str] = (), **kwargs: Any) -> Answer:
        response = self._exchange(method, path, **kwargs)
        return response if isinstance(response, Answer) else self._classify(response, known)

    # --- calls --------------------------------------------------------------------

    def create_order(self, order: dict[str, Any], known: Iterable[str] = ()) -> Answer:
        """``known``: the order's personal values, masked wherever the answer repeats them."""
        return self._call("POST", self.settings.order_path, known, json=order)

    def cancel_order(self, order_number: str) -> Answer:
        return self._call("POST", self.settings.cancel_path,
                          json={"CustomerCode": self.settings.customer_code, "OrderNumber": order_number})

    def tracking(self, last_id: str | None, page_size: int) -> tuple[Answer, Page]:
        """One page of the feed after ``last_id`` (None: from the start)."""
        params: dict[str, str | int] = {"pageSize": page_size, "customerCode": self.settings.customer_code}
        if last_id is not None:
            params["lastId"] = last_id
        response = self._exchange("GET", self.settings.tracking_path, params=params)
        if isinstance(response, Answer):
            return response, Page()
        if response.status_code != 200:
            return self._classify(response, ()), Page()
        try:
            data = response.json()
        except ValueError:
            return Answer(Kind.TRANSIENT, slash("postal.answer.bad_page"), "200"), Page()
        rows = data.get("Data", data.get("data")) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            return Answer(Kind.TRANSIENT, slash("postal.answer.page_shape"), "200"), Page()
        page = Page()
        for row in rows:
            if not isinstance(row, dict):
                page.skipped += 1
                continue
            item = FeedItem(id=_text(row.get("Id", row.get("id"))), order_number=_text(row.get("OrderNumber")),
                            status_code=_text(row.get("StatusCode")), message=_text(row.get("StatusMessage")),
                            item_code=_text(row.get("ItemCode")) or None, time=_text(row.get("StatusDate")) or None)
            if item.id and item.order_number and item.status_code:
                page.items.append(item)
            else:
                page.skipped += 1
        return Answer(Kind.OK, peer_status="200"), page

    def close(self) -> None:
        self.http.close()
