"""RFC 3161: the gateway's TSA client against a test TSA over real HTTP, and token verification."""

from collections.abc import Iterator
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import threading

import pytest

from signing.timestamps import TimestampError, request_timestamp, token_time, verify_timestamp
from signing.trust import TrustPolicy
from signing.tsa_server import TSA, self_contained, serve_tsa, tsa_certificate
from tests.signing.pki import TestPKI


@pytest.fixture(scope="module")
def tsa(pki: TestPKI) -> Iterator[TSA]:
    keys = tsa_certificate(pki["intermediate"].cert, pki["intermediate"].key, not_before=pki.now - timedelta(days=1),
                           not_after=pki.now + timedelta(days=30))
    with serve_tsa(keys) as served:
        yield served


def test_request_and_verify(tsa: TSA, pki: TestPKI) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    token = request_timestamp(b"bien nhan", tsa.url)
    when = verify_timestamp(token, b"bien nhan", pki.policy())
    assert before <= when <= datetime.now(UTC) + timedelta(seconds=2)
    assert token_time(token) == when


def test_other_data_or_untrusted_tsa_is_refused(tsa: TSA, pki: TestPKI) -> None:
    token = request_timestamp(b"bien nhan", tsa.url)
    with pytest.raises(TimestampError, match="imprint"):
        verify_timestamp(token, b"bien nhan khac", pki.policy())
    with pytest.raises(TimestampError, match="not trusted"):
        verify_timestamp(token, b"bien nhan", TrustPolicy("nobody"))
    with pytest.raises(TimestampError, match="unreadable"):
        verify_timestamp(b"\x30\x03\x02\x01\x00", b"bien nhan", pki.policy())


def test_a_token_outlives_the_tsa_certificate_when_checked_at_its_time(pki: TestPKI) -> None:
    """A TSA certificate expired today still proves a time inside its validity, checked at that time."""
    keys = tsa_certificate(pki["intermediate"].cert, pki["intermediate"].key, not_before=pki.now - timedelta(days=30),
                           not_after=pki.now - timedelta(days=1))
    past = pki.now - timedelta(days=10)
    with serve_tsa(keys, fixed_time=past) as old:
        token = request_timestamp(b"receipt", old.url)
    with pytest.raises(TimestampError):
        verify_timestamp(token, b"receipt", pki.policy())
    assert verify_timestamp(token, b"receipt", pki.policy(), at=past) == past


def test_self_contained_tsa_for_the_demo() -> None:
    root, keys = self_contained()
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    with serve_tsa(keys) as tsa:
        token = request_timestamp(b"checkpoint", tsa.url, digest="sha512")
    assert verify_timestamp(token, b"checkpoint", TrustPolicy("tsa", anchors=(anchor,))) <= datetime.now(UTC)


@pytest.fixture
def misbehaving() -> Iterator[str]:
    """A server answering every request with too many bytes."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.end_headers()
            self.wfile.write(b"\x30" * 200_000)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/tsa"
    server.shutdown()
    server.server_close()


def test_the_client_is_bounded(misbehaving: str) -> None:
    with pytest.raises(TimestampError, match="more than"):
        request_timestamp(b"x", misbehaving)
    with pytest.raises(TimestampError, match="unreachable"):
        request_timestamp(b"x", "http://127.0.0.1:9/tsa", timeout=2)
    with pytest.raises(TimestampError, match="not allowed"):
        request_timestamp(b"x", misbehaving, digest="sha1")
