"""Acknowledgement receipts (biên nhận) the gateway issues and signs (signing's primitives, the packet model's BienNhan).

``issue_receipt`` builds the ``BienNhan`` packet for bytes the gateway received: which packet,
the SHA-256 of exactly those bytes, when (Vietnam time), the reception outcome and the
signature verdict. ``sign_receipt`` signs it as the receiver asked: XML-DSig over the whole
packet for XML, JWS over its canonical JSON for JSON.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, UTC
from typing import Literal

from gateway.packets import json_codec, xml_codec
from gateway.packets.bodies import BienNhan
from gateway.packets.envelope import GoiTin, NoiDung
from signing.jws import sign_jws, timestamp_jws
from signing.signer import Signer
from signing.trust import ZONE
from signing.xml_sign import sign_xml, timestamp_signature

ACCEPTED, DUPLICATE, REFUSED = 1, 2, 3
SignatureVerdict = Literal["passed", "failed", "indeterminate", "unsigned"]


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y%m%d%H%M%S")


def issue_receipt(received: bytes, packet_id: str, *, sender: str, recipient: str, result: int = ACCEPTED,
                  signature_verdict: SignatureVerdict = "unsigned", received_at: datetime | None = None,
                  note: str | None = None, receipt_id: str | None = None) -> GoiTin:
    """The receipt for ``received`` (the exact bytes that arrived), from ``sender`` (the gateway's
    agency code) to ``recipient`` (whoever sent the packet)."""
    now = datetime.now(UTC)
    received_at = received_at or now
    return GoiTin(
        MaGoiTin=receipt_id or str(uuid.uuid4()), LoaiGoiTin="BienNhan", PhienBan="1.0", NoiGui=sender,
        NoiNhan=recipient, ThoiGianGui=_timestamp(now), MaThamChieu=packet_id,
        NoiDung=NoiDung(BienNhan=BienNhan(
            MaGoiTinNhan=packet_id, BamSHA256=hashlib.sha256(received).hexdigest(),
            ThoiGianNhan=_timestamp(received_at), KetQua=result, KetQuaChuKy=signature_verdict, GhiChu=note)))


def sign_receipt(receipt: GoiTin, signer: Signer, encoding: Literal["xml", "json"] = "xml", *,
                 tsa_url: str | None = None, tsa_timeout: float = 10.0) -> bytes:
    """The signed receipt: XML with an enveloped XML-DSig, or a compact JWS over its canonical JSON.
    With ``tsa_url`` the receipt carries a signature timestamp from that TSA — XAdES in XML; in JSON a
    JAdES-style ``etsiU`` header, which takes the flattened JSON serialisation (a compact JWS has no
    unsigned header) — so it stays verifiable after the gateway's certificate expires
    (``signing.timestamps.TimestampError`` if the TSA fails)."""
    if encoding == "xml":
        signed = sign_xml(xml_codec.encode(receipt), signer)
        return timestamp_signature(signed, tsa_url, timeout=tsa_timeout) if tsa_url else signed
    compact = sign_jws(json_codec.encode(receipt), signer)
    return (timestamp_jws(compact, tsa_url, timeout=tsa_timeout) if tsa_url else compact).encode("ascii")
