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


# The hardened readers' refusals (``signing.safe_input.Unreadable``): rule → (vi, en); the gateway's
# validation catalogue includes them as they are.
READING: dict[str, tuple[str, str]] = {
    "input.empty": ("Gói tin rỗng.", "The packet is empty."),
    "input.too_large": ("Gói tin có kích thước {size} byte, vượt quá giới hạn {limit} byte.",
                        "The packet is {size} bytes, over the limit of {limit} bytes."),
    "text.not_utf8": ("Gói tin không phải văn bản UTF-8 hợp lệ (byte lỗi ở vị trí {offset}); dữ liệu phải dùng Unicode theo TCVN 6909:2001.",
                      "The packet is not valid UTF-8 (bad byte at offset {offset}); text must be Unicode (TCVN 6909:2001)."),
    "text.not_unicode": ("Trường {field} chứa ký tự không hợp lệ trong Unicode (U+{code}).",
                         "Field {field} contains a character that is not valid Unicode text (U+{code})."),
    "xml.encoding": ("Gói tin XML phải mã hóa UTF-8, không phải {declared}.",
                     "An XML packet must be encoded in UTF-8, not {declared}."),
    "xml.doctype": ("Không chấp nhận khai báo DOCTYPE hoặc ENTITY trong gói tin (chống tấn công XXE, bom thực thể).",
                    "DOCTYPE and ENTITY declarations are refused (XXE and entity-expansion protection)."),
    "xml.too_deep": ("Tài liệu XML lồng nhau quá sâu.", "The XML document is nested too deeply."),
    "xml.malformed": ("Tài liệu XML không đúng cú pháp: {detail}", "The XML document is malformed: {detail}"),
    "json.malformed": ("Tài liệu JSON không đúng cú pháp: {detail}", "The JSON document is malformed: {detail}"),
    "json.too_deep": ("Tài liệu JSON lồng nhau quá sâu.", "The JSON document is nested too deeply."),
    "json.duplicate_key": ("Khóa \"{key}\" xuất hiện nhiều lần trong cùng một đối tượng JSON.",
                           "Key \"{key}\" appears more than once in the same JSON object."),
    "json.not_number": ("Giá trị {token} không được phép trong JSON.", "{token} is not allowed in JSON."),
    "json.not_object": ("Gói tin JSON phải là một đối tượng (GoiTin).", "A JSON packet must be an object (GoiTin)."),
}

# Python's words for a JSON syntax error (a regular expression) → how a one-stop official would read them.
JSON_PROBLEMS: dict[str, str] = {
    "Expecting value": "thiếu giá trị hoặc giá trị không hợp lệ (có thể thừa dấu phẩy trước dấu đóng ngoặc)",
    "Expecting property name enclosed in double quotes": "cần tên trường đặt trong dấu ngoặc kép (có thể thừa dấu phẩy ở cuối)",
    "Expecting ':' delimiter": "thiếu dấu hai chấm sau tên trường",
    "Expecting ',' delimiter": "thiếu dấu phẩy giữa hai phần tử",
    "Unterminated string starting at": "chuỗi văn bản thiếu dấu ngoặc kép đóng (tài liệu có thể bị cắt cụt)",
    "Invalid control character at": "chuỗi văn bản chứa ký tự điều khiển",
    r"Invalid \\escape": "chuỗi thoát bắt đầu bằng dấu \\ không hợp lệ",
    r"Invalid \\uXXXX escape": "mã \\uXXXX không hợp lệ",
    "Extra data": "có dữ liệu thừa sau đối tượng JSON",
}

# libxml2's words for the usual XML syntax errors → the same; ``{0}``… are the pattern's groups.
XML_PROBLEMS: dict[str, str] = {
    r"Premature end of data in tag (\S+)": "tài liệu kết thúc khi thẻ <{0}> chưa đóng (có thể bị cắt cụt)",
    r"Opening and ending tag mismatch: (\S+) line \d+ and (\S+)": "thẻ mở <{0}> lại được đóng bằng </{1}>",
    r"Couldn't find end of Start Tag (\S+)": "thẻ mở <{0}> thiếu dấu >",
    r"Extra content at the end of the document": "có nội dung thừa sau phần tử gốc",
    r"xmlParseEntityRef: no name": "ký tự & trong văn bản phải viết là &amp;",
    r"StartTag: invalid element name": "tên thẻ không hợp lệ (hoặc tài liệu bị cắt cụt)",
    r"Start tag expected, '<' not found": "không tìm thấy phần tử gốc",
    r"expected '>'": "thiếu dấu >",
    r"error parsing attribute name": "thẻ thiếu dấu > hoặc thuộc tính sai cú pháp",
}

# What a verification report says (details, checks not done, notes): rule → (vi, en), written "vi — en" by
# ``said``. A note's English may start with a stable key (``revocation:``, ``signing time:``) that programs match.
NOTES: dict[str, tuple[str, str]] = {
    "reading.at": ("dòng {line}, cột {column}: {detail}", "line {line}, column {column}: {detail}"),
    # signing.pades: updates after signing (pyhanko's modification levels)
    "pades.change.none": ("không có cập nhật sau khi ký", "no update after signing"),
    "pades.change.lta": ("chỉ thêm chữ ký số, dấu thời gian, dữ liệu xác thực",
                         "only signatures, timestamps, validation data added"),
    "pades.change.form": ("thêm chữ ký hoặc điền trường biểu mẫu", "signatures added or form fields filled"),
    "pades.change.annotations": ("thêm/sửa chú thích", "annotations changed"),
    "pades.change.other": ("nội dung bị thay đổi", "content changed"),
    # signing.pades: the file and each signature
    "pades.unreadable": ("không đọc được tệp PDF", "unreadable PDF"),
    "pades.broken_dss": ("kho dữ liệu xác thực (DSS) hỏng", "broken DSS"),
    "pades.no_signature": ("tệp PDF không có chữ ký", "the PDF has no signature"),
    "pades.unreadable_signature": ("không đọc được", "unreadable"),
    "pades.lenient": ("cấu trúc PDF không chuẩn, đọc ở chế độ khoan dung",
                      "nonstandard PDF structure, read leniently: {error}"),
    "pades.encrypted": ("tệp PDF được mã hoá bằng mật khẩu", "the PDF is encrypted with a password"),
    "pades.kind.timestamp": ("dấu thời gian tài liệu", "document timestamp"),
    "pades.kind.signature": ("chữ ký", "signature"),
    "pades.self_signed": ("chứng thư tự ký, không phải điểm tin cậy đã cấu hình", "self-signed, not a configured anchor"),
    "pades.tsa_untrusted": ("dấu thời gian: TSA không thuộc chuỗi tin cậy",
                            "timestamp: TSA not trusted ({tsa}); signing time not proven by it"),
    "pades.no_signing_time": ("thời điểm ký: không có dấu thời gian, thời điểm khai báo ngoài dung sai",
                              "signing time: no timestamp and no claimed time within tolerance; "
                              "chain checked at validation time"),
    "pades.digest": ("giá trị băm của vùng được ký không khớp", "digest over the byte ranges does not match"),
    "pades.coverage": ("chữ ký không bao phủ trọn phiên bản tài liệu (ByteRange bất thường)",
                       "the byte ranges do not cover a whole revision (gap, single range or uncovered tail)"),
    "pades.cms": ("chữ ký CMS không hợp lệ với khoá công khai của chứng thư", "CMS signature does not verify"),
    "pades.modified": ("tài liệu bị sửa sau khi ký", "modified after signing: {what}"),
    "pades.docmdp": ("thay đổi vượt quyền DocMDP của chữ ký",
                     "changes exceed the signature's DocMDP permissions: {what}"),
    "pades.not_compared": ("visible content: không so sánh được hình trang", "pages not compared: {error}"),
    "pades.visible_change": ("nội dung hiển thị thay đổi sau khi ký", "visible change after signing: {what}"),
    "pades.form_fields": ("trường biểu mẫu", "form fields: {fields}"),
    "pades.timestamp_broken": ("dấu thời gian của chữ ký hỏng", "the signature timestamp token does not verify"),
    "pades.weak_digest": ("thuật toán băm {algorithm} không được phép", "digest algorithm not allowed"),
    "pades.short_rsa": ("khoá RSA {bits} bit quá ngắn", "RSA key shorter than {minimum} bits"),
    "pades.curve": ("đường cong {curve} không được phép", "curve not allowed"),
    "pades.key_algorithm": ("thuật toán khoá {algorithm} không được phép", "key algorithm not allowed"),
    # signing.pdf_visual: where the pages differ, never the words (a document's text may name a citizen)
    "visual.content": ("nội dung trang thay đổi", "page content changed: pages {pages}"),
    "visual.rendering": ("hình hiển thị thay đổi", "rendering changed: pages {pages}"),
    "visual.text": ("chữ thay đổi", "text changed: pages {pages}"),
    "visual.no_poppler": ("pdftoppm/pdftotext không có", "poppler-utils not installed"),
    "visual.timeout": ("{tool} quá thời gian", "timed out after {seconds} s"),
    "visual.failed": ("{tool} lỗi", "failed: {error}"),
    # signing.timestamps, signing.trust
    "time.unusable": ("signing time: dấu thời gian không dùng được", "{what} not used: {error}"),
    "time.claimed": ("signing time: không có dấu thời gian tin cậy, dùng thời điểm người ký khai (trong dung sai)",
                     "no trusted timestamp; the signer's claimed time (within tolerance) was used"),
    "time.now": ("signing time: không có dấu thời gian tin cậy, kiểm tra tại thời điểm hiện tại",
                 "no trusted timestamp; validated at the time of verification"),
    "revocation.gap": ("revocation: không có CRL hoặc OCSP", "no CRL or OCSP for {subject} (issuer {issuer})"),
    "revocation.ocsp_unreachable": ("revocation: không hỏi được máy chủ OCSP", "{error}"),
    "revocation.valid_to_expiry": ("hợp lệ và chưa bị thu hồi đến khi hết hạn",
                                   "valid and not revoked up to its expiry {expiry}"),
    "revocation.after_proof_ocsp": ("revocation: {subject} bị thu hồi lúc {when} (OCSP), sau thời điểm ký đã được "
                                    "chứng minh", "revoked after the proven signing time"),
    "revocation.after_proof_crl": ("revocation: {subject} bị thu hồi lúc {when}, sau thời điểm ký đã được chứng minh",
                                   "revoked after the proven signing time"),
    "chain.pinned": ("chain: chứng thư được ghim trong cấu hình, không dựng chuỗi",
                     "certificate pinned by configuration, no path built"),
    "revocation.pinned": ("revocation: không kiểm tra với chứng thư được ghim", "not checked for a pinned certificate"),
    "key_usage.missing": ("key usage: chứng thư không có phần mở rộng keyUsage",
                          "the certificate has no keyUsage extension"),
    # signing.tsa_server, a test TSA
    "tsa.serving": ("TSA thử nghiệm", "test TSA: {url}"),
}


def text(rule: str, **fields: object) -> tuple[str, str]:
    """(vi, en) of ``rule`` with its fields filled in."""
    vi, en = NOTES[rule]
    return vi.format(**fields), en.format(**fields)


def said(rule: str, **fields: object) -> str:
    """``"<vi> — <en>"``, as the reports write their details and notes."""
    return "{} — {}".format(*text(rule, **fields))
