"""The QCVN 120 body types and their records.

Field order is the XML element order. Field names are the wire names, so the
model, the XML Schema and the JSON Schema share one vocabulary.
"""


from pydantic import BaseModel, ConfigDict

from gateway.packets import formats as f


class Record(BaseModel):
    """Base of every packet record: immutable, no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- HoSo (dossier) ------------------------------------------------------------

class DinhDanh(Record):
    LoaiDinhDanh: f.MaDanhMuc
    SoDinhDanh: f.SoDinhDanh


class KetNoiCSDL(Record):
    MaCSDL: f.Ma


class TaiLieu(Record):
    TepDinhKemId: f.Ma | None = None
    TenTepDinhKem: f.Ten
    IsDeleted: f.CoKhong | None = None
    MaThanhPhanHoSo: f.Ma | None = None
    DuongDanTaiTepTin: f.DuongDan | None = None
    DuocSoHoa: f.CoKhong | None = None
    DuocTaiSuDung: f.CoKhong | None = None
    DuocLayTuKhoDMQG: f.CoKhong | None = None
    MaKetQuaThayThe: f.Ma | None = None


class LePhi(Record):
    TenPhiLePhi: f.Ten
    MaPhiLePhi: f.Ma | None = None
    HinhThucThu: f.MaDanhMuc | None = None
    Gia: f.SoTienVND
    LoaiPhiLePhi: f.MaDanhMuc | None = None


class GiayTo(Record):
    TenGiayTo: f.Ten
    SoLuong: f.SoNguyen | None = None
    LoaiGiayTo: f.Ma | None = None


class HoSoBoSung(Record):
    HoSoBoSungId: f.Ma
    NguoiYeuCauBoSung: f.Ten | None = None
    NoiDungBoSung: f.VanBan | None = None
    NgayBoSung: f.NgayGio
    NguoiTiepNhanBoSung: f.Ten | None = None
    ThongTinTiepNhan: f.VanBan | None = None
    NgayTiepNhanBoSung: f.NgayGio | None = None
    TrangThaiBoSung: f.MaDanhMuc | None = None
    DanhSachGiayToBoSung: list[GiayTo] | None = None
    DanhSachLePhiBoSung: list[LePhi] | None = None
    NgayHenTraTruoc: f.NgayGio | None = None
    NgayHenTraMoi: f.NgayGio | None = None


class GiayToKetQua(Record):
    TenGiayTo: f.Ten
    MaThanhPhanHoSo: f.Ma | None = None
    GiayToId: f.Ma | None = None
    DuongDanTepTinKetQua: f.DuongDan | None = None
    MaGiayToKetQua: f.Ma | None = None


class HoSo(Record):
    MaHoSo: f.MaHoSo
    MaTTHC: f.MaTTHC
    TenTTHC: f.Ten
    MaLinhVuc: f.Ma
    TenLinhVuc: f.Ten
    KenhThucHien: f.KenhThucHien | None = None
    ChuHoSo: f.HoTen | None = None
    SoBienNhan: f.Ma | None = None
    SoGiayToChuHoSo: f.SoGiayTo | None = None
    LoaiDoiTuong: f.MaDanhMuc
    MaDoiTuong: f.VanBanRieng | None = None
    ThongTinKhac: f.VanBanRieng | None = None
    Email: f.ThuDienTu | None = None
    Fax: f.SoDienThoai | None = None
    SoDienThoai: f.SoDienThoai | None = None
    TrichYeuHoSo: f.VanBan | None = None
    NgayNopHoSo: f.NgayGio | None = None
    NgayTiepNhan: f.NgayGio
    NgayHenTra: f.NgayGio | None = None
    NgayTra: f.NgayGio | None = None
    NgayKetThucXuLy: f.NgayGio | None = None
    NgayTuChoi: f.NgayGio | None = None
    TrangThaiHoSo: f.TrangThai
    ThongTinTra: f.VanBan | None = None
    HinhThuc: f.HinhThucTra | None = None
    DonViXuLy: f.Ten
    NoiNopHoSo: f.Ten | None = None
    GhiChu: f.VanBan | None = None
    HoSoCoThanhPhanSoHoa: f.CoKhong | None = None
    TaiKhoanDuocXacThucVoiVNeID: f.CoKhong | None = None
    DuocThanhToanTrucTuyen: f.MaDanhMuc | None = None
    DinhDanhCHS: list[DinhDanh] | None = None
    DSKetNoiCSDL: list[KetNoiCSDL] | None = None
    TaiLieuNop: list[TaiLieu] | None = None
    DanhSachLePhi: list[LePhi] | None = None
    DanhSachTepDinhKemKhac: list[GiayTo] | None = None
    DanhSachHoSoBoSung: list[HoSoBoSung] | None = None
    DanhSachGiayToKetQua: list[GiayToKetQua] | None = None


# --- TienDoXuLy (progress step) ---------------------------------------------------

class TienDoXuLy(Record):
    MaHoSo: f.MaHoSo
    NguoiXuLy: f.Ten
    ChucDanh: f.Ten | None = None
    ThoiDiemXuLy: f.NgayGio
    PhongBanXuLy: f.Ten | None = None
    NoiDungXuLy: f.VanBan | None = None
    TrangThai: f.TrangThai
    NgayBatDau: f.NgayGio | None = None
    NgayKetThucTheoQuyDinh: f.NgayGio | None = None


# --- ThuTucHanhChinh (procedure catalogue entry) ---------------------------------

class LinhVuc(Record):
    MaLinhVuc: f.Ma
    TenLinhVuc: f.Ten


class BuocThucHien(Record):
    TenTrinhTu: f.VanBan


class TruongHopTrinhTu(Record):
    TruongHop: f.VanBan | None = None
    TrinhTu: list[BuocThucHien]


class PhiLePhiThuTuc(Record):
    SoTien: f.SoTienVND
    DonVi: f.Ten | None = None
    MoTa: f.VanBan | None = None


class ThoiGianThucHien(Record):
    ThoiGianGiaiQuyet: f.SoNguyen
    DonViTinh: f.Ten
    MoTa: f.VanBan | None = None
    PhiLePhi: list[PhiLePhiThuTuc] | None = None


class CachThuc(Record):
    Kenh: f.KenhThucHien
    ThoiGian: list[ThoiGianThucHien] | None = None


class ThanhPhan(Record):
    MaThanhPhanHoSo: f.Ma | None = None
    TenThanhPhanHoSo: f.VanBan
    SoLuong: f.SoNguyen | None = None


class CoQuan(Record):
    MaDonVi: f.Ma
    TenDonVi: f.Ten


class KetQua(Record):
    MaKetQua: f.Ma
    TenKetQua: f.Ten


class VanBanPhapLy(Record):
    SoVanBan: f.Ten
    TenVanBan: f.VanBan


class MauDonToKhai(Record):
    TenMauDon: f.Ten
    URL: f.DuongDan | None = None


class ThuTucHanhChinh(Record):
    MaTTHC: f.MaTTHC
    TenTTHC: f.Ten
    LinhVucThucHien: list[LinhVuc]
    TrinhTuThucHien: list[TruongHopTrinhTu] | None = None
    CachThucThucHien: list[CachThuc] | None = None
    ThanhPhanHoSo: list[ThanhPhan] | None = None
    DoiTuongThucHien: f.VanBan | None = None
    CoQuanThucHien: list[CoQuan] | None = None
    YeuCau: f.VanBanDai | None = None
    KetQuaThucHien: list[KetQua] | None = None
    CanCuPhapLy: list[VanBanPhapLy] | None = None
    MauDon: list[MauDonToKhai] | None = None


# --- Payment ----------------------------------------------------------------------

class KhoanPhi(Record):
    LoaiPhiLePhi: f.MaDanhMuc | None = None
    MaPhiLePhi: f.Ma | None = None
    TenPhiLePhi: f.Ten
    SoTien: f.SoTienVND


class YeuCauThanhToan(Record):
    MaHoSo: f.MaHoSo
    MaYeuCau: f.Ma
    MaTTHC: f.MaTTHC
    TenTTHC: f.Ten | None = None
    MaDonVi: f.MaDonVi
    TenDonVi: f.Ten | None = None
    SoTien: f.SoTienVND
    NoiDungThanhToan: f.VanBan | None = None
    HoTenNguoiNop: f.HoTen | None = None
    SoCMNDNguoiNop: f.SoGiayTo | None = None
    DiaChiNguoiNop: f.DiaChi | None = None
    TKThuHuong: f.Ma | None = None
    MaNHThuHuong: f.Ma | None = None
    TenTKThuHuong: f.Ten | None = None
    KhoBac: f.Ten | None = None
    TaiKhoanThuNSNN: f.Ma | None = None
    HanThanhToan: f.NgayGio | None = None
    PhiLePhi: list[KhoanPhi]


class BienLaiThanhToan(Record):
    MaHoSo: f.MaHoSo
    MaYeuCau: f.Ma
    MaGiaoDich: f.Ma
    MaNganHang: f.Ma | None = None
    SoBienLai: f.Ma | None = None
    SoTien: f.SoTienVND
    ThoiGianGD: f.NgayGio
    NoiDungThanhToan: f.VanBan | None = None
    HoTenNguoiNop: f.HoTen | None = None
    PhiLePhi: list[KhoanPhi] | None = None


# --- Postal -----------------------------------------------------------------------

class DiaChiLienHe(Record):
    HoTen: f.HoTen
    DiaChi: f.DiaChi
    SoDienThoai: f.SoDienThoai
    ThuDienTu: f.ThuDienTu | None = None
    MaTinh: f.SoNguyen | None = None
    MaHuyen: f.SoNguyen | None = None


class VanDonBuuChinh(Record):
    MaHoSo: f.MaHoSo
    LoaiVanDon: f.LoaiVanDon
    MaVanDon: f.Ma | None = None
    NguoiGui: DiaChiLienHe
    NguoiNhan: DiaChiLienHe
    MoTaHang: f.VanBan | None = None
    SoTienThuHo: f.SoTienVND | None = None
    KhoiLuong: f.SoNguyen | None = None
    GhiChu: f.VanBan | None = None


class TrangThaiVanDon(Record):
    MaHoSo: f.MaHoSo
    MaVanDon: f.Ma | None = None
    MaTrangThai: f.Ma
    MoTaTrangThai: f.VanBan | None = None
    ThoiGian: f.NgayGio


# --- Feedback and evaluation ------------------------------------------------------

class NguoiPhanAnh(Record):
    HoTen: f.HoTen
    SoDienThoai: f.SoDienThoai | None = None
    ThuDienTu: f.ThuDienTu | None = None
    DiaChi: f.DiaChi | None = None


class TraLoiPhanAnh(Record):
    NoiDungTraLoi: f.VanBanDai
    DonViTraLoi: f.Ten
    NgayTraLoi: f.NgayGio


class PhanAnhKienNghi(Record):
    MaPAKN: f.Ma
    TieuDe: f.Ten
    NoiDung: f.VanBanDai
    NgayGui: f.NgayGio
    NguoiGui: NguoiPhanAnh
    MaTTHC: f.MaTTHC | None = None
    MaHoSo: f.MaHoSo | None = None
    DonViTiepNhan: f.Ten | None = None
    TrangThai: f.MaDanhMuc | None = None
    TraLoi: TraLoiPhanAnh | None = None


class TieuChiDanhGia(Record):
    MaTieuChi: f.Ma
    Diem: f.SoNguyen


class DanhGiaHaiLong(Record):
    MaHoSo: f.MaHoSo
    MaTTHC: f.MaTTHC | None = None
    NgayDanhGia: f.NgayGio
    MucDoHaiLong: f.MaDanhMuc
    DanhSachTieuChi: list[TieuChiDanhGia] | None = None
    GopY: f.VanBan | None = None


# --- BienNhan (the gateway's acknowledgement receipt) ----------------------------

class BienNhan(Record):
    MaGoiTinNhan: f.MaUUID
    BamSHA256: f.BamSHA256
    ThoiGianNhan: f.NgayGio
    KetQua: f.KetQuaTiepNhan
    KetQuaChuKy: f.KetQuaChuKy
    GhiChu: f.VanBan | None = None
