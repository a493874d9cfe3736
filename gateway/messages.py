"""What the API and the CLI tell senders and operators when they refuse or report, Vietnamese and English side
by side: rule → (vi, en), with ``{fields}`` filled in by ``text``. The validation messages are in
``gateway.validate.messages``, the console's in ``gateway.console.catalogue``.

Rule codes are stable (senders may match on ``error``); the sentences may be reworded here, in one place.
"""

from collections.abc import Mapping
from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # --- the API: authentication and permissions (gateway.receive.auth, .ownership, .evidence)
    "auth.missing": ("Thiếu khoá truy cập (Authorization: Bearer … hoặc X-API-Key).",
                     "Missing credentials (Authorization: Bearer … or X-API-Key)."),
    "auth.invalid": ("Khoá truy cập không hợp lệ.", "Invalid credentials."),
    "auth.locked": ("Tạm khoá do xác thực sai nhiều lần; hãy thử lại sau.",
                    "Locked after repeated failed authentication; try again later."),
    "auth.agency": ("Hệ thống “{client}” không được gửi gói tin thay cho cơ quan {agency}.",
                    "Client “{client}” may not send packets for agency {agency}."),
    "auth.type": ("Hệ thống “{client}” không được gửi loại gói tin {packet_type}.",
                  "Client “{client}” may not send packets of type {packet_type}."),
    "auth.dossier": ("Hệ thống gửi không được phép thao tác trên hồ sơ {dossier}.",
                     "The sender may not act on dossier {dossier}."),
    "auth.evidence": ("Hệ thống “{client}” không được lấy gói bằng chứng.",
                      "Client “{client}” may not export evidence bundles."),
    "evidence.not_found": ("Không có hồ sơ {dossier}.", "No dossier {dossier}."),
    # --- the offline bundle verifier (gateway.evidence.check): a receipt's RFC 3161 timestamp token
    "evidence.receipt_tst": ("dấu thời gian {index}", "timestamp token {index}"),
    "evidence.receipt_tst_passed": ("dấu thời gian của biên nhận hợp lệ, chữ ký có từ {at}",
                                    "the receipt's timestamp holds: its signature existed at {at}"),
    "evidence.receipt_tst_unchecked": ("biên nhận có dấu thời gian, chưa kiểm tra (cần --tsa-trust)",
                                       "the receipt has a timestamp token, not checked (no --tsa-trust given)"),
    "evidence.receipt_tst_failed": ("dấu thời gian của biên nhận không hợp lệ: {why}",
                                    "the receipt's timestamp token does not hold: {why}"),
    # --- the API: the intake (gateway.receive.intake, .limits)
    "limit.too_many": ("Vượt quá giới hạn yêu cầu; hãy thử lại sau {seconds} giây.",
                        "Too many requests; try again in {seconds} s."),
    "route.none": ("Không có nơi nhận nào được cấu hình cho gói tin {packet_type} này.",
                   "No destination is configured for this {packet_type} packet."),
    "packet.conflict": ("Mã gói tin {packet_id} đã được dùng cho một nội dung khác; hãy tạo MaGoiTin mới.",
                        "Packet id {packet_id} was already used for other content; use a new MaGoiTin."),
    "store.unavailable": ("Chưa lưu được gói tin (kho dữ liệu tạm thời không sẵn sàng); hãy gửi lại sau.",
                          "The packet was not stored (the store is unavailable); send it again later."),
    # --- the CLI (gateway.cli): printed as "vi / en" by ``line``
    "cli.configuration": ("Cấu hình không dùng được", "unusable configuration: {error}"),
    "cli.no_destination": ("Không có đích", "no such destination: {names}"),
    "cli.name_with_processes": ("--name đặt tên cho một tiến trình", "--name names one process: not with --processes"),
    "cli.filter": ("Bộ lọc không hợp lệ", "invalid filter: {error}"),
    "cli.no_job": ("Không có việc", "no such job: {job}"),
    "cli.replay_confirm": ("Chạy lại với --yes để gửi", "run again with --yes to replay."),
    "cli.paused": ("Đã tạm dừng", "paused: {name} ({reason})"),
    "cli.resumed": ("Đã mở lại", "resumed: {name}"),
    # gateway/cli/clients.py
    "cli.unknown_types": ("Loại gói tin không có: {types}", "unknown packet types: {types}"),
    "cli.agency_required": ("Cần --agency (hoặc --agency '*' cho mọi cơ quan)", "--agency is required ('*' for every agency)"),
    "cli.client_exists": ("Đã có hệ thống {name}", "client {name} exists (rotate-key gives it a new key)"),
    "cli.no_client": ("Không có hệ thống {name}", "no client {name}"),
    "cli.short_password": ("Mật khẩu cần ít nhất 12 ký tự", "a password needs at least 12 characters"),
    # gateway/cli/db.py
    "cli.backup_sqlite_only": ("Sao lưu/khôi phục bằng lệnh này chỉ dành cho SQLite; với PostgreSQL dùng pg_dump/pg_restore",
                               "backup/restore here is for SQLite only; for PostgreSQL use pg_dump/pg_restore"),
    "cli.not_a_gateway_db": ("{path} không phải cơ sở dữ liệu của cổng kết nối ({error})",
                             "{path} is not a gateway database ({error})"),
    "cli.damaged_db": ("{path} bị hỏng: {verdict}", "{path} is damaged: {verdict}"),
    "cli.no_database": ("Không có cơ sở dữ liệu {path}", "no database at {path}"),
    "cli.file_exists": ("{path} đã tồn tại; thêm --force để ghi đè", "{path} exists; add --force to overwrite"),
    "cli.target_holds_data": ("{path} đang có dữ liệu; dừng cổng kết nối rồi thêm --force để ghi đè",
                              "{path} holds a database; stop the gateway, then add --force to overwrite it"),
    "cli.duration": ("Khoảng thời gian không hợp lệ: {text} (ví dụ 30d, 12h)", "invalid duration: {text} (e.g. 30d, 12h)"),
    "cli.purge_one_of": ("Chọn đúng một trong --dossier hoặc --delivered-older-than",
                         "give exactly one of --dossier or --delivered-older-than"),
    # gateway/cli/clients.py, operators.py: accounts and keys
    "cli.password_prompt": ("Mật khẩu", "password: "),
    "cli.key_shown_once": ("Khoá chỉ hiện MỘT lần, hãy chuyển ngay cho hệ thống gửi",
                           "the key is shown ONCE, hand it over now:"),
    "cli.client_suspended": ("Đã tạm dừng", "suspended: {name}"),
    "cli.client_resumed": ("Đã cho hoạt động lại", "resumed: {name}"),
    "cli.state_suspended": ("TẠM DỪNG", "suspended"),
    "cli.state_active": ("hoạt động", "active"),
    "cli.operator_created": ("Đã tạo", "created {username} ({role}; {agencies})"),
    "cli.one_time_password": ("Mật khẩu tạm (đổi ở lần đăng nhập đầu)",
                              "one-time password (change at first login): {password}"),
    "cli.invalid_month": ("Tháng không hợp lệ", "invalid month: {value} (YYYY-MM)"),
    # gateway/cli/schemas.py
    "cli.schema_stale": ("lỗi thời", "out of date: {path}"),
    "cli.schema_written": ("đã ghi", "wrote {path}"),
    # gateway/cli/lookups.py
    "cli.lookup_not_audited": ("Không ghi được nhật ký kiểm toán, không tra cứu",
                               "the look-up could not be audited, not run: {error}"),
    # logs (gateway/cli/worker.py, gateway/api.py): "vi / en" by ``line``
    "log.destination_not_delivered": ("Đích không chuyển tiếp được",
                                      "destination {name} not delivered: {error}"),
    "log.client_hung_up": ("máy khách ngắt kết nối giữa chừng", "client hung up during {method} {path}"),
}


def add_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Join a connector's own sentences (its folder's ``messages.py``, rules prefixed with its name) to the
    catalogue, so ``text``/``refusal``/``line`` find them; a rule defined twice with other words is an error."""
    for rule, pair in messages.items():
        if MESSAGES.setdefault(rule, pair) != pair:
            raise ValueError(f"message rule {rule!r} defined twice")


def text(rule: str, **fields: Any) -> tuple[str, str]:
    """(vi, en) of ``rule`` with its fields filled in."""
    vi, en = MESSAGES[rule]
    return vi.format(**fields), en.format(**fields)


def refusal(rule: str, **fields: Any) -> dict[str, str]:
    """The API's refusal body: ``{"error": rule, "message_vi": …, "message_en": …}``."""
    vi, en = text(rule, **fields)
    return {"error": rule, "message_vi": vi, "message_en": en}


def line(rule: str, **fields: Any) -> str:
    """One line for the terminal: "vi / en"."""
    return " / ".join(text(rule, **fields))
