"""Client of the portal's newer token protocol, behind the same interface as the classic one.

``client_id``/``client_secret`` give a bearer token (the kit's ``BearerTokens``), cached until
shortly before it expires and renewed when a call is refused with 401. Answers are ``{"code", "message", "data"}``;
dates are ISO-8601 with milliseconds (the transform sees to that). This protocol has no
dossier look-up, so the connector relies on its own ledger to know what was synced.
"""

from collections.abc import Sequence
from typing import Any

from connectors.national_portal.answers import Answer, AnswerKind, classify, classify_error
from connectors.national_portal.client import http_client
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.kit import BearerTokens, ClientCredentials, HoSo, HttpClient, HttpError, TienDoXuLy, TokenFailure, line

EXPIRY_MARGIN = 30.0  # seconds: renew a little before the portal would refuse the token


class TokenClient:
    supports_lookup = False

    def __init__(self, settings: PortalSettings, transformer: Transformer, http: HttpClient | None = None) -> None:
        self.settings = settings
        self.transformer = transformer
        self.http = http or http_client(settings)
        self.tokens = BearerTokens(self.http, ClientCredentials(
            settings.token.token, settings.client_id, settings.client_secret, margin=EXPIRY_MARGIN,
            timeout=settings.read_timeout))

    @property
    def logins(self) -> int:
        """Token requests made (operators and tests watch renewals)."""
        return self.tokens.requests

    def _login_failed(self, failure: TokenFailure) -> Answer:
        if failure.error is not None:
            return classify_error(failure.error)
        if failure.refused and failure.reply is not None:
            return classify(failure.reply, self.settings.answers, code_key="code")
        status = failure.reply.status_code if failure.reply is not None else None
        return Answer(AnswerKind.TRANSIENT, line("national_portal.token_malformed"), http_status=status)

    def call(self, path: str, body: Any) -> Answer:
        def send(token: str) -> Answer:
            try:
                response = self.http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
            except HttpError as exc:
                return classify_error(exc)
            return classify(response, self.settings.answers, code_key="code")

        try:
            answer = self.tokens.call(send, lambda answer: answer.kind is AnswerKind.RELOGIN)
        except TokenFailure as failure:
            login = self._login_failed(failure)
            return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.token_refused')}: {login.message}",
                          http_status=login.http_status, retry_after=login.retry_after)
        if answer.kind is AnswerKind.RELOGIN:
            return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.token_refused_twice')}: {answer.message}",
                          code=answer.code, http_status=answer.http_status)
        return answer

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
