"""Transform: fields cut to the portal's limits with a warning, dates per protocol, statuses and procedure codes mapped."""

import pytest

from connectors.national_portal.mapping import Mapping, MappingError
from connectors.national_portal.transform import Transformer, iso_date

from .conftest import make_dossier, make_step

LIMITS = {"TrichYeuHoSo": 1000, "GhiChu": 2000, "NoiDungXuLy": 2000}


def test_classic_dossier_keeps_fields_and_dates() -> None:
    hoso = make_dossier("000.00.01.H22-241201-0001").body
    payload = Transformer(Mapping(), LIMITS, "typed").dossier(hoso)
    assert payload.warnings == ()
    assert payload.data["NgayTiepNhan"] == "20241201093000"
    assert payload.data["MaTTHC"] == "1.005129" and payload.data["TrangThaiHoSo"] == 10
    assert payload.data["DinhDanhCHS"] == [{"LoaiDinhDanh": 1, "SoDinhDanh": "001190012345"}]
    assert "NgayTuChoi" not in payload.data  # absent fields stay absent


def test_long_texts_are_cut_with_a_warning_never_silently() -> None:
    hoso = make_dossier("000.00.01.H22-241201-0002", TrichYeuHoSo="Đề nghị " * 200, GhiChu="ghi chú").body
    payload = Transformer(Mapping(), LIMITS).dossier(hoso)
    assert len(payload.data["TrichYeuHoSo"]) == 1000
    assert payload.data["TrichYeuHoSo"] == ("Đề nghị " * 200)[:1000]
    assert payload.data["GhiChu"] == "ghi chú"
    assert payload.warnings == ("TrichYeuHoSo: cắt từ 1600 xuống 1000 ký tự theo giới hạn của Cổng DVC quốc gia "
                                "/ cut from 1600 to 1000 characters, the portal's limit",)


def test_limits_are_configurable() -> None:
    step = make_step("X-1", 1, NoiDungXuLy="a" * 300).body
    payload = Transformer(Mapping(), {"NoiDungXuLy": 255}).progress(step)
    assert len(payload.data["NoiDungXuLy"]) == 255 and "cut from 300 to 255" in payload.warnings[0]


def test_status_and_procedure_mapping() -> None:
    table = Mapping(statuses={("4", None): 2, ("10", None): 9}, procedures={"1.003560.000.00.00.H56": "1.003560"})
    hoso = make_dossier("X-2", MaTTHC="1.003560.000.00.00.H56").body
    payload = Transformer(table, LIMITS, "typed").dossier(hoso)
    assert payload.data["MaTTHC"] == "1.003560" and payload.data["TrangThaiHoSo"] == 9
    assert Transformer(table, LIMITS, "typed").progress(make_step("X-2", 1, status=4).body).data["TrangThai"] == 2
    assert Transformer(table, LIMITS, "typed").progress(make_step("X-2", 1, status=5).body).data["TrangThai"] == 5
    with pytest.raises(MappingError, match="not mapped to a national MaTTHC"):
        Transformer(Mapping(), LIMITS).dossier(make_dossier("X-3", MaTTHC="2.002622.H56").body)


def test_token_protocol_dates_are_iso_with_milliseconds() -> None:
    assert iso_date("20241201083000") == "2024-12-01T08:30:00.000"
    transformer = Transformer(Mapping(), LIMITS)
    step = transformer.token_progress(make_step("X-4", 0).body, "id-1").data
    assert step["ThoiDiemXuLy"] == "2024-12-10T08:00:00.000" and step["IDHoSo"] == "id-1"
    assert step["NgayKetThucTheoQuyDinh"] == "2024-12-13T17:00:00.000"
    dossier = transformer.token_dossier(make_dossier("X-4").body, "000.00.00.H22").data
    assert dossier["NgayTiepNhan"] == "2024-12-01T09:30:00.000" and dossier["NgayNop"] == "2024-12-01T08:15:12.000"
    assert dossier["MaDonViTiepNhan"] == "000.00.00.H22"
    assert dossier["ThanhPhanHoSo"][0]["MaThanhPhanHoSo"] == "TP01"
    assert dossier["ThanhPhanHoSo"][0]["GiayToDinhKem"][0]["IdGiayTo"] == "TL-9f3a1c"


def test_classic_payloads_go_out_as_text_as_the_portals_clients_send_them() -> None:
    hoso = make_dossier("000.00.01.H22-241201-0003", TaiLieuNop=[
        {"TepDinhKemId": "T1", "TenTepDinhKem": "Đơn", "IsDeleted": 0, "DuocSoHoa": 1}]).body
    data = Transformer(Mapping(), LIMITS).dossier(hoso).data
    assert data["TrangThaiHoSo"] == "10" and data["LoaiDoiTuong"] == "1"
    assert data["TaiLieuNop"][0]["IsDeleted"] == "False" and data["TaiLieuNop"][0]["DuocSoHoa"] == "1"
    assert data["DinhDanhCHS"] == [{"LoaiDinhDanh": "1", "SoDinhDanh": "001190012345"}]
    assert Transformer(Mapping(), LIMITS).progress(make_step("X", 1, 4).body).data["TrangThai"] == "4"
