"""Every client bounded, over real HTTP: request rate (429 with Retry-After), requests in progress, slow
uploads cut (408), a client hanging up logged in one line, reports bounded, /v1/validate behind a key
(or a configured anonymous quota), /docs only where configured."""

from collections.abc import Callable
import json
import logging
import socket
import time

import httpx
import pytest

from tests.receive.conftest import Gateway
from tests.receive.test_packets import JSON, XML, example, post


def test_a_client_over_its_rate_gets_429_and_the_others_do_not(start_gateway: Callable[[str], Gateway]) -> None:
    gateway = start_gateway("[limits]\nclient_rate = 0.5\nclient_burst = 3\n")
    answers = [post(gateway, example("VanDonBuuChinh"), XML).status_code for _ in range(5)]
    assert answers[:3] != [429] * 3 and answers[3:] == [429, 429]
    refused = post(gateway, example("VanDonBuuChinh"), XML)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 2
    assert refused.json()["error"] == "limit.rate"
    assert post(gateway, example("VanDonBuuChinh"), XML, key="typed").status_code == 202  # its own bucket


def _slow_upload(gateway: Gateway, path: str = "/v1/packets", key: str = "portal") -> socket.socket:
    """A request whose body has begun and stalls: it is in progress until the socket closes."""
    port = int(gateway.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
                 f"Authorization: Bearer {gateway.keys[key]}\r\nContent-Length: 1000\r\n\r\n<GoiTin".encode())
    return sock


def _answer(sock: socket.socket) -> bytes:
    received = b""
    while part := sock.recv(65_536):
        received += part
        if b"\r\n\r\n" in received and received.rstrip().endswith(b"}"):
            break
    return received


def test_requests_in_progress_per_client_are_capped(start_gateway: Callable[[str], Gateway]) -> None:
    gateway = start_gateway("[limits]\nclient_concurrent = 2\n")
    stalled = [_slow_upload(gateway), _slow_upload(gateway)]
    try:
        time.sleep(0.3)
        third = post(gateway, example("VanDonBuuChinh"), XML)
        assert third.status_code == 429 and third.json()["error"] == "limit.concurrent"
        assert post(gateway, example("VanDonBuuChinh"), XML, key="typed").status_code == 202
    finally:
        for sock in stalled:
            sock.close()
    time.sleep(0.3)  # the hung-up requests end, and with them their places
    assert post(gateway, example("VanDonBuuChinh"), XML).status_code == 202


def test_a_slow_upload_is_cut_and_a_hang_up_is_one_line(start_gateway: Callable[[str], Gateway],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    gateway = start_gateway("[limits]\nread_timeout_seconds = 1.0\n")
    with _slow_upload(gateway) as sock:
        head, _, body = _answer(sock).partition(b"\r\n\r\n")
    assert head.split()[1] == b"408" and json.loads(body)["errors"][0]["rule"] == "input.timeout"
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            _slow_upload(gateway).close()  # hangs up mid-upload
        time.sleep(0.5)
    hung_up = [r for r in caplog.records if "hung up" in r.getMessage()]
    assert len(hung_up) == 3 and all(r.exc_info is None for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_validate_needs_a_key_and_its_report_is_bounded(start_gateway: Callable[[str], Gateway]) -> None:
    gateway = start_gateway("[limits]\nreport_issues = 5\n")
    noisy = json.loads(example("HoSo", "json"))
    noisy["NoiDung"]["HoSo"].update({f"TruongLa{i}": "x" for i in range(40)})  # 40 unknown fields
    body = json.dumps(noisy, ensure_ascii=False).encode()
    assert httpx.post(gateway.url + "/v1/validate", content=body, headers=JSON).status_code == 401
    report = httpx.post(gateway.url + "/v1/validate", content=body, timeout=30,
                        headers={**JSON, "x-api-key": gateway.keys["portal"]}).json()
    assert len(report["errors"]) == 5 and report["errors_total"] >= 40 and not report["valid"]
    refused = post(gateway, body, JSON)  # /v1/packets' 422 is bounded the same way
    assert refused.status_code == 422 and len(refused.json()["errors"]) == 5


def test_an_anonymous_validate_quota_when_configured(start_gateway: Callable[[str], Gateway]) -> None:
    gateway = start_gateway("[limits]\nanonymous_validate_rate = 0.2\n")
    statuses = [httpx.post(gateway.url + "/v1/validate", content=example("HoSo"), headers=XML).status_code
                for _ in range(2)]
    assert statuses == [200, 429]
    wrong_key = httpx.post(gateway.url + "/v1/validate", content=example("HoSo"), headers={**XML, "x-api-key": "no"})
    assert wrong_key.status_code == 401  # a wrong key is never anonymous


@pytest.mark.parametrize("docs", [False, True])
def test_the_api_description_is_public_only_when_configured(start_gateway: Callable[[str], Gateway],
                                                            docs: bool) -> None:
    gateway = start_gateway(f"[server]\ndocs = {'true' if docs else 'false'}\n")
    for path in ("/docs", "/openapi.json"):
        assert httpx.get(gateway.url + path).status_code == (200 if docs else 404)
