"""Vietnamese first: a short Vietnamese statement of each reason code, put before the English detail."""

from signing.report import Reason

REASON_VI: dict[Reason, str] = {
    Reason.OK: "chữ ký hợp lệ",
    Reason.HASH_FAILURE: "dữ liệu đã ký bị thay đổi (sai giá trị băm)",
    Reason.SIG_CRYPTO_FAILURE: "giá trị chữ ký không khớp với khóa của chứng thư",
    Reason.NO_CERTIFICATE_CHAIN_FOUND: "không dựng được chuỗi chứng thư đến điểm tin cậy đã cấu hình",
    Reason.REVOKED: "chứng thư đã bị thu hồi",
    Reason.EXPIRED: "chứng thư đã hết hạn tại thời điểm ký",
    Reason.NOT_YET_VALID: "chứng thư chưa có hiệu lực tại thời điểm ký",
    Reason.CRYPTO_CONSTRAINTS_FAILURE: "thuật toán hoặc độ dài khóa không được chấp nhận",
    Reason.FORMAT_FAILURE: "định dạng chữ ký hoặc tài liệu không hợp lệ",
    Reason.MODIFIED_AFTER_SIGNING: "tài liệu bị sửa sau khi ký",
    Reason.KEY_USAGE_FAILURE: "mục đích sử dụng khóa không cho phép ký",
    Reason.POLICY_FAILURE: "chữ ký trái chính sách của cổng",
    Reason.REVOCATION_UNKNOWN: "không xác định được tình trạng thu hồi",
    Reason.NO_SIGNATURE: "tài liệu không có chữ ký",
    Reason.TRY_LATER: "chưa kiểm tra được, thử lại sau",
}


def bilingual(reason: Reason, detail_en: str) -> str:
    """``"<Vietnamese statement> — <English detail>"``; the statement alone when there is no detail."""
    vi = REASON_VI.get(reason, "")
    return f"{vi} — {detail_en}" if detail_en and reason is not Reason.OK else (detail_en or "")
