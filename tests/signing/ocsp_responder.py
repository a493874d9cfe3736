"""A strict OCSP responder for tests: real HTTP on 127.0.0.1, real RFC 6960 requests and responses
(cryptography's builders), answers signed by the issuing CA. Unknown serials get "unknown"."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.signing.pki import Issued


class OcspResponder:
    def __init__(self, issuer: Issued) -> None:
        self.issuer = issuer
        self.certificates: dict[int, x509.Certificate] = {}
        self.revoked: dict[int, datetime] = {}
        self.requests = 0
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                responder.requests += 1
                try:
                    answer = responder.answer(ocsp.load_der_ocsp_request(body))
                except ValueError:
                    answer = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
                data = answer.public_bytes(serialization.Encoding.DER)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ocsp"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OcspResponder:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def know(self, issued: Issued, revoked_at: datetime | None = None) -> None:
        self.certificates[issued.cert.serial_number] = issued.cert
        if revoked_at is not None:
            self.revoked[issued.cert.serial_number] = revoked_at

    def answer(self, request: ocsp.OCSPRequest) -> ocsp.OCSPResponse:
        cert = self.certificates.get(request.serial_number)
        if cert is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = datetime.now(UTC)
        revoked_at = self.revoked.get(request.serial_number)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert, issuer=self.issuer.cert, algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
            this_update=now - timedelta(minutes=5), next_update=now + timedelta(hours=1),
            revocation_time=revoked_at, revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, self.issuer.cert)
        return builder.sign(self.issuer.key, hashes.SHA256())
