"""Every rule code the validator reports, with its Vietnamese and English message.

Rule codes are stable: senders and operators may match on them. Messages are
templates filled with the field, the expected format and the values involved.
"""

from dataclasses import dataclass
from typing import Any

from signing.safe_input import MESSAGES as READING_MESSAGES

MESSAGES: dict[str, tuple[str, str]] = {
    # well-formedness: the hardened readers' own (signing.safe_input), then the request's and the text's
    **READING_MESSAGES,
    "input.timeout": ("Gửi nội dung quá chậm: chưa nhận xong sau {seconds} giây.",
                      "The body was sent too slowly: not complete after {seconds} s."),
    "text.bidi": ("Trường {field} chứa ký tự điều khiển hướng chữ (U+{code}), có thể dùng để giả mạo cách hiển thị.",
                  "Field {field} contains a bidirectional control character (U+{code}), usable to spoof how text is displayed."),
    "text.bidi_removed": ("Trường {field} chứa ký tự điều khiển hướng chữ (U+{code}); cổng đã bỏ các ký tự này.",
                          "Field {field} contained bidirectional control characters (U+{code}); the gateway removed them."),
    "input.content_type": ("Không hỗ trợ kiểu nội dung {content_type}; hãy gửi application/xml hoặc application/json.",
                           "Content type {content_type} is not supported; send application/xml or application/json."),
    "text.nfc": ("Trường {field} gõ dấu tiếng Việt dạng tổ hợp; cổng đã chuyển về dạng dựng sẵn (NFC, TCVN 6909:2001), nội dung không đổi.",
                 "Field {field} used combining Vietnamese diacritics; the gateway converted it to precomposed form (NFC, TCVN 6909:2001) without changing its meaning."),
    "xml.namespace": ("Phần tử gốc phải là GoiTin trong không gian tên {namespace}, không phải {found}.",
                      "The root element must be GoiTin in namespace {namespace}, not {found}."),
    # schema
    "schema.required": ("Thiếu trường bắt buộc {field}.", "Required field {field} is missing."),
    "schema.unknown_field": ("Trường {field} không có trong cấu trúc gói tin; hãy bỏ trường này hoặc kiểm tra lại tên trường (phân biệt chữ hoa, chữ thường).",
                             "Field {field} is not part of the packet structure; leave it out or check its name (case matters)."),
    "schema.type": ("Trường {field} phải là {expected_vi}.", "Field {field} must be {expected_en}."),
    "schema.format": ("Trường {field} không đúng định dạng: cần {expected_vi}.",
                      "Field {field} has the wrong format: expected {expected_en}."),
    "schema.max_length": ("Trường {field} dài hơn giới hạn {limit} ký tự.", "Field {field} is longer than {limit} characters."),
    "schema.min_length": ("Trường {field} không được để trống.", "Field {field} must not be empty."),
    "schema.code": ("Trường {field} có giá trị không thuộc danh mục: cần {expected_vi}.",
                    "Field {field} has a value outside its code list: expected {expected_en}."),
    "schema.range": ("Trường {field} nằm ngoài khoảng cho phép: cần {expected_vi}.",
                     "Field {field} is out of range: expected {expected_en}."),
    "schema.empty_list": ("Danh sách {field} không được rỗng; hãy bỏ trường nếu không có phần tử.",
                          "List {field} must not be empty; leave the field out instead."),
    "schema.body": ("NoiDung phải chứa đúng một nội dung (HoSo, TienDoXuLy, ThuTucHanhChinh, …).",
                    "NoiDung must hold exactly one body (HoSo, TienDoXuLy, ThuTucHanhChinh, …)."),
    "schema.order": ("Trường {field} không đúng vị trí: theo thứ tự của lược đồ, tại đây phải là {expected}.",
                     "Field {field} is out of place: in the schema's order, {expected} must come here."),
    "schema.structure": ("Cấu trúc không đúng lược đồ: {detail}", "The structure does not match the schema: {detail}"),
    # semantic
    "semantic.body_type": ("LoaiGoiTin là {declared} nhưng NoiDung chứa {actual}.",
                           "LoaiGoiTin says {declared} but NoiDung holds {actual}."),
    "semantic.date_invalid": ("Trường {field} ghi một ngày không có trên lịch (ví dụ 30/02, 31/04 hoặc 29/02 của năm không nhuận).",
                              "Field {field} holds a date that is not on the calendar (e.g. 30 February, 31 April, or 29 February of a non-leap year)."),
    "semantic.date_order": ("{field} ({value}) không được sớm hơn {other} ({other_value}).",
                            "{field} ({value}) must not be earlier than {other} ({other_value})."),
    "semantic.future_time": ("{field} ({value}) ở thời điểm tương lai so với đồng hồ của cổng.",
                             "{field} ({value}) is in the future by the gateway's clock."),
    "semantic.required_for_status": ("Hồ sơ ở trạng thái {status} ({status_name}) phải có {field}.",
                                     "A dossier in status {status} ({status_name}) must have {field}."),
    "semantic.code_list": ("Trường {field} có mã {value} không thuộc danh mục cấu hình ({allowed}).",
                           "Field {field} has code {value}, not in the configured list ({allowed})."),
    "semantic.id_digits": ("Số định danh có LoaiDinhDanh {kind} phải gồm đúng {digits} chữ số; hãy kiểm tra lại LoaiDinhDanh hoặc SoDinhDanh.",
                           "An identifier with LoaiDinhDanh {kind} must have exactly {digits} digits; check LoaiDinhDanh or SoDinhDanh."),
    "semantic.citizen_id": ("Chủ hồ sơ là công dân nên SoGiayToChuHoSo phải là CCCD 12 số hoặc CMND 9 số.",
                            "The owner is a citizen, so SoGiayToChuHoSo must be a 12-digit or 9-digit ID."),
    "semantic.amount_mismatch": ("SoTien ({value}) khác tổng các khoản phí, lệ phí ({total}).",
                                 "SoTien ({value}) differs from the sum of the fees ({total})."),
    "semantic.transition": ("Hồ sơ {dossier} chuyển từ trạng thái {previous} ({previous_name}) sang {status} ({status_name}), không có trong sơ đồ chuyển trạng thái.",
                            "Dossier {dossier} moves from status {previous} ({previous_name}) to {status} ({status_name}), which the transition graph does not allow."),
    "semantic.after_terminal": ("Hồ sơ {dossier} đã ở trạng thái kết thúc {previous} ({previous_name}) nhưng lại nhận trạng thái {status} ({status_name}); thường là lỗi của hệ thống gửi.",
                                "Dossier {dossier} already reached the final status {previous} ({previous_name}) but now reports {status} ({status_name}); usually a bug in the sender."),
    "semantic.local_procedure": ("MaTTHC {value} là mã địa phương; cần ánh xạ sang mã quốc gia trước khi đồng bộ.",
                                 "MaTTHC {value} is a local code; it must be mapped to the national code before syncing."),
}


@dataclass(frozen=True, slots=True)
class Label:
    """A value with a Vietnamese and an English form; each message shows its own language's."""

    vi: str
    en: str

    @classmethod
    def parse(cls, text: str) -> "Label":
        """Configured labels read "Vietnamese — English" (defaults.toml); either half may stand alone."""
        vi, _, en = text.partition(" — ")
        return cls(vi, en or vi)

    @classmethod
    def listing(cls, labels: dict[int, str]) -> "Label":
        """``{1: "Công dân — citizen"}`` → ``1: Công dân`` / ``1: citizen``."""
        parsed = {code: cls.parse(text) for code, text in labels.items()}
        return cls(", ".join(f"{code}: {label.vi}" for code, label in parsed.items()),
                   ", ".join(f"{code}: {label.en}" for code, label in parsed.items()))


# the kinds of value a schema message names as expected ({expected_vi}/{expected_en})
KINDS: dict[str, Label] = {
    "integer": Label("một số nguyên chỉ gồm chữ số, không có dấu chấm hay dấu phẩy (trong JSON không đặt trong dấu ngoặc kép)",
                     "an integer of digits only, without dots or commas (in JSON, not in quotes)"),
    "string": Label("một chuỗi văn bản (trong JSON đặt trong dấu ngoặc kép)", "a text string (in JSON, in quotes)"),
    "list": Label("một danh sách", "a list"),
    "object": Label("một đối tượng có các trường con", "an object with fields"),
}


def message(rule: str, **values: Any) -> tuple[str, str]:
    vi, en = MESSAGES[rule]
    if any(isinstance(value, Label) for value in values.values()):
        return (vi.format(**{k: v.vi if isinstance(v, Label) else v for k, v in values.items()}),
                en.format(**{k: v.en if isinstance(v, Label) else v for k, v in values.items()}))
    return vi.format(**values), en.format(**values)
