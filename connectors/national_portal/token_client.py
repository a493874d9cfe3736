"""Client of the portal's newer token protocol, behind the same interface as the classic one.

``client_id``/``client_secret`` give a bearer token, cached until shortly before it expires
and renewed when a call is refused with 401. Answers are ``{"code", "message", "data"}``;
dates are ISO-8601 with milliseconds (the transform sees to that). This protocol has no
dossier look-up, so the connector relies on its own ledger to know what was synced.
"""

from collections.abc import Sequence
import threading
import time
from typing import Any

from connectors.national_portal.answers import Answer, AnswerKind, classify, classify_error
from connectors.national_portal.client import http_client
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.kit import HoSo, HttpClient, HttpError, TienDoXuLy, line

EXPIRY_MARGIN = 30.0  # seconds: renew a little before the portal would refuse the token


class TokenClient:
    supports_lookup = False

    def __init__(self, settings: PortalSettings, transformer: Transformer, http: HttpClient | None = None) -> None:
        self.settings = settings
        self.transformer = transformer
        self.http = http or http_client(settings)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.logins = 0

    def login(self) -> Answer:
        with self._lock:
            return self._login()

    def _login(self) -> Answer:
        self._token = None
        self.logins += 1
        form = {"grant_type": "client_credentials", "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret}
        try:
            response = self.http.post(self.settings.token.token, data=form,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        except HttpError as exc:
            return classify_error(exc)
        if response.status_code != 200:
            return classify(response, self.settings.answers, code_key="code")
        try:
            body = response.json()
            token, expires_in = str(body["access_token"]), float(body.get("expires_in", 300))
        except (ValueError, KeyError, TypeError):
            return Answer(AnswerKind.TRANSIENT, line("national_portal.token_malformed"),
                          http_status=response.status_code)
        self._token, self._expires = token, time.monotonic() + max(0.0, expires_in - EXPIRY_MARGIN)
        return Answer(AnswerKind.OK, http_status=response.status_code)

    def _token_besides(self, refused: str | None) -> tuple[str | None, Answer]:
        """A live token other than the refused one: the cached one if still good, else a new one."""
        with self._lock:
            if self._token is not None and self._token != refused and time.monotonic() < self._expires:
                return self._token, Answer(AnswerKind.OK)
            answer = self._login()
            return self._token, answer

    def call(self, path: str, body: Any) -> Answer:
        refused: str | None = None
        for _ in (1, 2):
            token, login = self._token_besides(refused)
            if token is None:
                return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.token_refused')}: {login.message}",
                              http_status=login.http_status, retry_after=login.retry_after)
            try:
                response = self.http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            except HttpError as exc:
                return classify_error(exc)
            answer = classify(response, self.settings.answers, code_key="code")
            if answer.kind is not AnswerKind.RELOGIN:
                return answer
            refused = token
        return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.token_refused_twice')}: {answer.message}",
                      code=answer.code, http_status=answer.http_status)

    def sync_dossier(self, hoso: HoSo, *, updating: bool,
                     portal_id: str | None = None) -> tuple[Answer, tuple[str, ...]]:
        """A new dossier is created; a known one gets its status updated (the protocol's only update)."""
        if updating:
            status = self.transformer.token_status(hoso, portal_id)
            return self.call(self.settings.token.status, [status.data]), status.warnings
        payload = self.transformer.token_dossier(hoso, self.settings.madonvi)
        return self.call(self.settings.token.dossier, payload.data), payload.warnings

    def push_progress(self, steps: Sequence[TienDoXuLy],
                      portal_id: str | None = None) -> tuple[Answer, list[tuple[str, ...]]]:
        payloads = [self.transformer.token_progress(step, portal_id) for step in steps]
        return self.call(self.settings.token.progress, [p.data for p in payloads]), [p.warnings for p in payloads]

    def find_dossier(self, code: str) -> Answer:
        raise NotImplementedError("the token protocol has no dossier look-up")

    def close(self) -> None:
        self.http.close()
