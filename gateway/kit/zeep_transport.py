"""zeep's transport over the gateway's HTTP client: a SOAP connector's calls (and its WSDL's loading) go
through ``HttpClient`` — urllib3 keep-alive pools, connect/read timeouts, answers bounded in size — instead
of zeep's own ``requests`` session, which has no size bound and no pool settings of ours.

zeep reads ``status_code``, ``headers``, ``content`` and ``encoding`` of what ``post``/``get`` return,
so the answer is handed over as a ``requests.Response`` (zeep's own type), filled from our ``Reply``.
"""

from collections.abc import Callable, Mapping
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import requests
from requests.structures import CaseInsensitiveDict
from zeep.transports import Transport
from zeep.wsdl.utils import etree_to_string

from gateway.deliver.http_client import HttpClient, Reply

HeaderSource = Callable[[str], Mapping[str, str]]  # the target URL → headers made per call (timestamps, hashes)


def _response(reply: Reply, url: str) -> requests.Response:
    response = requests.Response()
    response._content = reply.content
    response.status_code = reply.status_code
    response.headers = CaseInsensitiveDict(dict(reply.headers))
    response.reason = reply.reason_phrase
    response.url = url
    response.encoding = "utf-8"
    return response


class ZeepTransport(Transport):  # zeep is untyped
    """A zeep ``Transport`` whose every request is one ``HttpClient`` call.

    ``headers`` adds per-call headers (authentication computed for each request); ``operation_timeout``
    is the read timeout of SOAP calls (the client's own applies to loading the WSDL). Local WSDL files
    are read from disk; ``file://`` and other schemes are not fetched."""

    def __init__(self, client: HttpClient, *, headers: HeaderSource | None = None,
                 operation_timeout: float | None = None) -> None:
        # zeep's base __init__ would open a requests session: set only what its methods read.
        self.cache = None
        self.load_timeout = None
        self.operation_timeout = operation_timeout
        self.http = client
        self._headers = headers
        self._close_session = False
        self.session = None
        self.logger = logging.getLogger("zeep.transports")

    def _call(self, method: str, url: str, content: bytes | None, headers: Mapping[str, str] | None,
              timeout: float | None) -> requests.Response:
        merged = {**(self._headers(url) if self._headers else {}), **dict(headers or {})}
        reply = self.http.request(method, url, content=content, headers=merged, timeout=timeout)
        return _response(reply, url)

    def post(self, address: str, message: bytes | str, headers: Mapping[str, str]) -> requests.Response:
        body = message.encode("utf-8") if isinstance(message, str) else message
        return self._call("POST", address, body, headers, self.operation_timeout)

    def post_xml(self, address: str, envelope: Any, headers: Mapping[str, str]) -> requests.Response:
        return self.post(address, etree_to_string(envelope), headers)  # type: ignore[no-untyped-call]  # zeep: unannotated

    def get(self, address: str, params: Mapping[str, str] | None, headers: Mapping[str, str]) -> requests.Response:
        target = f"{address}{'&' if '?' in address else '?'}{urlencode(params)}" if params else address
        return self._call("GET", target, None, headers, self.operation_timeout)

    def load(self, url: str) -> bytes:
        """A WSDL or schema document: over HTTP(S) through the client, or a local path."""
        if not url:
            raise ValueError("No url given to load")
        scheme = urlparse(url).scheme
        if scheme in ("http", "https"):
            response = self._call("GET", url, None, None, None)
            response.raise_for_status()
            return bytes(response.content)
        if scheme:
            raise ValueError(f"not loaded: {scheme} URLs are not fetched ({url})")
        return Path(url).expanduser().read_bytes()

    def settings(self, timeout: float | None = None) -> Any:  # zeep's context manager, same behaviour
        return Transport.settings(self, timeout)

    def __del__(self) -> None:  # the HTTP client belongs to the caller
        pass
