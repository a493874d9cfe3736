"""The answer to an accepted packet: the BienNhan receipt (built by ``gateway.receipt.biennhan``) plus
the facts a sender's system needs without parsing it (packet id, SHA-256, received time, routes).

The receipt follows what the store kept — packet id, hash, received time, routes — so a
resend of the same bytes gets the same facts back (KetQua 2: duplicate) under the same
receipt id. Signing is a seam, ``ReceiptSigner``: with a key in ``[signing]`` the BienNhan is
signed (XML-DSig for XML senders, JWS for JSON senders); without one it is not, and says so.
"""

from dataclasses import dataclass
import json
import logging
from typing import Any, Protocol
import uuid
from zoneinfo import ZoneInfo

from gateway.config import Config, ConfigError
from gateway.messages import text
from gateway.packets import json_codec, xml_codec
from gateway.packets.envelope import GoiTin
from gateway.receipt.biennhan import ACCEPTED, DUPLICATE, SignatureVerdict, issue_receipt, sign_receipt
from gateway.store.api import AcceptResult
from gateway.validate.pipeline import Encoding
from signing.signer import KeySigner, Signer, SignerError
from signing.timestamps import TimestampError

log = logging.getLogger(__name__)

# Receipt ids derive from the packet id, so every answer about one packet names the same receipt.
RECEIPT_NAMESPACE = uuid.UUID("5b0e7c1a-3f4d-5a8e-9c2b-61d1e0c4a7f3")


class ReceiptSigner(Protocol):
    """Turns the BienNhan into the bytes sent back, signed or not."""

    @property
    def name(self) -> str:  # what the answer reports as the receipt's signature: "unsigned", "xmldsig/jws"
        ...

    def sign(self, receipt: GoiTin, encoding: Encoding) -> bytes: ...


class UnsignedReceipts:
    """No signing key configured: the receipt is not signed and the answer says so."""

    name = "unsigned"

    def sign(self, receipt: GoiTin, encoding: Encoding) -> bytes:
        return (xml_codec.encode if encoding == "xml" else json_codec.encode)(receipt)


@dataclass(frozen=True)
class SignedReceipts:
    """The gateway's own key (``[signing] key/cert`` or ``pkcs12``); with ``[signing] tsa_url`` receipts
    also carry an RFC 3161 signature timestamp (a JSON receipt is then a flattened JSON JWS). The packet is already kept when the receipt
    is made, so a TSA that fails costs the timestamp (logged), never the answer."""

    signer: Signer
    name: str = "xmldsig/jws"
    tsa_url: str | None = None
    tsa_timeout: float = 10.0

    def sign(self, receipt: GoiTin, encoding: Encoding) -> bytes:
        if self.tsa_url:
            try:
                return sign_receipt(receipt, self.signer, encoding, tsa_url=self.tsa_url, tsa_timeout=self.tsa_timeout)
            except TimestampError as exc:
                log.warning("receipt %s not timestamped: %s", receipt.MaGoiTin, exc)
        return sign_receipt(receipt, self.signer, encoding)


def gateway_signer(config: Config) -> Signer | None:
    """The gateway's own key (``[signing] key/cert`` or ``pkcs12``): receipts, audit checkpoints, evidence
    bundles; None when none is configured."""
    section = config.section("signing")
    if not (section.get("pkcs12") or (section.get("key") and section.get("cert"))):
        return None
    try:
        return KeySigner.from_config(config)
    except SignerError as exc:
        raise ConfigError(f"signing: {exc}") from exc


@dataclass(frozen=True)
class Tsa:
    """``[signing] tsa_url``: the RFC 3161 authority that timestamps receipts and audit checkpoints."""

    url: str
    timeout: float = 10.0


def configured_tsa(config: Config) -> Tsa | None:
    section = config.section("signing")
    url = str(section.get("tsa_url") or "") or None
    if url is None:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError("signing.tsa_url must be an http(s) URL")
    return Tsa(url, float(section.get("tsa_timeout_seconds", 10)))


def receipt_signer(config: Config) -> ReceiptSigner:
    signer = gateway_signer(config)
    if signer is None:
        return UnsignedReceipts()
    tsa = configured_tsa(config)
    return SignedReceipts(signer, tsa_url=tsa.url if tsa else None, tsa_timeout=tsa.timeout if tsa else 10.0)


@dataclass(frozen=True)
class Receipt:
    result: AcceptResult
    document: bytes  # the BienNhan in the sender's encoding: XML (signed or not), JSON, or a compact JWS
    signed_by: str
    signature_verdict: str = "unsigned"  # the sender's signature, as the verify step found it

    def to_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        received = self.result.received_at.astimezone(zone)
        duplicate = self.result.duplicate
        routes = ", ".join(self.result.destinations)
        said = text("receipt.duplicate") if duplicate else text("receipt.accepted", routes=routes)
        document = self.document.decode("utf-8")
        return {
            "KetQua": "duplicate" if duplicate else "accepted",
            "MaGoiTin": self.result.packet_id,
            "BamSHA256": self.result.sha256,
            "ThoiGianNhan": received.isoformat(timespec="milliseconds"),
            "NoiNhan": self.result.destinations,
            "ChuKyBienNhan": self.signed_by,
            "KetQuaChuKy": self.signature_verdict,
            "message_vi": said[0],
            "message_en": said[1],
            "BienNhan": json.loads(document) if document.startswith("{") else document,
        }


def receipt_note(routes: str) -> str:
    """The receipt's own note (GhiChu), in Vietnamese as the receipt is written."""
    return text("receipt.note", routes=routes)[0]


def build_receipt(result: AcceptResult, packet: GoiTin, data: bytes, signature_verdict: SignatureVerdict,
                  encoding: Encoding, signer: ReceiptSigner | None = None) -> Receipt:
    """The receipt for ``data`` (the bytes received; on a duplicate, identical to the original's)."""
    signer = signer or UnsignedReceipts()
    routes = ", ".join(result.destinations) or "—"
    receipt = issue_receipt(
        data, result.packet_id, sender=packet.NoiGui, recipient=packet.NoiGui,
        result=DUPLICATE if result.duplicate else ACCEPTED, signature_verdict=signature_verdict,
        received_at=result.received_at, receipt_id=str(uuid.uuid5(RECEIPT_NAMESPACE, result.stored_id or result.packet_id)),
        note=receipt_note(routes))
    return Receipt(result, signer.sign(receipt, encoding), signer.name, signature_verdict)
