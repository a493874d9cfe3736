"""What real one-stop systems send to the portal, written from the facts in issue 13 and
shared/domain/national-portal.md (public client code: OpenCPS v2 ``DVCQGIntegrationActionImpl``, a C#
sync service) — not copied: every scalar a JSON string, booleans "True"/"False", absent values as
``""`` (sometimes ``null`` or ``[]``), a progress item always carrying its four optional fields."""

from typing import Any


def dossier(code: str, status: str = "2", **fields: Any) -> dict[str, Any]:
    """A dossier as a one-stop system syncs it; unfinished (status 2): NgayTra, NgayKetThucXuLy blank."""
    return {
        "MaHoSo": code, "MaTTHC": "1.005129", "TenTTHC": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "MaLinhVuc": "G09-XD01", "TenLinhVuc": "Hoạt động xây dựng", "KenhThucHien": "1",
        "ChuHoSo": "Trần Văn Bình", "SoBienNhan": "", "SoGiayToChuHoSo": "001085001234", "LoaiDoiTuong": "1",
        "MaDoiTuong": "", "ThongTinKhac": "", "Email": "", "Fax": "", "SoDienThoai": "",
        "TrichYeuHoSo": "Cấp giấy phép xây dựng nhà ở riêng lẻ", "NgayNopHoSo": "20241202080000",
        "NgayTiepNhan": "20241202083000", "NgayHenTra": "20241220170000", "NgayTra": "", "NgayKetThucXuLy": "",
        "NgayTuChoi": "", "TrangThaiHoSo": status, "ThongTinTra": "", "HinhThuc": "0",
        "DonViXuLy": "UBND huyện Gia Lâm", "NoiNopHoSo": "", "GhiChu": "", "DuocThanhToanTrucTuyen": "0",
        "DinhDanhCHS": None, "DSKetNoiCSDL": [],
        "TaiLieuNop": [{"TepDinhKemId": "", "TenTepDinhKem": "Đơn đề nghị cấp giấy phép xây dựng.pdf",
                        "IsDeleted": "False", "MaThanhPhanHoSo": "",
                        "DuongDanTaiTepTin": "https://motcua.example.gov.vn/tep/123"}],
        "DanhSachLePhi": [], "DanhSachGiayToKetQua": [], "DanhSachHoSoBoSung": None, **fields,
    }


def finished(code: str) -> dict[str, Any]:
    """The same dossier reported once it is over: result returned (10)."""
    return dossier(code, "10", NgayKetThucXuLy="20241218160000", NgayTra="20241219090000")


def step(code: str, status: str, when: str, text: str = "Xử lý hồ sơ") -> dict[str, Any]:
    """A progress item: the optional fields are always there, blank."""
    return {"MaHoSo": code, "NguoiXuLy": "Phạm Thị Lan", "ChucDanh": "", "ThoiDiemXuLy": when,
            "PhongBanXuLy": "", "NoiDungXuLy": text, "TrangThai": status, "NgayBatDau": "",
            "NgayKetThucTheoQuyDinh": ""}


def history(code: str) -> list[dict[str, Any]]:
    """A finished dossier's steps, reported after its final status: received, processing, finished."""
    return [step(code, "2", "20241202083000", "Tiếp nhận hồ sơ"), step(code, "4", "20241203090000", "Thụ lý"),
            step(code, "9", "20241218160000", "Hoàn thành xử lý")]
