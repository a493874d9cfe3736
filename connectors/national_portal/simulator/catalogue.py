"""A small procedure catalogue the simulator answers ``LayThuTuc`` / ``LayDanhSachTTHC`` from,
and checks the MaTTHC of received dossiers against (the real portal knows only its own codes)."""

from typing import Any


def _procedure(code: str, name: str, field_code: str, field_name: str, days: int) -> dict[str, Any]:
    return {"MaTTHC": code, "TenTTHC": name, "LinhVucThucHien": [{"MaLinhVuc": field_code, "TenLinhVuc": field_name}],
            "CachThucThucHien": [{"Kenh": 1, "ThoiGian": [{"ThoiGianGiaiQuyet": days, "DonViTinh": "Ngày làm việc"}]},
                                 {"Kenh": 2, "ThoiGian": [{"ThoiGianGiaiQuyet": days, "DonViTinh": "Ngày làm việc"}]}]}


CATALOGUE: list[dict[str, Any]] = [
    _procedure("1.001193", "Đăng ký khai sinh", "G09-TP03", "Hộ tịch", 1),
    _procedure("1.000894", "Đăng ký kết hôn", "G09-TP03", "Hộ tịch", 1),
    _procedure("1.003583", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "G09-TP04", "Chứng thực", 1),
    _procedure("1.005129", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "G09-XD01", "Hoạt động xây dựng", 15),
    _procedure("1.004227", "Đăng ký thành lập hộ kinh doanh", "G09-KH02",
               "Thành lập và hoạt động của hộ kinh doanh", 3),
    _procedure("1.003560", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất",
               "G09-TN01", "Đất đai", 10),
    _procedure("2.002622", "Cấp lại giấy phép lái xe", "G09-GT05", "Đường bộ", 5),
    _procedure("1.002309", "Cấp phiếu lý lịch tư pháp cho công dân Việt Nam", "G09-TP06", "Lý lịch tư pháp", 10),
]
