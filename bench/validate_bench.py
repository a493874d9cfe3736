"""Validation throughput on ~5 KB dossier (HoSo) packets, XML and JSON, single process.

Measures, side by side in one run:
  * the bare lxml baseline: parse + compiled XSD validate of the same XML bytes;
  * the full three-layer ``Validator`` for the XML and the JSON form;
  * the share of the full validation's time spent per stage (XML: parse, schema, text
    check, semantic on the tree; JSON: parse, schema, model build, semantic), timed by
    running each stage alone over the same input;
  * what building the typed XML packet costs when a caller asks for it (``Report.packet``).

Run:  .venv/bin/python bench/validate_bench.py [--seconds 2]
Target (issue 2): full validation ≥ 50 % of the bare lxml parse+XSD throughput,
for XML and for JSON (both against the same bare XML baseline).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import gc
import os
from pathlib import Path
import platform
import statistics
import sys
import time
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.config import Config
from gateway.packets import json_codec, xml_codec
from gateway.packets.envelope import GoiTin
from gateway.validate import facts, schema, semantic, text, wellformed
from gateway.validate.pipeline import Validator

EXAMPLES = ROOT / "examples"


def _built_ho_so() -> GoiTin:
    """A ~5 KB dossier, for a checkout without examples/ (normally examples/HoSo.* is used)."""
    documents = [{"TepDinhKemId": f"TL-{i:04d}", "TenTepDinhKem": f"Thành phần hồ sơ số {i} — bản chụp có chứng thực.pdf",
                  "IsDeleted": 0, "MaThanhPhanHoSo": f"TP{i:02d}",
                  "DuongDanTaiTepTin": f"https://dvc.example.gov.vn/tep/2024/12/TL-{i:04d}.pdf", "DuocSoHoa": 1}
                 for i in range(1, 9)]
    fees = [{"TenPhiLePhi": "Phí thẩm định điều kiện kinh doanh", "MaPhiLePhi": f"PLP{i}", "HinhThucThu": 1,
             "Gia": 1_500_000 * i, "LoaiPhiLePhi": 1} for i in range(1, 4)]
    data: dict[str, Any] = {
        "MaGoiTin": "3f2b6c1e-8a4d-4b7e-9c21-5d0e7f9a1b23", "LoaiGoiTin": "HoSo", "PhienBan": "1.0",
        "NoiGui": "000.00.01.H22", "NoiNhan": "DVCQG", "ThoiGianGui": "20241216153005",
        "NoiDung": {"HoSo": {
            "MaHoSo": "000.00.01.H22-241201-0001", "MaTTHC": "1.005129",
            "TenTTHC": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa",
            "MaLinhVuc": "G15-DL01", "TenLinhVuc": "Lữ hành", "KenhThucHien": 2, "ChuHoSo": "Nguyễn Thị Thu Hương",
            "SoGiayToChuHoSo": "001190012345", "LoaiDoiTuong": 1, "SoDienThoai": "0912345678",
            "TrichYeuHoSo": "Đề nghị cấp Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa. " * 4,
            "NgayNopHoSo": "20241201081512", "NgayTiepNhan": "20241201093000", "NgayHenTra": "20241213170000",
            "NgayKetThucXuLy": "20241212160000", "NgayTra": "20241216150000", "TrangThaiHoSo": 10,
            "DonViXuLy": "Sở Văn hóa, Thể thao và Du lịch", "DuocThanhToanTrucTuyen": 1,
            "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": "001190012345"}],
            "DSKetNoiCSDL": [{"MaCSDL": "CSDLQGDC"}], "TaiLieuNop": documents, "DanhSachLePhi": fees,
        }},
    }
    return GoiTin.model_validate(data, strict=True)


def packets() -> tuple[bytes, bytes, str]:
    """(XML bytes, JSON bytes, where they came from)."""
    xml_file, json_file = EXAMPLES / "HoSo.xml", EXAMPLES / "HoSo.json"
    if xml_file.exists() and json_file.exists():
        return xml_file.read_bytes(), json_file.read_bytes(), "examples/HoSo.xml, examples/HoSo.json"
    packet = _built_ho_so()
    return xml_codec.encode(packet, pretty=True), json_codec.encode(packet, pretty=True), "built in the bench"


def measure(functions: dict[str, Callable[[], object]], seconds: float,
            rounds: int = 40) -> dict[str, list[float]]:
    """Mean seconds per call of each function, one sample per round. Rounds are short and
    interleave the functions, so a shared machine's load hits them alike: compare samples
    of the same round, and take the fastest round for absolute figures."""
    batches = {}
    for name, fn in functions.items():
        fn()
        start, calls = time.perf_counter(), 0
        while time.perf_counter() - start < 0.02:
            fn()
            calls += 1
        batches[name] = max(1, int(calls * seconds / rounds / len(functions) / 0.02))
    samples: dict[str, list[float]] = {name: [] for name in functions}
    gc.collect()
    for _ in range(rounds):
        for name, fn in functions.items():
            batch = batches[name]
            start = time.perf_counter()
            for _ in range(batch):
                fn()
            samples[name].append((time.perf_counter() - start) / batch)
    return samples


def ratio(faster: list[float], slower: list[float]) -> float:
    """Median over rounds of the throughput ratio slower/faster (time faster / time slower)."""
    return statistics.median(f / s for f, s in zip(faster, slower, strict=True))


def stages(validator: Validator, data: bytes, encoding: str) -> dict[str, Callable[[], object]]:
    """Each stage of ``Validator.validate`` alone, on inputs prepared by the stages before it.
    XML the XSD accepts skips the model: its semantic rules read the tree (``facts.of_xml``)."""
    config = validator.config
    decoded = wellformed.decode_utf8(data)
    if encoding == "xml":
        root = wellformed.parse_xml(data)

        def parse() -> object:  # the text is decoded only if the NFC check needs it
            wellformed.check_size(data, config.max_bytes)
            return wellformed.parse_xml(data)

        def check_schema() -> object:
            return schema.xml_schema().validate(root)

        def check_text() -> object:
            return text.needs_check(data, None, b"&" in data and b"&#" in data)

        def check_semantic() -> object:
            return semantic.check(facts.of_xml(root, validator.reading), config)

        return {"parse": parse, "schema": check_schema, "text": check_text, "semantic": check_semantic}

    def parse_json() -> object:
        wellformed.check_size(data, config.max_bytes)
        return wellformed.parse_json(wellformed.decode_utf8(data))

    content = wellformed.parse_json(decoded)

    def check_json_schema() -> object:
        return schema.json_validator().is_valid(content)

    def build() -> object:
        found = content
        if text.needs_check(data, decoded, b"\\u" in data):
            found = text.normalise(found)[0]
        return schema.build(found)

    packet = build()
    assert isinstance(packet, GoiTin), packet

    def check_model_semantic() -> object:
        return semantic.check(packet, config)

    return {"parse": parse_json, "schema": check_json_schema, "model build": build, "semantic": check_model_semantic}


def model_on_demand(xml_bytes: bytes, validator: Validator) -> Callable[[], object]:
    """What ``Report.packet`` costs on top, for a caller that wants the typed XML packet."""
    root = wellformed.parse_xml(xml_bytes)
    return lambda: schema.build(xml_codec.to_data(root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per group of measurements (default 2)")
    args = parser.parse_args()

    xml_bytes, json_bytes, source = packets()
    validator = Validator(Config.load())
    for data, encoding in ((xml_bytes, "xml"), (json_bytes, "json")):
        report = validator.validate(data, encoding)
        assert report.valid, report.to_dict()

    xsd = schema.xml_schema()
    bare_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def bare() -> object:
        return xsd.validate(etree.fromstring(xml_bytes, bare_parser))

    print(f"Python {platform.python_version()}, lxml {etree.__version__}, {platform.machine()}; packets: {source}")
    print(f"XML {len(xml_bytes):,} bytes, JSON {len(json_bytes):,} bytes; about {args.seconds:g} s per group; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    timed = measure({"bare": bare, "xml": lambda: validator.validate(xml_bytes, "xml"),
                     "json": lambda: validator.validate(json_bytes, "json")}, args.seconds * 3)
    bare_s = min(timed["bare"])
    print(f"{'bare lxml parse + XSD (XML)':34} {1 / bare_s:>9,.0f} packets/s  {bare_s * 1e6:7.1f} µs")
    for data, encoding in ((xml_bytes, "xml"), (json_bytes, "json")):
        full_s = min(timed[encoding])
        share = ratio(timed["bare"], timed[encoding])
        print(f"{'full Validator (' + encoding.upper() + ')':34} {1 / full_s:>9,.0f} packets/s  {full_s * 1e6:7.1f} µs"
              f"   full/bare throughput = {share:.0%}  (target ≥ 50 %: {'met' if share >= 0.5 else 'NOT met'})")
        parts = {name: min(times) for name, times in measure(stages(validator, data, encoding), args.seconds).items()}
        total = sum(parts.values())
        print("    " + ", ".join(f"{name} {t * 1e6:.1f} µs ({t / total:.0%})" for name, t in parts.items()))
    on_demand = min(measure({"model": model_on_demand(xml_bytes, validator)}, args.seconds / 2)["model"])
    print(f"XML typed model on demand (Report.packet, not in the figures above): {on_demand * 1e6:.1f} µs")
    print("\nBest round for µs and packets/s; the full/bare ratio is the median over rounds of side-by-side samples."
          "\nStage shares are of the summed stage times (each stage timed alone).")


if __name__ == "__main__":
    main()
