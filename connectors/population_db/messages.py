"""The population database connector's sentences (Vietnamese, English), joined to the gateway's catalogue by
``gateway.kit.add_messages``; used through ``gateway.kit.text`` / ``refusal`` / ``line``."""

from gateway.kit import add_messages

MESSAGES: dict[str, tuple[str, str]] = {
    # --- the look-up API's refusals (inbound.py)
    "population_db.not_approved": ("Hệ thống “{client}” chưa được phê duyệt tra cứu CSDL quốc gia về dân cư.",
                                   "Client “{client}” is not approved for population database look-ups."),
    "population_db.not_utf8": ("Nội dung không phải UTF-8.", "The body is not UTF-8."),
    "population_db.dossier": ("Hệ thống gửi không được tra cứu cho hồ sơ {dossier}.",
                              "The caller may not look up citizens for dossier {dossier}."),
    "population_db.unavailable": ("CSDL quốc gia về dân cư tạm thời không phản hồi; hãy thử lại sau {seconds} giây.",
                                  "The population database is unavailable; try again in {seconds} s."),
    "population_db.refused": ("CSDL quốc gia về dân cư từ chối yêu cầu; cán bộ vận hành đã được ghi nhận lỗi.",
                              "The population database refused the request; the fault is logged for operators."),
    "population_db.route.lookup": ("Tra cứu thông tin công dân", "Look a citizen up in the population database"),
    "population_db.route.verify": ("Xác thực thông tin công dân", "Does this identity exist"),
    "population_db.log.breaker_opened": ("Ngắt mạch CSDL dân cư sau {failures} lỗi liên tiếp",
                                         "population database circuit breaker opened after {failures} failures"),
    # --- the caller's request (transform.py)
    "population_db.request.not_object": ("Nội dung phải là một đối tượng JSON.", "The body must be a JSON object."),
    "population_db.request.unsupported": ("Trường không được hỗ trợ: {field}.", "Unsupported field: {field}."),
    "population_db.request.twice": ("Trường {field} xuất hiện hai lần.", "Field {field} appears twice."),
    "population_db.request.not_string": ("{field} phải là chuỗi ký tự.", "{field} must be a string."),
    "population_db.request.purpose": (
        "Thiếu {field}: mỗi lần tra cứu phải nêu cán bộ, dịch vụ và hồ sơ phục vụ.",
        "Missing {field}: every look-up names the officer, the service and the dossier."),
    "population_db.request.one_identifier": ("Cần đúng một trong SoDinhDanh (12 chữ số) hoặc SoCMND (9 chữ số).",
                                             "Exactly one of SoDinhDanh (12 digits) or SoCMND (9 digits) is needed."),
    "population_db.request.digits": ("{field} phải gồm {digits} chữ số.", "{field} must be {digits} digits."),
    "population_db.request.name": ("Thiếu HoVaTen.", "Missing HoVaTen."),
    "population_db.request.birth": ("NgayThangNamSinh phải là yyyyMMdd, yyyy-MM-dd hoặc yyyy.",
                                    "NgayThangNamSinh must be yyyyMMdd, yyyy-MM-dd or yyyy."),
    # --- the command line (cli.py)
    "population_db.cli.help": ("CSDL quốc gia về dân cư", "population database"),
    "population_db.cli.account": ("tài khoản", "account"),
    "population_db.cli.month": ("tháng", "month"),
    "population_db.cli.operation": ("thao tác", "operation"),
    "population_db.cli.total": ("tổng", "total"),
    "population_db.cli.no_lookups": ("(chưa có lượt tra cứu nào)", "(no look-ups yet)"),
    "population_db.cli.no_client": ("Không có hệ thống “{name}”", "no client “{name}” (gateway clients list)"),
    "population_db.cli.allowed": ("Đã phê duyệt tra cứu", "approved for look-ups"),
    "population_db.cli.revoked": ("Đã thu hồi quyền tra cứu", "look-ups revoked"),
    "population_db.cli.approved": ("được tra cứu", "approved"),
    "population_db.cli.denied": ("không", "denied"),
}

add_messages(MESSAGES)
