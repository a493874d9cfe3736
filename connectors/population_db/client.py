"""The zeep client of the population database, built from the project's WSDL, whose calls go through the
gateway's HTTP client (``gateway.kit.ZeepTransport``) with the brief's headers; every failure comes out as a
classified ``PopulationFault``."""

from collections.abc import Callable
import logging
import threading
from typing import Any

import zeep
from zeep.exceptions import Error as ZeepError, Fault, TransportError, XMLSyntaxError
from zeep.helpers import serialize_object
import requests

from connectors.population_db.auth import auth_headers
from connectors.population_db.lgsp import LgspTransport, token_source
from connectors.population_db.faults import PopulationFault, http_kind, soap_kind, transport_kind
from connectors.population_db.settings import PopulationSettings
from connectors.population_db.transform import Query, citizen, operation_fields
from gateway.kit import AnswerTooLarge, BearerTokens, HttpClient, HttpError, HttpTimeout, ZeepTransport, mask_digits_in

log = logging.getLogger(__name__)
BINDING = "{http://dancuquocgia.bca}DanCuBinding"


def _zeep_settings() -> zeep.Settings:
    # Hardened reading of every answer: no DTD, no entities, nothing fetched from the network, no huge trees.
    return zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True,
                         xml_huge_tree=False)


def _without_content(message: str) -> str:
    """zeep's words about a bad answer without the answer's bytes it quotes (they may be a citizen's data)."""
    return mask_digits_in(message.split(" Content: ")[0].split(". Content:")[0])[:300]


class PopulationClient:
    def __init__(self, settings: PopulationSettings, http: HttpClient | None = None) -> None:
        self.settings = settings
        self.http = http or HttpClient(timeout=settings.read_timeout, connect_timeout=settings.connect_timeout,
                                       max_connections=settings.max_connections,
                                       max_answer_bytes=settings.max_answer_bytes, ca_file=settings.ca_file or None,
                                       cert_file=settings.cert_file or None, key_file=settings.key_file or None)
        def headers(url: str) -> dict[str, str]:
            return auth_headers(settings, url)

        self.tokens: BearerTokens | None = None
        if settings.variant == "lgsp":  # the province's platform: a token, the envelope carried in JSON
            self.tokens = token_source(settings, self.http)
            self.transport: ZeepTransport = LgspTransport(settings, self.http, self.tokens, headers)
        else:
            self.transport = ZeepTransport(self.http, headers=headers, operation_timeout=settings.read_timeout)
        self._service: Any = None
        self._lock = threading.Lock()

    @property
    def service(self) -> Any:
        """The WSDL is read on first use (a database URL that is down must not stop the gateway starting)."""
        with self._lock:
            if self._service is None:
                client = zeep.Client(self.settings.wsdl, transport=self.transport,  # type: ignore[no-untyped-call]  # zeep: unannotated
                                     settings=_zeep_settings())
                self._service = (client.create_service(BINDING, self.settings.url)  # type: ignore[no-untyped-call]  # zeep: unannotated
                                 if self.settings.url
                                 else client.service)
            return self._service

    def lookup(self, query: Query) -> dict[str, Any] | None:
        """TraCuuThongTinCongDan: the citizen record, or None when not found."""
        answer = self._call(lambda s: s.TraCuuThongTinCongDan(**operation_fields(self.settings, query)))
        people = serialize_object(answer, dict)  # type: ignore[no-untyped-call]  # zeep: unannotated
        # zeep hands over CongdanCollection's only child, the list of CongDan; a collection object otherwise
        if isinstance(people, dict):
            people = people.get("CongDan")
        if not isinstance(people, list) or not people:
            return None
        return citizen(people[0])  # an identifier names one person

    def verify(self, query: Query) -> bool:
        """XacThucThongTinCongDan: whether this identity exists."""
        answer = self._call(lambda s: s.XacThucThongTinCongDan(**operation_fields(self.settings, query)))
        if not isinstance(answer, bool):
            raise PopulationFault(transport_kind(self.settings, "malformed"), "malformed", "TonTai",
                                  "TonTai is not a boolean")
        return answer

    def _call(self, work: Callable[[Any], Any]) -> Any:
        attempts = 1 + max(0, self.settings.retries)
        for attempt in range(attempts):
            try:
                return work(self.service)
            except PopulationFault as fault:
                last = fault
            except Exception as exc:  # noqa: BLE001 - classified below, nothing escapes unclassified
                last = self.classify(exc)
            if last.kind != "retry":
                raise last
            log.info("population database: %s, attempt %d of %d", last, attempt + 1, attempts)
        raise PopulationFault("later", last.cause, last.code, last.detail, last.retry_after)

    def classify(self, exc: BaseException) -> PopulationFault:
        settings = self.settings
        if isinstance(exc, Fault):
            code = str(exc.code or "")
            return PopulationFault(soap_kind(settings, code), "soap", code, mask_digits_in(str(exc.message or "")))
        if isinstance(exc, AnswerTooLarge):
            return PopulationFault(transport_kind(settings, "too_large"), "too_large", "size", str(exc))
        if isinstance(exc, HttpTimeout):
            return PopulationFault(transport_kind(settings, "timeout"), "timeout", exc.kind)
        if isinstance(exc, HttpError):
            return PopulationFault(transport_kind(settings, "connection"), "connection", exc.kind)
        if isinstance(exc, TransportError) and exc.status_code not in (None, 200):
            return PopulationFault(http_kind(settings, int(exc.status_code)), "http", str(exc.status_code))
        if isinstance(exc, TransportError):  # a 200 answer that is not XML at all
            return PopulationFault(transport_kind(settings, "malformed"), "malformed", "InvalidXML",
                                   _without_content(str(exc)))
        if isinstance(exc, requests.HTTPError) and exc.response is not None:  # the WSDL's URL answered an error
            return PopulationFault(http_kind(settings, exc.response.status_code), "http",
                                   str(exc.response.status_code), "loading the WSDL")
        if isinstance(exc, (ZeepError, XMLSyntaxError, ValueError, TypeError, AttributeError, IndexError)):
            return PopulationFault(transport_kind(settings, "malformed"), "malformed", type(exc).__name__,
                                   _without_content(str(exc)))
        raise exc

    def close(self) -> None:
        self.http.close()
