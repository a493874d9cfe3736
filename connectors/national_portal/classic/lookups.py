"""Look-ups (``TraCuuHoSo``, ``LayThuTuc``, ``LayDanhSachTTHC``) relayed to the national portal
with the gateway's own session; the portal's answer goes back as it came. No answer from the
portal (down, timeout, login refused) is a portal-style error, never an HTTP 500."""

from collections.abc import Callable
import logging
import threading
from typing import Any

from fastapi.responses import JSONResponse

from connectors.national_portal import mapping
from connectors.national_portal.client import ClassicClient
from connectors.national_portal.settings import PortalSettings
from connectors.national_portal.transform import Transformer
from gateway.kit import Config, line, text
from connectors.national_portal.classic import answers
from connectors.national_portal.classic.settings import ErrorCodes

log = logging.getLogger(__name__)

SERVICES = ("TraCuuHoSo", "LayThuTuc", "LayDanhSachTTHC")
_OWN_FIELDS = ("session", "madonvi", "service")  # the gateway puts its own


def portal_client(config: Config) -> ClassicClient:
    settings = PortalSettings.from_config(config)
    return ClassicClient(settings, Transformer(mapping.load(settings.mapping_file), settings.field_limits))


class Lookups:
    def __init__(self, config: Config, codes: ErrorCodes,
                 factory: Callable[[Config], ClassicClient] = portal_client) -> None:
        self.config, self.codes, self.factory = config, codes, factory
        self._client: ClassicClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> ClassicClient:
        """Built on first use: a gateway that never relays needs no portal settings."""
        with self._lock:
            if self._client is None:
                self._client = self.factory(self.config)
            return self._client

    def relay(self, service: str, body: dict[str, Any], share: bool,
              keep: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> JSONResponse:
        """Blocking (an HTTP call to the portal): called off the event loop. ``keep`` cuts the portal's
        answer to what the caller may see."""
        fields = {k: v for k, v in body.items() if k not in _OWN_FIELDS}
        try:
            answer, raw = self.client.relay(service, fields, share=share)
        except Exception:
            log.exception("relay of %s failed", service)
            answer, raw = None, None
        if raw is not None:
            return JSONResponse(raw if keep is None else keep(raw))
        reason = answer.message if answer is not None else line("national_portal.configuration_error")
        log.warning("%s: %s", line("national_portal.relay_failed", service=service), reason)
        return answers.refused(self.codes.unavailable, *text("national_portal.portal_unavailable"))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
