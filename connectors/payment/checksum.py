"""Message authentication of the payment platforms (the domain brief, postal-payment.md).

National platform: ``MaXacThuc`` = lowercase hex SHA-256 of the message's fields joined by ``|``,
the shared secret last. PayGov-style: ``sha256hex(secretKey + accessKey + partnerCode + orderId +
requestCode + amount)``. Both are compared in constant time.
"""

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

CONFIRM_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich",
                  "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")
QUERY_FIELDS = ("LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD")  # QUERY and GET_BILL


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def ma_xac_thuc(message: Mapping[str, Any], fields: Sequence[str], secret: str) -> str:
    joined = "|".join([*(_text(message.get(name)) for name in fields), secret])
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def paygov_checksum(secret_key: str, access_key: str, partner_code: str, order_id: str, request_code: str,
                    amount: Any) -> str:
    joined = f"{secret_key}{access_key}{partner_code}{order_id}{request_code}{_text(amount)}"
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def same(presented: Any, expected: str) -> bool:
    """Constant time; a missing or non-text value never matches."""
    if not isinstance(presented, str):
        return False
    return hmac.compare_digest(presented.strip().lower().encode("utf-8"), expected.encode("utf-8"))
