"""JSON log lines: a correlation id that follows the packet, personal digits masked."""

import json
import logging

from gateway.observe.logs import JsonFormatter, correlation


def _line(message: str, *args: object) -> dict:
    record = logging.LogRecord("gateway.deliver", logging.INFO, __file__, 1, message, args, None)
    return json.loads(JsonFormatter().format(record))


def test_delivery_lines_carry_their_packet_id_and_mask_identifiers() -> None:
    line = _line("job %s attempt %d: %s; next at %s", "pkt-42/national_portal", 2, "citizen 001099001234 unknown", "x")
    assert line["correlation_id"] == "pkt-42" and "001099001234" not in line["message"]
    assert "0010****1234" in line["message"] and line["level"] == "INFO"


def test_the_receiving_request_sets_the_id() -> None:
    token = correlation.set("pkt-7")
    try:
        assert _line("packet not stored (sender %s)", "portal")["correlation_id"] == "pkt-7"
    finally:
        correlation.reset(token)
    assert _line("worker started")["correlation_id"] is None
