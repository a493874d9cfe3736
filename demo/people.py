"""Who is in the demo's day: procedures (the simulated portal's catalogue), the units that handle them,
their officers, fees, and made-up citizens. Every name and number here is invented."""

from dataclasses import dataclass
import random
import unicodedata

from connectors.national_portal.simulator.catalogue import CATALOGUE


@dataclass(frozen=True)
class Unit:
    agency: str  # mã định danh cơ quan: NoiGui, and the prefix of its dossier codes
    name: str  # DonViXuLy
    department: str  # PhongBanXuLy
    officers: tuple[tuple[str, str], ...]  # (NguoiXuLy, ChucDanh)


_COMMUNE = Unit("000.21.32.H22", "UBND xã Tân Lập", "Bộ phận Tiếp nhận và Trả kết quả xã",
                (("Hà Thị Ngọc", "Công chức Tư pháp - Hộ tịch"), ("Triệu Văn Toàn", "Công chức Văn phòng - Thống kê")))
_DISTRICT = Unit("000.20.31.H22", "UBND huyện Yên Sơn", "Phòng Kinh tế và Hạ tầng",
                 (("Lương Đức Thịnh", "Chuyên viên"), ("Ma Thị Hồng", "Phó Trưởng phòng")))
_LAND = Unit("000.00.12.H22", "Sở Tài nguyên và Môi trường", "Văn phòng Đăng ký đất đai",
             (("Nông Văn Khải", "Chuyên viên"), ("Đinh Thị Lụa", "Giám đốc Văn phòng")))
_TRANSPORT = Unit("000.00.14.H22", "Sở Giao thông vận tải", "Phòng Quản lý phương tiện và người lái",
                  (("Vi Văn Tường", "Chuyên viên"), ("Hoàng Thị Nhung", "Trưởng phòng")))
_JUSTICE = Unit("000.00.06.H22", "Sở Tư pháp", "Phòng Hành chính tư pháp",
                (("Quan Thị Duyên", "Chuyên viên"), ("Lò Văn Sinh", "Phó Giám đốc")))

UNITS = {"1.001193": _COMMUNE, "1.000894": _COMMUNE, "1.003583": _COMMUNE, "1.005129": _DISTRICT,
         "1.004227": _DISTRICT, "1.003560": _LAND, "2.002622": _TRANSPORT, "1.002309": _JUSTICE}
PROCEDURES = [p for p in CATALOGUE if p["MaTTHC"] in UNITS]

# Fees asked at status 6 (Yêu cầu thực hiện nghĩa vụ tài chính): TenPhiLePhi, MaPhiLePhi, Gia (VND), LoaiPhiLePhi.
FEES: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    "1.005129": (("Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", "LP-GPXD", 75_000, 2),),
    "1.004227": (("Lệ phí đăng ký hộ kinh doanh", "LP-HKD", 100_000, 2),),
    "1.003560": (("Phí thẩm định hồ sơ đăng ký biến động đất đai", "PHI-TDDD", 500_000, 1),
                 ("Lệ phí cấp giấy chứng nhận quyền sử dụng đất", "LP-GCN", 100_000, 2)),
    "2.002622": (("Lệ phí cấp lại giấy phép lái xe", "LP-GPLX", 135_000, 2),),
    "1.002309": (("Phí cung cấp thông tin lý lịch tư pháp", "PHI-LLTP", 200_000, 1),),
}

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Nông")
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Thanh", "Hữu", "Hải", "Thế", "Kim")
_GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long",
          "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Citizen:
    name: str
    id_number: str  # 12-digit personal ID (CCCD)
    phone: str


def citizen(rng: random.Random) -> Citizen:
    name = nfc(f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}")
    id_number = f"0{rng.choice(('08', '10', '19', '22'))}{rng.randrange(10**9):09d}"
    return Citizen(name, id_number, f"09{rng.randrange(10**8):08d}")
