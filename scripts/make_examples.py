"""Regenerates the example packets and the invalid fixtures from the authored examples.

The valid examples are authored once, as ``examples/<Type>.json``; this script reads
each into the typed model and writes both encodings from it (``json_codec`` and
``xml_codec.encode(pretty=True)``), so the two are equivalent by construction. The
broken packets (``examples/invalid/`` for the demo, ``tests/fixtures/invalid/`` for the
tests) are small edits of the valid ones, listed below with what each breaks.

    .venv/bin/python scripts/make_examples.py          # write what changed
    .venv/bin/python scripts/make_examples.py --check  # exit 1 if a file is stale
"""

from __future__ import annotations

from collections.abc import Callable
import copy
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import sys
from typing import Any
import unicodedata

from lxml import etree

from gateway.packets import json_codec, xml_codec
from gateway.packets.envelope import BODY_TYPES, GoiTin
from gateway.packets.schema_gen import NAMESPACE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DEMO_INVALID = EXAMPLES / "invalid"
FIXTURES_INVALID = ROOT / "tests" / "fixtures" / "invalid"

Data = dict[str, Any]


# --- valid examples ---------------------------------------------------------------------

def authored(body_type: str) -> Data:
    return json.loads((EXAMPLES / f"{body_type}.json").read_text(encoding="utf-8"))


def valid_examples() -> dict[Path, bytes]:
    """examples/<Type>.{json,xml}; the BienNhan example acknowledges the HoSo example's XML bytes."""
    files: dict[Path, bytes] = {}
    packets = {name: GoiTin.model_validate(authored(name), strict=True) for name in BODY_TYPES}
    hoso_xml = xml_codec.encode(packets["HoSo"], pretty=True)
    receipt = packets["BienNhan"].NoiDung.body
    packets["BienNhan"] = packets["BienNhan"].model_copy(update={"NoiDung": packets["BienNhan"].NoiDung.model_copy(
        update={"BienNhan": receipt.model_copy(update={"BamSHA256": hashlib.sha256(hoso_xml).hexdigest()})})})
    for name, packet in packets.items():
        files[EXAMPLES / f"{name}.json"] = json_codec.encode(packet, pretty=True)
        files[EXAMPLES / f"{name}.xml"] = xml_codec.encode(packet, pretty=True)
    return files


# --- broken packets ---------------------------------------------------------------------

def raw_xml(data: Data) -> bytes:
    """Any JSON-shaped data as packet XML, in the data's own key order: unlike
    ``xml_codec.encode`` it also writes what the model refuses (unknown fields, wrong order)."""
    def build(parent: etree._Element, content: Data) -> None:
        for name, value in content.items():
            for item in value if isinstance(value, list) else [value]:
                child = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
                if isinstance(item, dict):
                    build(child, item)
                else:
                    child.text = str(item)

    root = etree.Element(f"{{{NAMESPACE}}}GoiTin", nsmap={None: NAMESPACE})
    build(root, data)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def raw_json(data: Data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


@dataclass(frozen=True)
class Broken:
    """A valid example with one kind of damage; ``edit`` changes the data in place."""

    name: str
    base: str
    edit: Callable[[Data], None]
    encodings: tuple[str, ...] = ("xml", "json")
    damage_text: Callable[[bytes], bytes] | None = None  # applied to the encoded bytes afterwards

    def render(self) -> dict[str, bytes]:
        data = small(self.base)
        self.edit(data)
        out = {}
        for encoding in self.encodings:
            encoded = raw_xml(data) if encoding == "xml" else raw_json(data)
            out[encoding] = self.damage_text(encoded) if self.damage_text else encoded
        return out


def small(body_type: str) -> Data:
    """An example to break: the dossier without the optional parts no fixture needs, so a
    reader sees the damage at a glance; the other examples are small already."""
    data = copy.deepcopy(authored(body_type))
    if body_type == "HoSo":
        for name in ("ThongTinKhac", "Email", "SoDienThoai", "TrichYeuHoSo", "ThongTinTra", "GhiChu", "DSKetNoiCSDL",
                     "TaiLieuNop", "DanhSachTepDinhKemKhac", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua"):
            del body(data)[name]
    return data


def body(data: Data) -> Data:
    """The body of a packet (the one value under NoiDung)."""
    (content,) = data["NoiDung"].values()
    return content  # type: ignore[no-any-return]  # a packet's body is a JSON object


def drop(*names: str) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        for name in names:
            del body(data)[name]
    return edit


def put(**values: Any) -> Callable[[Data], None]:
    """Sets body fields, keeping their place; a new field goes last."""
    def edit(data: Data) -> None:
        body(data).update(values)
    return edit


def together(*edits: Callable[[Data], None]) -> Callable[[Data], None]:
    """Several edits as one."""
    def edit(data: Data) -> None:
        for one in edits:
            one(data)
    return edit


def envelope(**values: Any) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        data.update(values)
    return edit


_DELETE = object()  # the value that removes a field


def nested(path: str, value: Any) -> Callable[[Data], None]:
    """Sets one value by a slash path below the body, list indexes 1-based: ``DanhSachLePhi[2]/Gia``."""
    def edit(data: Data) -> None:
        target: Any = body(data)
        *steps, last = path.split("/")
        for step in steps:
            name, _, index = step.partition("[")
            target = target[name][int(index[:-1]) - 1] if index else target[name]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return edit


def delete(path: str) -> Callable[[Data], None]:
    return nested(path, _DELETE)


def swap_first_fields(data: Data) -> None:
    """MaTTHC before MaHoSo: the XSD sequence order, invisible in JSON."""
    content = body(data)
    first, second, *rest = content.items()
    content.clear()
    content.update([second, first, *rest])


def nfd_owner(data: Data) -> None:
    content = body(data)
    content["ChuHoSo"] = unicodedata.normalize("NFD", content["ChuHoSo"])


def truncate(encoded: bytes) -> bytes:
    return encoded[: len(encoded) * 2 // 3]


def second_body(data: Data) -> None:
    data["NoiDung"]["TienDoXuLy"] = body(authored("TienDoXuLy"))


def no_body(data: Data) -> None:
    data["NoiDung"] = {}


# What the demo shows (``python -m demo``, ./run): one kind of error per packet.
DEMO: list[Broken] = [
    Broken("missing-field", "HoSo", drop("MaTTHC")),
    Broken("bad-date", "TienDoXuLy", put(NgayKetThucTheoQuyDinh="20250229170000")),  # 2025 is no leap year
    Broken("status-6-without-fees", "HoSo",
           together(put(TrangThaiHoSo=6), drop("DanhSachLePhi", "NgayTra", "NgayKetThucXuLy"))),
    Broken("unknown-field", "TrangThaiVanDon", put(ViTriHienTai="Bưu cục Hoàn Kiếm")),
    Broken("broken-syntax", "DanhGiaHaiLong", lambda data: None, damage_text=truncate),
]

# What the tests assert, error by error (tests/validation/test_invalid_fixtures.py).
FIXTURES: list[Broken] = [
    # HoSo
    Broken("HoSo-missing-required", "HoSo", drop("MaTTHC", "TenLinhVuc", "NgayTiepNhan", "DonViXuLy")),
    Broken("HoSo-wrong-formats", "HoSo", together(
        envelope(MaGoiTin="3f2b6c1e-8a4d-4b7e-9c21", NoiGui="H22-000"),
        put(NgayNopHoSo="2024-12-01 08:15:12", MaTTHC="1005129", SoGiayToChuHoSo="00119001234"),
        nested("DinhDanhCHS[1]/SoDinhDanh", "0011900123"))),
    Broken("HoSo-codes-outside-schema", "HoSo", put(KenhThucHien=4, TrangThaiHoSo=11)),
    Broken("HoSo-codes-outside-config", "HoSo", together(
        put(LoaiDoiTuong=9), nested("DanhSachLePhi[2]/LoaiPhiLePhi", 7))),
    Broken("HoSo-date-not-real", "HoSo", put(NgayHenTra="20250230170000")),
    Broken("HoSo-date-order", "HoSo", put(NgayHenTra="20241130170000")),
    Broken("HoSo-status-6-without-fees", "HoSo",
           together(put(TrangThaiHoSo=6), drop("DanhSachLePhi", "NgayTra", "NgayKetThucXuLy"))),
    Broken("HoSo-status-9-without-end", "HoSo", together(put(TrangThaiHoSo=9), drop("NgayTra", "NgayKetThucXuLy"))),
    Broken("HoSo-status-10-without-return", "HoSo", drop("NgayTra")),
    Broken("HoSo-identifier-digits", "HoSo", together(
        nested("DinhDanhCHS[1]/LoaiDinhDanh", 2), put(SoGiayToChuHoSo="0108123456"))),
    Broken("HoSo-unknown-field", "HoSo", put(SoCCCDNguoiNop="001190012345")),
    Broken("HoSo-body-type-mismatch", "HoSo", envelope(LoaiGoiTin="TienDoXuLy")),
    Broken("HoSo-fee-not-integer", "HoSo", nested("DanhSachLePhi[2]/Gia", "50.000")),
    Broken("HoSo-not-nfc", "HoSo", nfd_owner),
    Broken("HoSo-local-procedure", "HoSo", put(MaTTHC="1.003560.000.00.00.H56")),
    Broken("HoSo-out-of-order", "HoSo", swap_first_fields, encodings=("xml",)),
    Broken("HoSo-truncated", "HoSo", lambda data: None, damage_text=truncate),
    Broken("HoSo-json-types", "HoSo", put(SoGiayToChuHoSo=1190012345, MaLinhVuc=15, KenhThucHien="2"),
           encodings=("json",)),
    Broken("HoSo-json-empty-lists", "HoSo", put(DanhSachLePhi=[], DSKetNoiCSDL=[]), encodings=("json",)),
    # envelope
    Broken("NoiDung-no-body", "TienDoXuLy", no_body),
    Broken("NoiDung-two-bodies", "HoSo", second_body),
    # TienDoXuLy
    Broken("TienDoXuLy-missing-required", "TienDoXuLy", drop("NguoiXuLy", "ThoiDiemXuLy", "TrangThai")),
    Broken("TienDoXuLy-date-order", "TienDoXuLy", put(ThoiDiemXuLy="20241201160000")),
    # ThuTucHanhChinh
    Broken("ThuTucHanhChinh-wrong-values", "ThuTucHanhChinh", together(
        put(MaTTHC="1.5129"), nested("CachThucThucHien[1]/Kenh", 4),
        nested("CachThucThucHien[2]/ThoiGian[1]/ThoiGianGiaiQuyet", "mười"), delete("LinhVucThucHien[1]/TenLinhVuc"))),
    # YeuCauThanhToan
    Broken("YeuCauThanhToan-amount-mismatch", "YeuCauThanhToan", put(SoTien=3500000)),
    Broken("YeuCauThanhToan-missing-fees", "YeuCauThanhToan", together(drop("PhiLePhi"), put(MaDonVi="SVHTTDL"))),
    # BienLaiThanhToan
    Broken("BienLaiThanhToan-wrong-values", "BienLaiThanhToan", together(
        put(ThoiGianGD="20241301101158"), nested("PhiLePhi[1]/SoTien", -3000000))),
    Broken("BienLaiThanhToan-date-not-real", "BienLaiThanhToan", put(ThoiGianGD="20240431101158")),
    # VanDonBuuChinh
    Broken("VanDonBuuChinh-wrong-values", "VanDonBuuChinh", together(
        put(LoaiVanDon=3), delete("NguoiNhan/SoDienThoai"), nested("NguoiGui/SoDienThoai", "gọi tổng đài"))),
    # TrangThaiVanDon
    Broken("TrangThaiVanDon-wrong-values", "TrangThaiVanDon", together(drop("MaTrangThai"), put(ThoiGian="17/12/2024 10:08"))),
    # PhanAnhKienNghi
    Broken("PhanAnhKienNghi-answer-before-question", "PhanAnhKienNghi", nested("TraLoi/NgayTraLoi", "20241205090000")),
    Broken("PhanAnhKienNghi-missing-sender-name", "PhanAnhKienNghi", delete("NguoiGui/HoTen")),
    # DanhGiaHaiLong
    Broken("DanhGiaHaiLong-outside-config", "DanhGiaHaiLong", put(MucDoHaiLong=5)),
    Broken("DanhGiaHaiLong-score-not-integer", "DanhGiaHaiLong", nested("DanhSachTieuChi[3]/Diem", "hai")),
    # BienNhan
    Broken("BienNhan-wrong-values", "BienNhan", put(
        MaGoiTinNhan="3f2b6c1e8a4d4b7e9c215d0e7f9a1b23", BamSHA256="ABC123", KetQua=4, KetQuaChuKy="ok")),
]


def broken_files() -> dict[Path, bytes]:
    files: dict[Path, bytes] = {}
    for folder, variants in ((DEMO_INVALID, DEMO), (FIXTURES_INVALID, FIXTURES)):
        for variant in variants:
            for encoding, content in variant.render().items():
                files[folder / f"{variant.name}.{encoding}"] = content
    return files


def generated() -> dict[Path, bytes]:
    return valid_examples() | broken_files()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, content in generated().items():
        if path.exists() and path.read_bytes() == content:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    for path in stale:
        print(f"{'stale' if check else 'wrote'} {path.relative_to(ROOT)}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
