"""With the gateway's key configured, receipts come back signed (XML-DSig / JWS) and verify."""

from datetime import UTC, datetime, timedelta
import hashlib
from pathlib import Path
import re
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from gateway.config import Config
from gateway.api import create_app
from signing.jws import verify_jws
from signing.trust import TrustPolicy
from signing.xmldsig import verify_xml

EXAMPLES = Path(__file__).parents[2] / "examples"
_ID = re.compile(rb"MaGoiTin(?:>|\":\s*\")([0-9a-f-]{36})")


def gateway_key(directory: Path) -> tuple[Path, Path]:
    """A throw-away key and self-signed certificate, made at test time."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cổng kết nối — thử nghiệm")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = directory / "gateway-key.pem", directory / "gateway-cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_receipts_are_signed_with_the_gateway_key(tmp_path: Path) -> None:
    key_path, cert_path = gateway_key(tmp_path)
    api_key = "khoa-ky-bien-nhan"
    config_file = tmp_path / "gateway.toml"
    config_file.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/g.db"\n[signing]\nkey = "{key_path}"\ncert = "{cert_path}"\n'
        f'[clients.portal]\nkey_sha256 = "{hashlib.sha256(api_key.encode()).hexdigest()}"\n', encoding="utf-8")
    policy = TrustPolicy.from_paths("gateway", anchors=[str(cert_path)])
    with TestClient(create_app(Config.load(config_file))) as client:
        for kind, media in (("xml", "application/xml"), ("json", "application/json")):
            data = (EXAMPLES / f"TienDoXuLy.{kind}").read_bytes()
            data = data.replace(_ID.search(data).group(1), str(uuid.uuid4()).encode(), 1)
            answer = client.post("/v1/packets", content=data,
                                 headers={"content-type": media, "authorization": f"Bearer {api_key}"})
            assert answer.status_code == 202, answer.text
            receipt = answer.json()
            assert receipt["ChuKyBienNhan"] == "xmldsig/jws"
            signed = receipt["BienNhan"].encode()
            if kind == "xml":
                report, covered = verify_xml(signed, policy)
            else:
                report, covered = verify_jws(signed, policy)
            assert covered is not None and report.verdict == "passed", report.to_dict()
            assert hashlib.sha256(data).hexdigest().encode() in (signed if kind == "xml" else str(covered).encode())
