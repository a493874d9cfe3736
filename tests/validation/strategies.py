"""Hypothesis strategies for valid packets, derived from the field catalogue.

Every record's strategy is built from ``gateway.packets.catalogue.fields_of``: required
fields always, optional ones sometimes, lists non-empty, and each value from its
``Format`` — patterned strings via ``from_regex(fullmatch=True)``, free text as NFC
within its length limits, integers in range or from the code list.
"""

from functools import cache
from typing import Any
import unicodedata

from hypothesis import strategies as st
from pydantic import BaseModel

from gateway.packets.catalogue import fields_of
from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.packets.formats import Format

# Characters a packet may carry: XML 1.0 characters that are text (no C0/C1 controls other
# than tab, CR and LF, no surrogates, no non-characters). Vietnamese letters come up often.
_VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
_NOT_TEXT = ("Cc", "Cs", "Co", "Cn")
TEXT_CHARACTERS = st.one_of(st.characters(codec="utf-8", exclude_categories=_NOT_TEXT),
                            st.sampled_from(_VIETNAMESE + " \t\n\r"))
# Codes must hold no whitespace in any of the three regex dialects (XSD, ECMAScript in the
# JSON Schema, Rust in the model); they disagree on U+FEFF (see test_hostile).
CODE_CHARACTERS = st.one_of(st.characters(codec="utf-8", exclude_categories=_NOT_TEXT + ("Zs", "Zl", "Zp"),
                                          exclude_characters="\ufeff"),
                            st.sampled_from(_VIETNAMESE))
# A hand-written valid dossier packet: the base that hostile and CLI/API tests mutate.
VALID_HO_SO: dict[str, Any] = {
    "MaGoiTin": "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "LoaiGoiTin": "HoSo", "PhienBan": "1.0",
    "NoiGui": "000.00.01.H22", "NoiNhan": "DVCQG", "ThoiGianGui": "20241202100000",
    "NoiDung": {"HoSo": {
        "MaHoSo": "000.00.01.H22-241202-0007", "MaTTHC": "1.005129",
        "TenTTHC": "Cấp giấy phép kinh doanh dịch vụ lữ hành nội địa", "MaLinhVuc": "G15-DL01",
        "TenLinhVuc": "Lữ hành", "KenhThucHien": 2, "ChuHoSo": "Trần Văn Bình", "SoGiayToChuHoSo": "001090012345",
        "LoaiDoiTuong": 1, "NgayNopHoSo": "20241202081500", "NgayTiepNhan": "20241202090000",
        "NgayHenTra": "20241216170000", "TrangThaiHoSo": 2, "DonViXuLy": "Sở Du lịch",
        "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": "001090012345"}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Phí thẩm định", "Gia": 3000000, "LoaiPhiLePhi": 1}],
    }},
}

# Bounded for speed: limits up to 20,000 characters exist, and they are tested with fixtures.
TEXT_MAX = 60


def nfc_text(min_length: int, max_length: int) -> st.SearchStrategy[str]:
    return (st.text(TEXT_CHARACTERS, min_size=min_length, max_size=min(max_length, TEXT_MAX))
            .map(lambda text: unicodedata.normalize("NFC", text))
            .filter(lambda text: min_length <= len(text) <= max_length))


@cache
def value(fmt: Format) -> st.SearchStrategy[Any]:
    """Values of one format that the XSD, the JSON Schema and the model all accept."""
    if fmt.enum:
        return st.sampled_from(fmt.enum)
    if fmt.base == "integer":
        return st.integers(fmt.minimum if fmt.minimum is not None else 0,
                           fmt.maximum if fmt.maximum is not None else 10**9)
    if fmt.pattern:
        strings = st.from_regex(fmt.pattern, fullmatch=True, alphabet=CODE_CHARACTERS)
        low, high = fmt.min_length or 0, fmt.max_length
        # Codes too must be NFC (e.g. U+F900 is not): the gateway would normalise them, with a warning.
        return strings.filter(lambda s: low <= len(s) and (high is None or len(s) <= high)
                              and unicodedata.is_normalized("NFC", s))
    return nfc_text(fmt.min_length or 0, fmt.max_length or TEXT_MAX)


@cache
def record(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON-shaped data of one record: required fields always, optional fields sometimes."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for spec in fields_of(model):
        strategy = st.deferred(lambda r=spec.record: record(r)) if spec.record else value(spec.format)
        if spec.repeated:
            strategy = st.lists(strategy, min_size=1, max_size=2)
        (required if spec.required else optional)[spec.name] = strategy
    return st.fixed_dictionaries(required, optional=optional)


def packet_data(body_type: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A whole GoiTin as JSON-shaped data; LoaiGoiTin names the body it carries."""
    names = st.just(body_type) if body_type else st.sampled_from(sorted(BODY_TYPES))

    def envelope(name: str) -> st.SearchStrategy[dict[str, Any]]:
        fixed = {"LoaiGoiTin": st.just(name), "NoiDung": record(BODY_TYPES[name]).map(lambda body: {name: body})}
        values = [spec for spec in fields_of(GoiTin) if spec.name not in fixed]
        return st.fixed_dictionaries(
            fixed | {spec.name: value(spec.format) for spec in values if spec.required},
            optional={spec.name: value(spec.format) for spec in values if not spec.required})

    return names.flatmap(envelope)


def packets(body_type: str | None = None) -> st.SearchStrategy[GoiTin]:
    return packet_data(body_type).map(lambda data: GoiTin.model_validate(data, strict=True))
