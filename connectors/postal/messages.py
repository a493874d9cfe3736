"""The postal connector's operator-facing sentences, Vietnamese and English side by side (rules prefixed
``postal.``), joined to the product's catalogue on import; used through ``gateway.kit.text/line``."""

from gateway.kit import add_messages, line, text

MESSAGES: dict[str, tuple[str, str]] = {
    # the service's answers as read
    "postal.answer.unreadable": ("câu trả lời không đọc được", "unreadable answer"),
    "postal.answer.auth_refused": ("bị từ chối xác thực: {message}", "authentication refused: {message}"),
    "postal.answer.timeout": ("hết thời gian chờ ({kind})", "timeout ({kind})"),
    "postal.answer.connection": ("lỗi kết nối ({kind})", "connection error ({kind})"),
    "postal.answer.bad_page": ("trang theo dõi không đọc được", "unreadable tracking page"),
    "postal.answer.page_shape": ("trang theo dõi không đúng dạng", "tracking page of another shape"),
    "postal.answer.token": ("không lấy được mã truy cập: {reason}", "no access token: {reason}"),
    # delivery outcomes
    "postal.refused": ("Bưu chính từ chối {what}: {reason}", "the postal service refused {what}: {reason}"),
    "postal.what.order": ("đơn hàng", "the order"),
    "postal.what.cancel": ("huỷ đơn", "the cancellation"),
    "postal.nothing_to_do": ("Bưu chính không xử lý gói tin {kind} trạng thái {status} (kiểm tra [[routes.rules]])",
                             "the postal connector has nothing to do with this {kind} at status {status} "
                             "(check [[routes.rules]])"),
    "postal.ordered_before": ("đã đặt trước đó ({state}), không đặt lại", "ordered before ({state}), not ordered again"),
    "postal.no_shipment": ("không có vận đơn cần huỷ ({state})", "no shipment to cancel ({state})"),
    "postal.no_order": ("Bưu chính không có đơn {dossier} để huỷ", "the postal service has no order {dossier} to cancel"),
    "postal.none": ("không có", "none"),
    "postal.no_url": ("destinations.{name}.url chưa đặt (cả [postal].url)",
                      "destinations.{name}.url is not set (nor [postal].url): give the postal service's address"),
    "postal.transform": ("bưu chính: khách hàng {customer}, {statuses} mã trạng thái",
                         "postal: customer {customer}, {statuses} status codes"),
    "postal.no_sender": ('Chưa cấu hình người gửi cho cơ quan {agency} ([postal.senders."{agency}"])',
                         'no sender configured for agency {agency} ([postal.senders."{agency}"])'),
    "postal.no_receiver": ("Hồ sơ thiếu thông tin người nhận: {missing}", "the dossier lacks the receiver's {missing}"),
    "postal.no_codes": ("Thiếu mã tỉnh/huyện và chưa cấu hình người gửi cho cơ quan {agency}",
                        "no province or district code and no sender configured for agency {agency}"),
    # what the packets and orders carry (Vietnamese and English, as they did)
    "postal.officer": ("Bưu chính công ích", "public postal service"),
    "postal.sender_desc": ("Kết quả giải quyết thủ tục hành chính", "the result of an administrative procedure"),
    "postal.returned": ("Đã trả kết quả qua dịch vụ bưu chính công ích{waybill}", "result delivered by post{waybill}"),
    "postal.waybill": (" (vận đơn {code})", " (waybill {code})"),
    # the tracking poller
    "postal.lease_lost": ("mất quyền đọc luồng", "lease on the feed lost"),
    "postal.intake_later": ("cổng chưa nhận {what} ({reason})", "the intake said later ({reason}) for {what}"),
    "postal.no_originate": ("không có originate() để đưa trạng thái vận đơn vào cổng",
                            "postal: the worker gives no originate() to the tracking poller"),
    "postal.not_polled": ("chưa cấu hình bưu chính, không đọc vận đơn", "postal: no [postal].url — tracking not polled"),
    # the CLI
    "postal.cli.help": ("Bưu chính công ích", "public postal service."),
    "postal.cli.configuration": ("cấu hình không dùng được: {error}", "unusable configuration: {error}"),
    "postal.cli.where": ("địa chỉ: {url}  khách hàng: {customer}  access_token: {token}  OAuth: {oauth}",
                         "url: {url}  customer: {customer}  access_token: {token}  OAuth: {oauth}"),
    "postal.cli.senders": ("người gửi: {names}", "senders: {names}"),
    "postal.cli.cursor": ("con trỏ ({feed}): {cursor}", "cursor ({feed}): {cursor}"),
    "postal.set": ("có", "set"),
    "postal.not_set": ("CHƯA", "not set"),
}
add_messages(MESSAGES)


def slash(rule: str, **fields: object) -> str:
    """"vi / en": how the delivery log and the terminal show a sentence."""
    return line(rule, **fields)


def each(rule: str, **fields: object) -> str:
    """"vi / en" where a field may itself be a rule's sentence, given as ``(rule,)``: each language gets its own."""
    def one(lang: int) -> str:
        filled = {k: text(v[0])[lang] if isinstance(v, tuple) else v for k, v in fields.items()}
        return text(rule, **filled)[lang]
    return f"{one(0)} / {one(1)}"
