"""The payment connector's operator-facing sentences, Vietnamese and English side by side (rules prefixed
``payment.``), joined to the product's catalogue on import; used through ``gateway.kit.text/refusal/line``."""

from gateway.kit import add_messages, text

MESSAGES: dict[str, tuple[str, str]] = {
    # the CONFIRM callback's replies (MoTaLoi / message): "vi — en"
    "payment.reply.too_large": ("Bản tin quá lớn", "message too large"),
    "payment.reply.unreadable": ("Bản tin không đọc được", "unreadable message"),
    "payment.reply.forged": ("Mã xác thực không đúng", "wrong MaXacThuc"),
    "payment.reply.unknown": ("Mã tham chiếu không tồn tại", "unknown payment reference"),
    "payment.reply.no_transaction": ("Thiếu mã giao dịch", "no MaGiaoDich"),
    "payment.reply.after_settled": ("Đã ghi nhận", "recorded (payment already settled)"),
    "payment.reply.not_paid": ("Đã ghi nhận", "recorded (not paid)"),
    "payment.reply.mismatch": ("Số tiền không khớp", "amount mismatch"),
    "payment.reply.recorded": ("Thành công; biên lai sẽ được kiểm tra", "success; the receipt is verified next"),
    # reasons kept with a payment (operators read them in its detail)
    "payment.amount_mismatch": ("Số tiền thanh toán không khớp với số tiền yêu cầu",
                                "the amount paid differs from the amount requested"),
    "payment.receipt_rejected": ("Biên lai không qua kiểm tra chữ ký số; chưa báo cổng tỉnh",
                                 "the receipt failed signature verification; the provincial portal was not told"),
    # the platform's answers as read
    "payment.answer.unreadable": ("câu trả lời không đọc được", "unreadable answer"),
    "payment.answer.timeout": ("hết thời gian chờ ({kind})", "timeout ({kind})"),
    "payment.answer.connection": ("lỗi kết nối ({kind})", "connection error ({kind})"),
    "payment.answer.bad_receipt": ("biên lai không đọc được", "unreadable receipt"),
    # delivery outcomes (the destination's)
    "payment.no_fee": ("Hồ sơ không có khoản phí nào phải nộp", "the dossier asks for no fee"),
    "payment.not_carried": ("Loại gói tin này không gửi tới cổng thanh toán",
                            "this packet type does not go to the payment platform"),
    "payment.created_before": ("đã tạo trước: {reference}", "created before: {reference}"),
    "payment.refused": ("Cổng thanh toán từ chối: {message}", "the platform refused: {message}"),
    "payment.no_url": ("destinations.{name}.url chưa đặt (cả [payment].url)",
                       "destinations.{name}.url is not set (nor [payment].url): give the payment platform's address"),
    "payment.transform": ("thanh toán: {variant} {version}", "payment: {variant} {version}"),
    # what the platform shows the citizen (ThongTinGiaoDich / NoiDungThanhToan): Vietnamese only is sent
    "payment.fee_content": ("Nộp phí, lệ phí hồ sơ {dossier}", "fees of dossier {dossier}"),
    # logs
    "payment.log.amount_mismatch": ("thanh toán {reference}: số tiền không khớp", "payment {reference}: amount mismatch"),
    "payment.log.receipt_rejected": ("thanh toán {reference}: biên lai bị từ chối ({reason})",
                                     "payment {reference}: receipt rejected ({reason})"),
    "payment.log.settle_failed": ("thanh toán {reference}: xử lý biên lai lỗi, sẽ thử lại",
                                  "payment {reference}: settling failed, tried again"),
    "payment.log.round_failed": ("vòng xử lý biên lai lỗi", "payment settler: a round failed"),
    "payment.log.query_unanswered": ("thanh toán {reference}: chưa hỏi được cổng thanh toán ({code})",
                                     "payment {reference}: QUERY not answered ({code})"),
    "payment.log.reconcile_failed": ("vòng đối soát thanh toán lỗi", "payment reconciler: a round failed"),
    # the CLI
    "payment.cli.help": ("Thanh toán trực tuyến", "online payment."),
    "payment.cli.none": ("Không có khoản thanh toán nào", "no payment for this dossier"),
}
add_messages(MESSAGES)


def words(rule: str, **fields: str) -> str:
    """A reply's or an outcome's words: "vi — en"."""
    return " — ".join(text(rule, **fields))


def slash(rule: str, **fields: str) -> str:
    """An outcome's or an answer's words as the delivery log shows them: "vi / en"."""
    return " / ".join(text(rule, **fields))
