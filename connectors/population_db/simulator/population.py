"""A synthetic population, generated from a seed: clearly fake people (every middle name has "Giả",
every identifier starts with province code 099, which does not exist) with the CongDan fields."""

from dataclasses import dataclass, field
import random
from typing import Any
import unicodedata

_HO = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
_TEN = ("An", "Bình", "Cúc", "Dũng", "Hà", "Khánh", "Linh", "Minh", "Ngọc", "Phúc", "Quỳnh", "Sơn")
_XA = ("Phường Thử Nghiệm", "Xã Giả Lập", "Thị trấn Mẫu")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def folded(name: str) -> str:
    """A name as compared: NFC, case-folded, spaces collapsed."""
    return " ".join(nfc(name).casefold().split())


@dataclass(frozen=True)
class Person:
    record: dict[str, Any]  # the CongDan fields, as the answer carries them

    @property
    def full_name(self) -> str:
        name = self.record["HoVaTen"]
        return " ".join(part for part in (name["Ho"], name["ChuDem"], name["Ten"]) if part)

    @property
    def birth(self) -> str:
        return str(self.record["NgayThangNamSinh"]["NgayThangNam"])


@dataclass
class Population:
    by_id: dict[str, Person] = field(default_factory=dict)
    by_cmnd: dict[str, Person] = field(default_factory=dict)

    @classmethod
    def generate(cls, size: int = 500, seed: int = 7) -> "Population":
        rng = random.Random(seed)
        population = cls()
        for n in range(1, size + 1):
            male = rng.random() < 0.5
            year = rng.randint(1950, 2006)
            birth = f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            century = (0 if year < 2000 else 2) + (0 if male else 1)
            identifier = f"099{century}{year % 100:02d}{n:06d}"
            cmnd = f"99{n:07d}"
            address = {"MaTinhThanh": "99", "MaQuanHuyen": "999", "MaPhuongXa": f"{rng.randint(1, 99):05d}",
                       "ChiTiet": f"Số {rng.randint(1, 200)}, {rng.choice(_XA)}", "QuocGia": "VN"}
            ho = rng.choice(_HO)
            record: dict[str, Any] = {
                "SoDinhDanh": identifier, "SoCMND": cmnd,
                "HoVaTen": {"Ho": ho, "ChuDem": "Văn Giả" if male else "Thị Giả", "Ten": rng.choice(_TEN)},
                "GioiTinh": "1" if male else "2", "DanToc": "01", "TonGiao": "00",
                "TinhTrangHonNhan": str(rng.randint(1, 3)), "NhomMau": rng.choice(("1", "2", "3", "4", "")),
                "NgayThangNamSinh": {"NgayThangNam": birth},
                "NoiDangKyKhaiSinh": address, "QueQuan": address, "ThuongTru": address, "NoiOHienTai": address,
                "QuocTich": "VN",
                "Cha": {"HoVaTen": f"{ho} Văn Giả Cha", "QuocTich": "VN", "SoDinhDanh": "", "SoCMND": ""},
                "Me": {"HoVaTen": f"{rng.choice(_HO)} Thị Giả Mẹ", "QuocTich": "VN", "SoDinhDanh": "", "SoCMND": ""},
                "ChuHo": {"QuanHe": "01", "SoDinhDanh": identifier, "SoCMND": cmnd,
                          "HoVaTen": ""},
                "SoSoHoKhau": f"99{n:07d}",
            }
            person = Person(record)
            record["ChuHo"]["HoVaTen"] = person.full_name
            population.by_id[identifier] = person
            population.by_cmnd[cmnd] = person
        return population

    def find(self, identifier: str | None, cmnd: str | None, name: str, birth: str) -> Person | None:
        """The person with this identifier (or old ID card number) whose name and birth date (full date, or
        year only) match; None otherwise — the database answers the same for a wrong name as for no one."""
        person = self.by_id.get(identifier or "") if identifier else self.by_cmnd.get(cmnd or "")
        if person is None or folded(name) != folded(person.full_name):
            return None
        return person if (birth == person.birth or (len(birth) == 4 and person.birth.startswith(birth))) else None

    def sample(self, count: int = 5) -> list[dict[str, Any]]:
        return [p.record for p in list(self.by_id.values())[:count]]
