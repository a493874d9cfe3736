"""Logging set-up: text on a terminal by default; JSON lines when ``GATEWAY_LOG_FORMAT=json``.

Every JSON line carries a ``correlation_id``: the packet's id (MaGoiTin). The intake sets it for the
request that receives the packet (``correlation.set``), and intake lines naming "packet <id>" carry it; delivery
log lines name the job, whose id is ``<packet id>/<destination>``
by the store's contract, so each attempt's line carries the id of the packet it delivers. Digit runs
that may be ID numbers or phones are masked in every message."""

from contextvars import ContextVar
from datetime import UTC, datetime
import json
import logging
import os
import re
from typing import Any

from gateway.pii import mask_digits_in

correlation: ContextVar[str | None] = ContextVar("correlation", default=None)
_PACKET = re.compile(r"\b(?:job|packet) ([^\s/]+)")  # "job <packet id>/<destination>", "packet <packet id>"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = mask_digits_in(record.getMessage())
        found = correlation.get() or getattr(record, "correlation_id", None)
        if found is None and (match := _PACKET.search(message)):
            found = match.group(1)
        entry: dict[str, Any] = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                                 "level": record.levelname, "logger": record.name, "message": message,
                                 "correlation_id": found}
        if record.exc_info:
            entry["error"] = mask_digits_in(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup(level: int = logging.INFO) -> None:
    """Replaces ``logging.basicConfig`` in the long-running commands (serve, run, worker)."""
    if os.environ.get("GATEWAY_LOG_FORMAT", "text").lower() != "json":
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
