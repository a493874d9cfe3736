"""RFC 3161: the gateway's TSA client against a test TSA over real HTTP, and token verification."""

from collections.abc import Iterator
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

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
    # checked as of its genTime by default (issue 17): the TSA was valid then, the proof of existence holds
    assert verify_timestamp(token, b"receipt", pki.policy()) == past
    assert verify_timestamp(token, b"receipt", pki.policy(), at=past) == past
    with pytest.raises(TimestampError):  # asked explicitly for now, the expired TSA does not hold
        verify_timestamp(token, b"receipt", pki.policy(), at=pki.now)


def _tsa_crl(pki: TestPKI, path: Path, serial: int, revoked_at: datetime) -> Path:
    """The intermediate's CRL, issued today, naming the TSA certificate revoked at ``revoked_at``."""
    inter = pki["intermediate"]
    crl = (x509.CertificateRevocationListBuilder().issuer_name(inter.cert.subject)
           .last_update(pki.now - timedelta(hours=1)).next_update(pki.now + timedelta(days=30))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                    .revocation_date(revoked_at).build())
           .add_extension(x509.CRLNumber(7), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter.key.public_key()), critical=False)
           .sign(inter.key, hashes.SHA256()))
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return path


def test_an_expired_tsa_revoked_after_the_token_still_proves_it_revoked_before_does_not(
        pki: TestPKI, tmp_path: Path) -> None:
    """Revocation information is read as of genTime: a revocation dated after it leaves the proof standing
    (the key was still the TSA's then), one dated before it makes the token worthless."""
    keys = tsa_certificate(pki["intermediate"].cert, pki["intermediate"].key, not_before=pki.now - timedelta(days=30),
                           not_after=pki.now - timedelta(days=1))
    past = pki.now - timedelta(days=10)
    with serve_tsa(keys, fixed_time=past) as old:
        token = request_timestamp(b"checkpoint", old.url)
    serial = keys.cert.serial_number

    def policy(revoked_at: datetime, name: str) -> TrustPolicy:
        return TrustPolicy.from_paths("tsa", anchors=[pki["root"].cert_path],
                                      intermediates=[pki["intermediate"].cert_path],
                                      crls=[_tsa_crl(pki, tmp_path / name, serial, revoked_at), pki.root_crl_path])

    assert verify_timestamp(token, b"checkpoint", policy(past + timedelta(days=3), "later.crl")) == past
    with pytest.raises(TimestampError, match="(?i)revoked"):
        verify_timestamp(token, b"checkpoint", policy(past - timedelta(days=3), "before.crl"))


def test_a_token_dated_in_the_future_is_refused(pki: TestPKI, tsa: TSA) -> None:
    keys = tsa_certificate(pki["intermediate"].cert, pki["intermediate"].key, not_before=pki.now - timedelta(days=1),
                           not_after=pki.now + timedelta(days=30))
    with serve_tsa(keys, fixed_time=pki.now + timedelta(days=2)) as ahead:
        token = request_timestamp(b"receipt", ahead.url)
    with pytest.raises(TimestampError, match="future"):
        verify_timestamp(token, b"receipt", pki.policy())


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
