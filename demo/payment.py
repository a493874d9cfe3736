"""Online payment in the demo: a test bank (its CA and signing certificate made now, the CA the gateway's
``[signing.purposes.bank]`` trust), the payment platform's simulator calling the gateway back, one dossier
whose receipt arrives tampered, and the check of every payment the gateway made against what it forwarded."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.store import Store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PARTNER = "000.00.00.H22"  # the province's partner code at the platform (MaDoiTac)


@dataclass(frozen=True)
class Bank:
    ca: Path  # the test bank CA's certificate: the gateway's trust anchor for receipts
    key: Path
    cert: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ngân hàng thử nghiệm — demo bank")])


def bank(folder: Path) -> Bank:
    """A test bank made for this run: a CA and the certificate the bank signs its receipts with."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("CA ngân hàng thử nghiệm / demo bank CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
          .not_valid_after(now + timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("Biên lai ngân hàng thử nghiệm / demo bank receipts"))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    made = Bank(folder / "bank-ca.pem", folder / "bank-key.pem", folder / "bank-cert.pem")
    made.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    made.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return made


def fees_dossier(code: str, sent_at: datetime) -> bytes:
    """The bundled example dossier as a new one asking for fees (status 6 with DanhSachLePhi): JSON bytes."""
    packet = json.loads((EXAMPLES / "HoSo.json").read_text(encoding="utf-8"))
    packet.update(MaGoiTin=str(uuid.uuid4()), ThoiGianGui=sent_at.strftime("%Y%m%d%H%M%S"))
    body = packet["NoiDung"]["HoSo"]
    body.update(MaHoSo=code, TrangThaiHoSo=6)
    for key in ("NgayTra", "NgayKetThucXuLy"):
        body.pop(key, None)
    body["DanhSachLePhi"] = [{"TenPhiLePhi": "Lệ phí cấp giấy phép", "MaPhiLePhi": "LP-01", "HinhThucThu": 1,
                              "Gia": 150_000, "LoaiPhiLePhi": 2}]
    return json.dumps(packet, ensure_ascii=False).encode("utf-8")


@dataclass
class PaymentCheck:
    asked: int = 0  # accepted status-6 HoSo with fees: payments the gateway should have made
    payments: int = 0  # payments in the gateway's store for them
    forwarded: int = 0  # … whose receipt was verified and forwarded as BienLaiThanhToan
    verified: int = 0  # receipts whose signature verified
    delivered: int = 0  # forwarded receipts the provincial portal recorded
    stopped: dict[str, str] = field(default_factory=dict)  # dossier → state: reason (the tampered one)
    problems: list[str] = field(default_factory=list)
    packets: set[str] = field(default_factory=set)  # MaGoiTin of the originated BienLaiThanhToan

    @property
    def ok(self) -> bool:
        return (self.asked > 0 and self.payments == self.asked and self.forwarded == self.verified == self.asked
                and self.delivered == self.forwarded and not self.problems)


def check(store: Store, fees: list[str], tampered: str, provincial_record: dict[str, Any]) -> PaymentCheck:
    """``fees``: the day's dossiers whose fees were asked and accepted; ``tampered``: the one whose receipt the
    platform sent tampered, which must be stopped with its reason and never forwarded."""
    result = PaymentCheck(asked=len(fees))
    received = provincial_record.get("received", {})
    for dossier in fees:
        rows = store.payments_of(dossier)
        if not rows:
            result.problems.append(f"{dossier}: không có thanh toán / no payment")
            continue
        result.payments += 1
        row = rows[-1]
        detail = row.get("detail") or {}
        if row["state"] == "forwarded":
            result.forwarded += 1
            result.verified += 1 if (detail.get("verification") or {}).get("verdict") == "passed" else 0
            packet = str(detail.get("packet", ""))
            result.packets.add(packet)
            result.delivered += 1 if packet in received else 0
        else:
            result.problems.append(f"{dossier}: {row['state']} {detail.get('reason', '')}".strip())
    for row in store.payments_of(tampered):
        detail = row.get("detail") or {}
        result.stopped[tampered] = f"{row['state']}: {detail.get('reason', '')}"
    if not result.stopped.get(tampered, "").startswith("receipt_rejected"):
        result.problems.append(f"{tampered}: biên lai bị sửa không bị chặn / the tampered receipt was not stopped "
                               f"({result.stopped.get(tampered, 'no payment')})")
    return result
