"""Value formats shared by the XML Schema, the JSON Schema and the typed model.

Each format is declared once here; ``schema_gen`` turns it into an XSD simple type
and a JSON Schema definition, and the ``Annotated`` aliases below give pydantic the
same constraints, so the three can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints


@dataclass(frozen=True)
class Format:
    """One value format: its schema name, constraints and how to describe it to a person."""

    name: str
    base: Literal["string", "integer"]
    vi: str
    en: str
    # XSD dialect, implicitly anchored; explicit ASCII classes only: \d, \s, \w differ between
    # XSD, ECMAScript (the JSON Schema) and Rust regex (the model).
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[int | str, ...] | None = None
    pii: bool = False  # values are masked in reports and logs

    @property
    def anchored_pattern(self) -> str | None:
        """The pattern as the JSON Schema and the model take it: anchored explicitly."""
        return None if self.pattern is None else f"^(?:{self.pattern})$"

    def pydantic(self) -> Any:
        """The pydantic constraint equivalent to this format."""
        if self.base == "string":
            return StringConstraints(
                pattern=self.anchored_pattern,
                min_length=self.min_length,
                max_length=self.max_length,
            )
        return Field(ge=self.minimum, le=self.maximum)


def _text(name: str, max_length: int, vi: str, en: str, *, pii: bool = False, min_length: int = 0) -> Format:
    return Format(name, "string", vi, en, min_length=min_length or None, max_length=max_length, pii=pii)


def _code(name: str, values: tuple[int, ...], vi: str, en: str) -> Format:
    return Format(name, "integer", vi, en, pattern="[0-9]{1,2}", enum=values)


# "Without spaces", spelt out: ``\s`` is four characters in XSD, about twenty-five in ECMAScript
# (with U+FEFF) and in Rust (with U+0085), so ``[^\s]`` gave a code three verdicts. An explicit
# class is read alike by all three; these four are XSD's own. (Adding the Unicode spaces made the
# XSD check of every packet 15-50 % slower: libxml2 tries a negated class range by range.)
_SPACE = " \\t\\n\\r"

_DATE = "[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"

UUID = Format("MaUUID", "string", "mã UUID (ví dụ 3f2b6c1e-8a4d-4b7e-9c21-5d0e7f9a1b23)",
              "a UUID (e.g. 3f2b6c1e-8a4d-4b7e-9c21-5d0e7f9a1b23)",
              pattern="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
BODY_TYPE = Format("LoaiGoiTin", "string", "loại gói tin (HoSo, TienDoXuLy, …)", "a packet type (HoSo, TienDoXuLy, …)",
                   enum=("HoSo", "TienDoXuLy", "ThuTucHanhChinh", "YeuCauThanhToan", "BienLaiThanhToan",
                         "VanDonBuuChinh", "TrangThaiVanDon", "PhanAnhKienNghi", "DanhGiaHaiLong", "BienNhan"))
VERSION = Format("PhienBan", "string", "số phiên bản dạng 1.0", "a version number such as 1.0",
                 pattern="[0-9]{1,3}(\\.[0-9]{1,3}){1,2}")
AGENCY = Format("MaDonVi", "string", "mã định danh cơ quan dạng ddd.dd.dd.Xdd (ví dụ 000.00.01.H22) hoặc mã ngắn (ví dụ G09.20)",
                "an agency code ddd.dd.dd.Xdd (e.g. 000.00.01.H22) or a short code (e.g. G09.20)",
                pattern="[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.[A-Z][0-9]{2}|[A-Z][0-9]{2}(\\.[0-9]{1,3}){0,3}", max_length=30)
DATETIME = Format("NgayGio", "string", "ngày giờ dạng yyyyMMddHHmmss (ví dụ 20241201083000)",
                  "a date-time yyyyMMddHHmmss (e.g. 20241201083000)", pattern=_DATE)
PROCEDURE = Format("MaTTHC", "string", "mã thủ tục hành chính dạng d.dddddd (ví dụ 1.005129), có thể kèm hậu tố địa phương",
                   "a procedure code d.dddddd (e.g. 1.005129), optionally with a local suffix",
                   pattern="[0-9]\\.[0-9]{6}(\\.[0-9A-Z]{1,6})*", max_length=50)
DOSSIER = Format("MaHoSo", "string", "mã hồ sơ không có khoảng trắng, tối đa 100 ký tự",
                 "a dossier code without spaces, at most 100 characters", pattern=f"[^{_SPACE}]+", max_length=100)
CODE = Format("Ma", "string", "mã không có khoảng trắng, tối đa 50 ký tự", "a code without spaces, at most 50 characters",
              pattern=f"[^{_SPACE}]+", max_length=50)
ID_NUMBER = Format("SoDinhDanh", "string", "số định danh 12 chữ số (CCCD) hoặc 9 chữ số (CMND)",
                   "a 12-digit citizen ID or a 9-digit old ID", pattern="[0-9]{9}|[0-9]{12}", pii=True)
DOCUMENT_NUMBER = Format("SoGiayTo", "string", "số giấy tờ: CCCD 12 số, CMND 9 số hoặc mã số thuế 10 hoặc 13 số",
                         "an ID number: 12-digit citizen ID, 9-digit old ID or a 10- or 13-digit tax code",
                         pattern="[0-9]{9}|[0-9]{10}|[0-9]{12}|[0-9]{10}-?[0-9]{3}", pii=True)
PHONE = Format("SoDienThoai", "string", "số điện thoại (chữ số, có thể có + ở đầu)", "a phone number (digits, optional leading +)",
               pattern="\\+?[0-9][0-9 .]{5,19}", pii=True)
EMAIL = Format("ThuDienTu", "string", "địa chỉ thư điện tử", "an e-mail address",
               pattern=f"[^@{_SPACE}]+@[^@{_SPACE}]+\\.[^@{_SPACE}]+", max_length=254, pii=True)
SHA256 = Format("BamSHA256", "string", "giá trị băm SHA-256 gồm 64 chữ số thập lục phân", "a SHA-256 hash of 64 hex digits",
                pattern="[0-9a-f]{64}")
VND = Format("SoTienVND", "integer", "số tiền VNĐ, số nguyên không âm", "an amount in VND, a non-negative integer",
             pattern="[0-9]{1,15}", minimum=0, maximum=999_999_999_999_999)
COUNT = Format("SoNguyen", "integer", "số nguyên không âm", "a non-negative integer", pattern="[0-9]{1,9}",
               minimum=0, maximum=999_999_999)
CONFIG_CODE = Format("MaDanhMuc", "integer", "mã danh mục (số nguyên từ 0 đến 99)", "a code-list value (integer 0 to 99)",
                     pattern="[0-9]{1,2}", minimum=0, maximum=99)
STATUS = _code("TrangThai", tuple(range(1, 11)), "mã trạng thái hồ sơ từ 1 đến 10", "a dossier status code from 1 to 10")
CHANNEL = _code("KenhThucHien", (1, 2, 3), "kênh thực hiện: 1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích",
                "a channel: 1 in person, 2 online, 3 public postal service")
RETURN_METHOD = _code("HinhThucTra", (0, 1), "hình thức trả kết quả: 0 tại cơ quan, 1 qua bưu chính",
                      "how the result is returned: 0 at the agency, 1 by post")
FLAG = _code("CoKhong", (0, 1), "giá trị 0 (không) hoặc 1 (có)", "0 (no) or 1 (yes)")
SHIPMENT_KIND = _code("LoaiVanDon", (1, 2), "loại vận đơn: 1 nhận hồ sơ, 2 trả kết quả",
                      "shipment kind: 1 collect a dossier, 2 return a result")
RECEIPT_RESULT = _code("KetQuaTiepNhan", (1, 2, 3), "kết quả: 1 đã tiếp nhận, 2 trùng lặp, 3 từ chối",
                       "outcome: 1 accepted, 2 duplicate, 3 refused")
SIGNATURE_VERDICT = Format("KetQuaChuKy", "string", "kết quả kiểm tra chữ ký: passed, failed, indeterminate hoặc unsigned",
                           "a signature verdict: passed, failed, indeterminate or unsigned",
                           enum=("passed", "failed", "indeterminate", "unsigned"))
URL = _text("DuongDan", 2000, "đường dẫn tối đa 2000 ký tự", "a link of at most 2000 characters")
NAME = _text("Ten", 500, "văn bản tối đa 500 ký tự", "text of at most 500 characters")
PERSON = _text("HoTen", 200, "họ tên tối đa 200 ký tự", "a name of at most 200 characters", pii=True)
ADDRESS = _text("DiaChi", 500, "địa chỉ tối đa 500 ký tự", "an address of at most 500 characters", pii=True)
TEXT = _text("VanBan", 4000, "văn bản tối đa 4000 ký tự", "text of at most 4000 characters")
PRIVATE_TEXT = _text("VanBanRieng", 4000, "văn bản tối đa 4000 ký tự", "text of at most 4000 characters", pii=True)
LONG_TEXT = _text("VanBanDai", 20000, "văn bản tối đa 20000 ký tự", "text of at most 20000 characters")

MaUUID = Annotated[str, UUID.pydantic(), UUID]
LoaiGoiTin = Annotated[str, Field(pattern="^(" + "|".join(str(v) for v in BODY_TYPE.enum or ()) + ")$"), BODY_TYPE]
PhienBan = Annotated[str, VERSION.pydantic(), VERSION]
MaDonVi = Annotated[str, AGENCY.pydantic(), AGENCY]
NgayGio = Annotated[str, DATETIME.pydantic(), DATETIME]
MaTTHC = Annotated[str, PROCEDURE.pydantic(), PROCEDURE]
MaHoSo = Annotated[str, DOSSIER.pydantic(), DOSSIER]
Ma = Annotated[str, CODE.pydantic(), CODE]
SoDinhDanh = Annotated[str, ID_NUMBER.pydantic(), ID_NUMBER]
SoGiayTo = Annotated[str, DOCUMENT_NUMBER.pydantic(), DOCUMENT_NUMBER]
SoDienThoai = Annotated[str, PHONE.pydantic(), PHONE]
ThuDienTu = Annotated[str, EMAIL.pydantic(), EMAIL]
BamSHA256 = Annotated[str, SHA256.pydantic(), SHA256]
SoTienVND = Annotated[int, VND.pydantic(), VND]
SoNguyen = Annotated[int, COUNT.pydantic(), COUNT]
MaDanhMuc = Annotated[int, CONFIG_CODE.pydantic(), CONFIG_CODE]
TrangThai = Annotated[int, Field(ge=1, le=10), STATUS]
KenhThucHien = Annotated[int, Field(ge=1, le=3), CHANNEL]
HinhThucTra = Annotated[int, Field(ge=0, le=1), RETURN_METHOD]
CoKhong = Annotated[int, Field(ge=0, le=1), FLAG]
LoaiVanDon = Annotated[int, Field(ge=1, le=2), SHIPMENT_KIND]
KetQuaTiepNhan = Annotated[int, Field(ge=1, le=3), RECEIPT_RESULT]
KetQuaChuKy = Annotated[str, Field(pattern="^(passed|failed|indeterminate|unsigned)$"), SIGNATURE_VERDICT]
DuongDan = Annotated[str, URL.pydantic(), URL]
Ten = Annotated[str, NAME.pydantic(), NAME]
# the schemas' own description (gateway/packets/schema_gen.py writes it into both generated files)
SCHEMA_DESCRIPTION = "Gói tin QCVN 120:2019/BTTTT của cổng kết nối — generated from gateway/packets; do not edit by hand."

HoTen = Annotated[str, PERSON.pydantic(), PERSON]
DiaChi = Annotated[str, ADDRESS.pydantic(), ADDRESS]
VanBan = Annotated[str, TEXT.pydantic(), TEXT]
VanBanRieng = Annotated[str, PRIVATE_TEXT.pydantic(), PRIVATE_TEXT]
VanBanDai = Annotated[str, LONG_TEXT.pydantic(), LONG_TEXT]
