"""Client of the national portal's classic adapter protocol, and the interface both protocols share.

Login gives a session, cached and renewed when a call is refused for it; every call carries
``session``, ``madonvi`` and ``service`` in its JSON body and ``dstcode`` as a header. The
session and credentials are never logged.
"""

from collections.abc import Sequence
from dataclasses import replace
import logging
import threading
from typing import Any, Protocol

from connectors.national_portal.answers import Answer, AnswerKind, classify, classify_error
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.kit import HoSo, HttpClient, HttpError, Record, ThuTucHanhChinh, TienDoXuLy, line

log = logging.getLogger(__name__)


class PortalClient(Protocol):
    """What the connector needs from either protocol."""

    supports_lookup: bool
    transformer: Transformer

    def sync_dossier(self, hoso: HoSo, *, updating: bool,
                     portal_id: str | None = None) -> tuple[Answer, tuple[str, ...]]:
        """Create (``updating`` False) or update a dossier; ``portal_id`` is the portal's own id, if known."""

    def push_progress(self, steps: Sequence[TienDoXuLy],
                      portal_id: str | None) -> tuple[Answer, list[tuple[str, ...]]]:
        """One call for the steps of one dossier, in order; the warnings come back per step."""

    def find_dossier(self, code: str) -> Answer: ...

    def close(self) -> None: ...


def _respelled(value: Any, model: type[Record] | None) -> Any:
    if isinstance(value, list):
        return [_respelled(item, model) for item in value]
    if not isinstance(value, dict) or model is None:
        return value
    names = {name.upper(): name for name in model.model_fields}
    result = {}
    for key, item in value.items():
        name = names.get(str(key).upper(), str(key))
        field = model.model_fields.get(name)
        inner = next((arg for arg in _args(field.annotation) if isinstance(arg, type) and issubclass(arg, Record)),
                     None) if field is not None else None
        result[name] = _respelled(item, inner)
    return result


def _args(annotation: Any) -> list[Any]:
    """Every type named in an annotation (``list[LinhVuc] | None`` → list, LinhVuc, NoneType)."""
    found, stack = [], [annotation]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(getattr(current, "__args__", ()))
    return found


def model_spelling(answer: Answer, model: type[Record]) -> Answer:
    """A look-up's result with the portal's key spelling (``TENTTHC``, ``LINHVUCTHUCHIEN``) read as the model's."""
    return replace(answer, result=_respelled(answer.result, model)) if answer.result else answer


def http_client(settings: PortalSettings) -> HttpClient:
    return HttpClient(settings.adapter_url, timeout=settings.read_timeout, connect_timeout=settings.connect_timeout,
                      headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"})


class ClassicClient:
    supports_lookup = True

    def __init__(self, settings: PortalSettings, transformer: Transformer, http: HttpClient | None = None) -> None:
        self.settings = settings
        self.transformer = transformer
        self.http = http or http_client(settings)
        self._session: str | None = None
        self._lock = threading.Lock()
        self.logins = 0  # how many times this client logged in (operators and tests watch renewals)

    # --- wire ----------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> tuple[Answer, dict[str, Any] | None]:
        """The classified answer, and the portal's JSON object as it came (None if there was none)."""
        try:
            response = self.http.post(path, json=body, headers={"dstcode": self.settings.dstcode})
        except HttpError as exc:
            return classify_error(exc), None
        answer = classify(response, self.settings.answers)
        try:
            raw = response.json() if answer.http_status == 200 and answer.code is not None else None
        except ValueError:
            raw = None
        return answer, raw if isinstance(raw, dict) else None

    def login(self) -> Answer:
        """A new session, whatever the current one (the answer says whether the portal gave one)."""
        with self._lock:
            return self._login()

    def _login(self) -> Answer:
        self._session = None
        self.logins += 1
        body = {"username": self.settings.username, "password": self.settings.password}
        try:
            response = self.http.post(self.settings.auth_endpoint, json=body, headers={"dstcode": self.settings.dstcode})
        except HttpError as exc:
            return classify_error(exc)
        answer = classify(response, self.settings.answers)
        if answer.ok:
            session = response.json().get("session")
            if not isinstance(session, str) or not session:
                return Answer(AnswerKind.TRANSIENT, line("national_portal.login_without_session"),
                              http_status=response.status_code)
            self._session = session
        return answer

    def _session_besides(self, refused: str | None) -> tuple[str | None, Answer]:
        """A session other than the refused one: the cached one if another thread already renewed it."""
        with self._lock:
            if self._session is not None and self._session != refused:
                return self._session, Answer(AnswerKind.OK)
            answer = self._login()
            return self._session, answer

    def call(self, service: str, *, share: bool = False, **fields: Any) -> Answer:
        """One service call; a refused session is renewed and the call retried once."""
        return self.relay(service, fields, share=share)[0]

    def relay(self, service: str, fields: dict[str, Any], *,
              share: bool = False) -> tuple[Answer, dict[str, Any] | None]:
        """``call``, also giving back the portal's JSON answer untouched (the inbound drop-in
        passes look-up answers back in the portal's own words); None when none was usable."""
        endpoint = self.settings.share_endpoint if share else self.settings.integration_endpoint
        refused: str | None = None
        for _ in (1, 2):
            session, login = self._session_besides(refused)
            if session is None:
                log.warning("%s: %s %s", line("national_portal.login_failed"), login.peer_status, login.message)
                return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.login_refused')}: {login.message}",
                              code=login.code, http_status=login.http_status, retry_after=login.retry_after), None
            answer, raw = self._post(endpoint, {"session": session, "madonvi": self.settings.madonvi,
                                                "service": service, **fields})
            if answer.kind is not AnswerKind.RELOGIN:
                return answer, raw
            refused = session
        return Answer(AnswerKind.TRANSIENT, f"{line('national_portal.session_refused_twice')}: {answer.message}",
                      code=answer.code, http_status=answer.http_status), None

    # --- services ------------------------------------------------------------------

    def sync_dossier(self, hoso: HoSo, *, updating: bool,
                     portal_id: str | None = None) -> tuple[Answer, tuple[str, ...]]:
        payload = self.transformer.dossier(hoso)
        answer = self.call("DongBoHoSoMC", isUpdating="True" if updating else "False", data=[payload.data])
        return answer, payload.warnings

    def push_progress(self, steps: Sequence[TienDoXuLy],
                      portal_id: str | None = None) -> tuple[Answer, list[tuple[str, ...]]]:
        payloads = [self.transformer.progress(step) for step in steps]
        answer = self.call("CapNhatTienDoHoSoMC", data=[p.data for p in payloads])
        return answer, [p.warnings for p in payloads]

    # Where and with which keys the portal's own clients call: TraCuuHoSo and LayThuTuc on the
    # integration endpoint (``mahoso``, ``maTTHC``), the catalogue list on the share endpoint. Procedures
    # come back in upper case (``TENTTHC``) and are read in the model's spelling.
    def find_dossier(self, code: str) -> Answer:
        return self.call("TraCuuHoSo", mahoso=code)

    def get_procedure(self, code: str) -> Answer:
        return model_spelling(self.call("LayThuTuc", maTTHC=code), ThuTucHanhChinh)

    def list_procedures(self, page: int = 1, page_size: int = 50) -> Answer:
        return model_spelling(self.call("LayDanhSachTTHC", share=True, page=page, pageSize=page_size),
                              ThuTucHanhChinh)

    def close(self) -> None:
        self.http.close()
