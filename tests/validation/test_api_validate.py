"""``POST /v1/validate`` on a real uvicorn process: report shape, content types, size limit, no storage."""

import json
from pathlib import Path
import socket
from typing import Any

from gateway.packets import json_codec, xml_codec
from gateway.packets.envelope import GoiTin
from tests.validation.conftest import API_KEY_HEADER, Api


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``folder`` with its size and modification time."""
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*") if path.is_file()}


def encodings_of(data: dict[str, Any]) -> tuple[bytes, bytes]:
    packet = GoiTin.model_validate(data, strict=True)
    return xml_codec.encode(packet), json_codec.encode(packet)


def test_valid_packet_in_both_encodings(api: Api, valid_xml: bytes, valid_json: bytes) -> None:
    by_xml = api.post(valid_xml, "application/xml")
    by_json = api.post(valid_json, "application/json; charset=utf-8")
    assert by_xml.status_code == by_json.status_code == 200
    assert by_xml.headers["content-type"] == "application/json"
    xml_report, json_report = by_xml.json(), by_json.json()
    assert xml_report == {"valid": True, "encoding": "xml", "errors": [],
                          "packet": {"MaGoiTin": "6a1f0c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "LoaiGoiTin": "HoSo",
                                     "MaHoSo": "000.00.01.H22-241202-0007"}}
    assert json_report == xml_report | {"encoding": "json"}


def test_invalid_packet_reports_the_same_errors_for_both_encodings(api: Api, packet_data: dict[str, Any]) -> None:
    hoso = packet_data["NoiDung"]["HoSo"]
    hoso |= {"TrangThaiHoSo": 6, "NgayHenTra": "20241201170000"}  # due before received
    del hoso["DanhSachLePhi"]  # status 6 needs fees
    xml, js = encodings_of(packet_data)
    reports = [api.post(xml, "text/xml").json(), api.post(js, "application/json").json()]
    for report in reports:
        assert report["valid"] is False
        assert [(e["path"], e["rule"]) for e in report["errors"]] == [
            ("NoiDung/HoSo/NgayHenTra", "semantic.date_order"),
            ("NoiDung/HoSo/DanhSachLePhi", "semantic.required_for_status"),
        ]
        for error in report["errors"]:
            assert error["message_vi"] and error["message_en"] and error["layer"] == "semantic"
    assert reports[0]["errors"] == reports[1]["errors"]


def test_schema_errors_carry_xml_line_numbers(api: Api, packet_data: dict[str, Any]) -> None:
    packet_data["NoiDung"]["HoSo"]["DanhSachLePhi"][0]["Gia"] = 3_000_000
    xml = xml_codec.encode(GoiTin.model_validate(packet_data, strict=True), pretty=True)
    broken = xml.replace(b"<Gia>3000000</Gia>", b"<Gia>ba trieu</Gia>")
    line = broken[: broken.index(b"<Gia>")].count(b"\n") + 1
    [error] = api.post(broken, "application/xml").json()["errors"]
    assert (error["path"], error["rule"], error["line"]) == ("NoiDung/HoSo/DanhSachLePhi[1]/Gia", "schema.type", line)
    assert error["value"] == "ba trieu"


def test_personal_data_is_masked(api: Api, packet_data: dict[str, Any]) -> None:
    packet_data["NoiDung"]["HoSo"]["DinhDanhCHS"][0]["SoDinhDanh"] = "001090012"  # 9 digits under kind 1 (12)
    response = api.post(encodings_of(packet_data)[1], "application/json")
    assert "001090012" not in response.text
    [error] = response.json()["errors"]
    assert error["rule"] == "semantic.id_digits" and "*" in error["value"]


def test_unsupported_content_type_is_415(api: Api, valid_xml: bytes) -> None:
    for content_type in ("text/plain", "application/octet-stream", ""):
        response = api.post(valid_xml, content_type)
        assert response.status_code == 415, content_type
        [error] = response.json()["errors"]
        assert error["rule"] == "input.content_type"
        assert "application/xml" in error["message_vi"]


def test_declared_oversized_body_is_413_before_reading(api: Api) -> None:
    """A 50 MB Content-Length is refused on the header alone: the client has sent one byte of it."""
    with socket.create_connection(("127.0.0.1", api.port), timeout=60) as sock:
        sock.sendall(b"POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
                     + API_KEY_HEADER + b"Content-Length: %d\r\n\r\n<" % (50 * 1024 * 1024))
        response = b""
        while b"\r\n\r\n" not in response or not response.endswith(b"}"):
            part = sock.recv(65_536)
            assert part, response
            response += part
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.split()[1] == b"413"
    assert [e["rule"] for e in json.loads(body)["errors"]] == ["input.too_large"]


def test_validation_stores_nothing(api: Api, valid_xml: bytes, valid_json: bytes, packet_data: dict[str, Any]) -> None:
    """The server's working directory (where a careless store would write) is unchanged by validation."""
    before = snapshot(api.workdir)
    packet_data["NoiDung"]["HoSo"]["MaHoSo"] = "000.00.01.H22-241202-9999"
    for _ in range(3):
        assert api.post(valid_xml, "application/xml").json()["valid"] is True
        assert api.post(valid_json, "application/json").json()["valid"] is True
    assert api.post(b"<GoiTin", "application/xml").status_code == 200
    assert snapshot(api.workdir) == before
    # Nor does it remember: the same dossier in a terminal status, then a later one, is judged afresh.
    packet_data["NoiDung"]["HoSo"] |= {"TrangThaiHoSo": 3, "NgayTuChoi": "20241202093000"}
    xml, _ = encodings_of(packet_data)
    assert api.post(xml, "application/xml").json()["valid"] is True
    packet_data["NoiDung"]["HoSo"]["TrangThaiHoSo"] = 4
    xml, _ = encodings_of(packet_data)
    assert api.post(xml, "application/xml").json()["valid"] is True


def test_report_is_utf8_json_with_vietnamese_text(api: Api) -> None:
    response = api.post(b"", "application/json")
    assert response.status_code == 200
    report = json.loads(response.content.decode("utf-8"))
    assert report["errors"][0]["message_vi"] == "Gói tin rỗng."
