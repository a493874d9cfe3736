"""A test timestamp authority over real HTTP: for the tests and the demo, never for production.

Its keys are generated when it starts (a root CA and a TSA certificate with the critical
timeStamping key usage), nothing is written unless asked: ``python -m signing.tsa_server
--port 8318 --root-out tsa-root.pem`` serves on 127.0.0.1 and writes the root to trust.
pyhanko's ``DummyTimeStamper`` signs the tokens; the HTTP transport is real.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys, tsp, x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.messages import text

MAX_REQUEST_BYTES = 8192


@dataclass
class TSAKeys:
    cert: asn1_x509.Certificate
    key: asn1_keys.PrivateKeyInfo
    chain: list[asn1_x509.Certificate]  # certificates sent along in each token (the issuing CA)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def tsa_certificate(issuer_cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey, *, common_name: str = "Test TSA",
                    not_before: datetime, not_after: datetime) -> TSAKeys:
    """A TSA certificate (critical EKU timeStamping, as RFC 3161 requires) issued by ``issuer``."""
    key = rsa.generate_private_key(65537, 2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(issuer_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                           critical=False)
            .sign(issuer_key, hashes.SHA256()))
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    chain = [_asn1(issuer_cert)] if issuer_cert.subject != issuer_cert.issuer else []
    return TSAKeys(_asn1(cert), asn1_keys.PrivateKeyInfo.load(key_der), chain)


def self_contained(common_name: str = "Test TSA") -> tuple[x509.Certificate, TSAKeys]:
    """A fresh root CA and a TSA under it, valid a year either side of now: the root is what to trust."""
    now = datetime.now(UTC)
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} Root")])
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=365)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    return root, tsa_certificate(root, key, common_name=common_name, not_before=now - timedelta(days=365),
                                 not_after=now + timedelta(days=3650))


@dataclass
class TSA:
    url: str
    cert: asn1_x509.Certificate

    def client(self) -> Any:
        """pyhanko's HTTP client for this TSA (what its PDF signers take)."""
        from pyhanko.sign.timestamps import HTTPTimeStamper
        return HTTPTimeStamper(self.url, timeout=60)  # generous: a loaded CI box


@contextmanager
def serve_tsa(keys: TSAKeys, fixed_time: datetime | None = None, host: str = "127.0.0.1",
              port: int = 0) -> Iterator[TSA]:
    """An RFC 3161 responder over HTTP; ``fixed_time`` makes every token carry that genTime."""
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    embedded = SimpleCertificateStore.from_certs(keys.chain)  # type: ignore[no-untyped-call]  # pyhanko: unannotated
    authority = DummyTimeStamper(keys.cert, keys.key, certs_to_embed=embedded, fixed_dt=fixed_time)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get("Content-Type") != "application/timestamp-query" or not 0 < length <= MAX_REQUEST_BYTES:
                self.send_error(415 if length else 411)
                return
            try:
                reply = authority.request_tsa_response(tsp.TimeStampReq.load(self.rfile.read(length))).dump()
            except (ValueError, TypeError, KeyError):
                self.send_error(400)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TSA(f"http://{host}:{server.server_port}/tsa", keys.cert)
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Test RFC 3161 TSA (keys generated at start; not for production)")
    parser.add_argument("--port", type=int, default=8318)
    parser.add_argument("--root-out", type=Path, help="write the TSA's root certificate (PEM) here, to trust it")
    args = parser.parse_args()
    root, keys = self_contained()
    if args.root_out:
        args.root_out.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    with serve_tsa(keys, port=args.port) as tsa:
        print(" / ".join(text("tsa.serving", url=tsa.url)), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
