"""The provincial portal connector's sentences (Vietnamese, English), joined to the gateway's catalogue by
``gateway.kit.add_messages``; used through ``gateway.kit.line``."""

from gateway.kit import add_messages

MESSAGES: dict[str, tuple[str, str]] = {
    "provincial_portal.not_reached": ("chưa xử lý vì gói trước bị từ chối", "not processed: an earlier packet was refused"),
    "provincial_portal.timeout": ("hết thời gian chờ ({kind})", "timeout ({kind})"),
    "provincial_portal.connection": ("lỗi kết nối ({kind})", "connection error ({kind})"),
    "provincial_portal.refused": ("Cổng tỉnh từ chối: {words}", "the provincial portal refused: {words}"),
    "provincial_portal.no_url": ("destinations.{name}.url chưa đặt", "destinations.{name}.url is not set: give the "
                                 "one-stop system's webhook"),
}

add_messages(MESSAGES)
