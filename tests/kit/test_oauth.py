"""The kit's client-credentials tokens against a real HTTP token endpoint (a small server in this process):
the form or HTTP Basic, the scope, the peer's spelling of its answer, the cache and its margin, one fetch for
many threads, a 401 answered by one new token and one more try, and failures that name no secret."""

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs
import uuid

import pytest

from gateway.kit import BearerTokens, ClientCredentials, HttpClient, TokenFailure

SECRET = uuid.uuid4().hex  # made up per run


class Endpoint:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, list[str]]]] = []
        self.answer: tuple[int, Any] = (200, {"access_token": "t1", "expires_in": 3600})
        self.delay = 0.0
        self.issued = 0


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    state = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode("ascii"))
            state.requests.append((dict(self.headers), form))
            time.sleep(state.delay)
            status, body = state.answer
            state.issued += 1
            if isinstance(body, dict) and body.get("access_token"):
                body = {**body, "access_token": f"{body['access_token']}-{state.issued}"}
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


def tokens(base: str, clock: Any = time.monotonic, **options: Any) -> BearerTokens:
    return BearerTokens(HttpClient(base, timeout=5), ClientCredentials("/token", "cong-ket-noi", SECRET, **options),
                        clock)


def test_the_form_the_cache_and_its_margin(endpoint: tuple[Endpoint, str]) -> None:
    state, base = endpoint
    now = [0.0]
    source = tokens(base, lambda: now[0], scope="dancu.read", margin=30.0)
    assert source.token() == source.token() == "t1-1"
    headers, form = state.requests[0]
    assert form == {"grant_type": ["client_credentials"], "client_id": ["cong-ket-noi"], "client_secret": [SECRET],
                    "scope": ["dancu.read"]}
    assert headers["Content-Type"] == "application/x-www-form-urlencoded" and "Authorization" not in headers
    now[0] = 3569.0  # 31 s before it expires: still good
    assert source.token() == "t1-1"
    now[0] = 3571.0  # within the margin: renewed
    assert source.token() == "t1-2" and source.requests == source.issued == 2


def test_basic_credentials_and_the_peers_spelling(endpoint: tuple[Endpoint, str]) -> None:
    state, base = endpoint
    state.answer = (200, {"token": "x", "ttl": 60, "kind": "bearer"})
    source = tokens(base, credentials_in="basic", token_field="token", expires_field="ttl", type_field="kind")
    assert source.token() == "x"  # no access_token member here: the peer's own name was read
    headers, form = state.requests[0]
    assert form == {"grant_type": ["client_credentials"]}
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"cong-ket-noi:{SECRET}".encode()).decode()
    state.answer = (200, {"token": "y", "kind": "mac"})
    with pytest.raises(TokenFailure, match="token_type 'mac'"):
        tokens(base, token_field="token", type_field="kind").token()


def test_one_fetch_serves_every_thread(endpoint: tuple[Endpoint, str]) -> None:
    state, base = endpoint
    state.delay = 0.2
    source = tokens(base)
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda _: source.token(), range(8))) == {"t1-1"}
    assert len(state.requests) == 1


def test_a_refused_token_is_replaced_once(endpoint: tuple[Endpoint, str]) -> None:
    _, base = endpoint
    source, seen = tokens(base), []

    def send(token: str) -> int:
        seen.append(token)
        return 401 if token == "t1-1" else 200

    assert source.call(send, lambda status: status == 401) == 200 and seen == ["t1-1", "t1-2"]
    seen.clear()

    def always_refused(token: str) -> int:
        seen.append(token)
        return 401

    assert source.call(always_refused, lambda status: status == 401) == 401
    assert seen == ["t1-2", "t1-3"]  # refused again: once more only, the second answer is the caller's
    assert source.token(stale="t1-0") == "t1-3"  # a token another thread replaced already is not fetched again


@pytest.mark.parametrize(("answer", "reason", "refused"), [
    ((401, {"error": "invalid_client"}), "HTTP 401", True),
    ((200, b"<html>"), "malformed token answer", False),
    ((200, {"expires_in": 60}), "malformed token answer", False),
    ((200, {"access_token": "", "expires_in": 60}), "empty token", False),
    ((200, {"access_token": None, "expires_in": 60}), "empty token", False),  # not the token "None"
    ((200, {"access_token": "t", "expires_in": "NaN"}), "malformed token answer", False),
])
def test_failures_say_why_without_a_secret(endpoint: tuple[Endpoint, str], answer: tuple[int, Any], reason: str,
                                           refused: bool) -> None:
    state, base = endpoint
    state.answer = answer
    with pytest.raises(TokenFailure) as failure:
        tokens(base).token()
    assert failure.value.reason == reason == str(failure.value) and failure.value.refused is refused
    assert SECRET not in repr(failure.value.__dict__) and SECRET not in repr(tokens(base).credentials)


def test_no_answer_is_a_transport_failure() -> None:
    source = BearerTokens(HttpClient("http://127.0.0.1:9", timeout=2), ClientCredentials("/token", "id", SECRET))
    with pytest.raises(TokenFailure) as failure:
        source.token()
    assert failure.value.error is not None and failure.value.reply is None and source.issued == 0
    assert failure.value.reason.endswith(f"({failure.value.error.kind})")
