"""The envelope (GoiTin) that wraps every QCVN 120 body, and the body holder (NoiDung)."""

from typing import Any

from pydantic import model_validator

from gateway.packets import bodies as b
from gateway.packets import formats as f
from gateway.packets.bodies import Record

Body = (b.HoSo | b.TienDoXuLy | b.ThuTucHanhChinh | b.YeuCauThanhToan | b.BienLaiThanhToan
        | b.VanDonBuuChinh | b.TrangThaiVanDon | b.PhanAnhKienNghi | b.DanhGiaHaiLong | b.BienNhan)


class NoiDung(Record):
    """The body holder: exactly one of its fields is set (an XSD choice)."""

    HoSo: b.HoSo | None = None
    TienDoXuLy: b.TienDoXuLy | None = None
    ThuTucHanhChinh: b.ThuTucHanhChinh | None = None
    YeuCauThanhToan: b.YeuCauThanhToan | None = None
    BienLaiThanhToan: b.BienLaiThanhToan | None = None
    VanDonBuuChinh: b.VanDonBuuChinh | None = None
    TrangThaiVanDon: b.TrangThaiVanDon | None = None
    PhanAnhKienNghi: b.PhanAnhKienNghi | None = None
    DanhGiaHaiLong: b.DanhGiaHaiLong | None = None
    BienNhan: b.BienNhan | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        # One key, and not null: {"HoSo": null} in JSON would leave NoiDung without a body.
        if isinstance(data, dict) and (len(data) != 1 or None in data.values()):
            raise ValueError("body.exactly_one")
        return data

    @property
    def body(self) -> Body:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                return value  # type: ignore[no-any-return]  # the body fields are all records (pydantic types getattr as Any)
        raise AssertionError("NoiDung without a body")  # unreachable: the validator forbids it

    @property
    def body_type(self) -> str:
        return type(self.body).__name__


class GoiTin(Record):
    MaGoiTin: f.MaUUID
    LoaiGoiTin: f.LoaiGoiTin
    PhienBan: f.PhienBan
    NoiGui: f.MaDonVi
    NoiNhan: f.Ten
    ThoiGianGui: f.NgayGio
    MaThamChieu: f.MaUUID | None = None
    NoiDung: NoiDung

    @property
    def body(self) -> Body:
        return self.NoiDung.body

    @property
    def dossier_code(self) -> str | None:
        """The dossier this packet belongs to, if any: the ordering and tracing key."""
        return getattr(self.body, "MaHoSo", None)


BODY_TYPES: dict[str, type[Record]] = {name: info.annotation.__args__[0]  # type: ignore[union-attr]  # every NoiDung field is Optional[record]
                                       for name, info in NoiDung.model_fields.items()}
