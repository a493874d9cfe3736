"""A working day at a province's one-stop shops, as the packets their system sends the gateway.

Each dossier follows one of the usual paths through the national statuses 1–10: a ``HoSo`` when it
is registered or received and again when its status needs fields (3 NgayTuChoi, 6 DanhSachLePhi,
9 NgayKetThucXuLy, 10 NgayTra), a ``TienDoXuLy`` for every step. Procedures come from the simulated
portal's catalogue; a quarter of the dossiers travel as XML. A few packets are wrong the way real
senders get them wrong (``flaw`` says how); inside a dossier the sender then sends the corrected one.
"""

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
import json
import random
from typing import Any
import uuid

from demo.people import FEES, PROCEDURES, UNITS, Citizen, Unit, citizen, nfc
from gateway.packets import xml_codec
from gateway.packets.envelope import GoiTin

STAMP = "%Y%m%d%H%M%S"
OPENS, CLOSES = time(7, 30), time(17, 30)

# Paths through the statuses: "H<n>" a HoSo in status n, "T<n>" a progress step to status n.
PATHS: dict[str, tuple[str, ...]] = {
    "in_person": ("H2", "T4", "T9", "H9", "T10", "H10"),  # received at the desk, finished, returned
    "online": ("H1", "T2", "T4", "T9", "T10", "H10"),  # registered online, then received
    "by_post": ("H2", "T4", "T9", "H9"),  # the result returned by post (HinhThuc 1): the postal service brings 10
    "supplement": ("H2", "T4", "T5", "T4", "T9", "T10", "H10"),  # papers missing, then completed
    "fees": ("H2", "T4", "H6", "T6", "T4", "T9", "T10", "H10"),  # fees asked, paid, finished
    "refused": ("H1", "T3", "H3"),  # refused at reception
    "withdrawn": ("H2", "T4", "T7"),  # the citizen withdraws it
    "stopped": ("H2", "T4", "T8"),  # processing stopped
}
WEIGHTS = {"in_person": 26, "online": 18, "by_post": 8, "supplement": 10, "fees": 12, "refused": 6,
           "withdrawn": 5, "stopped": 4}
WHAT_HAPPENED = {
    2: "Tiếp nhận hồ sơ, hẹn ngày trả kết quả", 3: "Từ chối tiếp nhận: thủ tục không thuộc thẩm quyền của đơn vị",
    4: "Chuyển chuyên viên thẩm định hồ sơ", 5: "Yêu cầu bổ sung bản sao giấy tờ tùy thân có chứng thực",
    6: "Thông báo nộp phí, lệ phí", 7: "Công dân có đơn đề nghị rút hồ sơ",
    8: "Dừng xử lý theo đề nghị của cơ quan phối hợp", 9: "Lãnh đạo ký duyệt kết quả giải quyết",
    10: "Trả kết quả cho công dân tại Bộ phận Một cửa"}
AFTER = {5: "Đã nhận hồ sơ bổ sung, tiếp tục thẩm định", 6: "Công dân đã nộp phí, lệ phí; tiếp tục xử lý"}


@dataclass(frozen=True)
class Outgoing:
    """One packet as the one-stop system sends it."""

    packet_id: str
    packet_type: str
    dossier: str
    encoding: str  # "json" | "xml"
    raw: bytes
    at: datetime  # on the day's clock (local time)
    body: dict[str, Any] | None  # the NoiDung body as sent; None when the bytes are unreadable
    flaw: str = ""  # "tiếng Việt / English": what is deliberately wrong; such a packet must be refused


@dataclass
class Dossier:
    code: str
    path: str
    procedure: str
    packets: list[Outgoing] = field(default_factory=list)


@dataclass
class Day:
    date: date
    dossiers: list[Dossier]
    strays: list[Outgoing]  # wrong packets outside any dossier's story

    @property
    def packets(self) -> list[Outgoing]:
        return [p for d in self.dossiers for p in d.packets] + self.strays

    def dossier(self, code: str) -> Dossier:
        return next(d for d in self.dossiers if d.code == code)


def _stamp(moment: datetime) -> str:
    return moment.strftime(STAMP)


@dataclass
class _Story:
    """What one dossier needs to be told consistently, packet after packet."""

    code: str
    procedure: dict[str, Any]
    unit: Unit
    person: Citizen
    path: str
    encoding: str
    submitted: datetime
    start: datetime  # the day's first packet of this dossier
    received: datetime | None = None
    due: datetime | None = None
    finished: datetime | None = None
    last: datetime | None = None  # the previous step's moment


class DayBuilder:
    def __init__(self, day: date, seed: int = 0) -> None:
        self.day, self.rng = day, random.Random(seed)
        self.sequence: dict[str, int] = {}

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _packet(self, story: _Story, kind: str, body: dict[str, Any], at: datetime, flaw: str = "",
                envelope: dict[str, Any] | None = None, encoding: str | None = None) -> Outgoing:
        data = {"MaGoiTin": self._id(), "LoaiGoiTin": kind, "PhienBan": "1.0", "NoiGui": story.unit.agency,
                "NoiNhan": "DVCQG", "ThoiGianGui": _stamp(at), "NoiDung": {kind: body}, **(envelope or {})}
        encoding = encoding or story.encoding
        raw = (json.dumps(data, ensure_ascii=False).encode() if encoding == "json"
               else xml_codec.encode(GoiTin.model_validate(data)))
        return Outgoing(data["MaGoiTin"], kind, story.code, encoding, raw, at, body, flaw)

    # --- bodies -------------------------------------------------------------------------
    def _hoso(self, story: _Story, status: int, at: datetime) -> dict[str, Any]:
        p, person, post = story.procedure, story.person, story.path == "by_post"
        body: dict[str, Any] = {
            "MaHoSo": story.code, "MaTTHC": p["MaTTHC"], "TenTTHC": p["TenTTHC"],
            "MaLinhVuc": p["LinhVucThucHien"][0]["MaLinhVuc"], "TenLinhVuc": p["LinhVucThucHien"][0]["TenLinhVuc"],
            "KenhThucHien": 2 if story.path == "online" or story.path == "refused" else 1,
            "ChuHoSo": person.name, "SoBienNhan": f"BN-{story.code[-11:]}", "SoGiayToChuHoSo": person.id_number,
            "LoaiDoiTuong": 1, "SoDienThoai": person.phone, "TrichYeuHoSo": nfc(f"Đề nghị {p['TenTTHC'].lower()}"),
            "NgayNopHoSo": _stamp(story.submitted),
            "NgayTiepNhan": _stamp(story.received or story.submitted), "TrangThaiHoSo": status,
            "HinhThuc": 1 if post else 0, "DonViXuLy": story.unit.name,
            "NoiNopHoSo": "Cổng Dịch vụ công quốc gia" if story.path in ("online", "refused") else "Bộ phận Một cửa",
            "HoSoCoThanhPhanSoHoa": 1, "TaiKhoanDuocXacThucVoiVNeID": 1 if story.path == "online" else 0,
            "DuocThanhToanTrucTuyen": 0, "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": person.id_number}],
            "DSKetNoiCSDL": [{"MaCSDL": "CSDLQGDC"}],
            "TaiLieuNop": [{"TepDinhKemId": f"TL-{self.rng.getrandbits(32):08x}", "TenTepDinhKem": "Đơn đề nghị.pdf",
                            "IsDeleted": 0, "MaThanhPhanHoSo": "TP01", "DuocSoHoa": 1, "DuocTaiSuDung": 0,
                            "DuocLayTuKhoDMQG": 0}],
        }
        if story.due is not None:
            body["NgayHenTra"] = _stamp(story.due)
        if post:
            body["ThongTinTra"] = "Trả kết quả qua dịch vụ bưu chính công ích đến địa chỉ đã đăng ký"
            # the registered address, where one-stop systems put it (the postal order's receiver address)
            body["ThongTinKhac"] = nfc(f"Số {int(story.code[-4:]) + 10} đường Lê Lợi, {story.unit.name}")
        if status == 3:
            body["NgayTuChoi"] = _stamp(at)
        if status == 6:
            body["DanhSachLePhi"] = [{"TenPhiLePhi": name, "MaPhiLePhi": code, "HinhThucThu": 1 if kind == 1 else 4,
                                      "Gia": price, "LoaiPhiLePhi": kind}
                                     for name, code, price, kind in FEES[p["MaTTHC"]]]
        if status in (9, 10):
            body["NgayKetThucXuLy"] = _stamp(story.finished or at)
        if status == 10:
            body["NgayTra"] = _stamp(at)
        return body

    def _step(self, story: _Story, status: int, at: datetime, previous: int) -> dict[str, Any]:
        officer, title = self.rng.choice(story.unit.officers)
        what = AFTER.get(previous, WHAT_HAPPENED[4]) if status == 4 else WHAT_HAPPENED[status]
        begun = story.last or story.submitted
        return {"MaHoSo": story.code, "NguoiXuLy": officer, "ChucDanh": title, "ThoiDiemXuLy": _stamp(at),
                "PhongBanXuLy": story.unit.department, "NoiDungXuLy": what, "TrangThai": status,
                "NgayBatDau": _stamp(begun),
                "NgayKetThucTheoQuyDinh": _stamp(story.due or story.submitted + timedelta(days=1))}

    # --- one dossier --------------------------------------------------------------------
    def _story(self, path: str, encoding: str) -> _Story:
        procedure = self.rng.choice([p for p in PROCEDURES if path != "fees" or p["MaTTHC"] in FEES])
        unit = UNITS[procedure["MaTTHC"]]
        days = procedure["CachThucThucHien"][0]["ThoiGian"][0]["ThoiGianGiaiQuyet"]
        steps = len(PATHS[path])
        latest = datetime.combine(self.day, CLOSES) - timedelta(minutes=40 * steps)
        first = datetime.combine(self.day, OPENS) + timedelta(
            seconds=self.rng.randrange(int((latest - datetime.combine(self.day, OPENS)).total_seconds())))
        earlier = timedelta(days=self.rng.randrange(days), minutes=self.rng.randrange(5, 90))
        submitted = first - earlier if path in ("online", "refused") else first - timedelta(days=earlier.days)
        number = self.sequence[unit.agency] = self.sequence.get(unit.agency, 0) + 1
        code = f"{unit.agency}-{submitted:%y%m%d}-{number:04d}"
        story = _Story(code, procedure, unit, citizen(self.rng), path, encoding, submitted, first)
        if path not in ("online", "refused"):
            self._receive(story, submitted, days)
        return story

    def _receive(self, story: _Story, at: datetime, days: int) -> None:
        story.received = at
        story.due = datetime.combine(at.date() + timedelta(days=max(days, 1)), time(17, 0))

    def dossier(self, path: str, encoding: str) -> Dossier:
        story = self._story(path, encoding)
        days = story.procedure["CachThucThucHien"][0]["ThoiGian"][0]["ThoiGianGiaiQuyet"]
        at = story.start
        packets: list[Outgoing] = []
        previous = 0
        for n, event in enumerate(PATHS[path]):
            kind, status = event[0], int(event[1:])
            if n:
                at += timedelta(minutes=self.rng.randrange(10, 40), seconds=self.rng.randrange(60))
            if kind == "T" and status == 2:
                self._receive(story, at, days)
            if kind == "T" and status == 9:
                story.finished = at
            if kind == "H":
                packets.append(self._packet(story, "HoSo", self._hoso(story, status, at), at))
            else:
                packets.append(self._packet(story, "TienDoXuLy", self._step(story, status, at, previous), at))
                story.last = at
            previous = status
        return Dossier(story.code, path, story.procedure["MaTTHC"], packets)

    # --- the day ------------------------------------------------------------------------
    def build(self, count: int = 72) -> Day:
        paths = list(PATHS) + self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=count - len(PATHS))
        dossiers = [self.dossier(path, "xml" if n % 4 == 3 else "json") for n, path in enumerate(paths)]
        self._flaws(dossiers)
        return Day(self.day, dossiers, self._strays())

    def _flaws(self, dossiers: list[Dossier]) -> None:
        """Mistakes inside stories; the corrected packet follows (or, after a terminal status, nothing)."""
        first = {path: next(d for d in dossiers if d.path == path) for path in ("fees", "refused", "withdrawn",
                                                                                "in_person")}
        self._before(first["fees"], "HoSo", 6, lambda b: b.pop("DanhSachLePhi"),
                     "HoSo trạng thái 6 thiếu DanhSachLePhi / a status-6 HoSo without its fees")
        self._before(first["refused"], "HoSo", 3, lambda b: b.pop("NgayTuChoi"),
                     "HoSo trạng thái 3 thiếu NgayTuChoi / a status-3 HoSo without the refusal date")
        self._before(first["in_person"], "TienDoXuLy", 9,
                     lambda b: b.update(ThoiDiemXuLy=b["ThoiDiemXuLy"][:4] + "0231" + b["ThoiDiemXuLy"][8:]),
                     "ngày 31/02 không có thật / 31 February does not exist")
        withdrawn = first["withdrawn"]
        last = withdrawn.packets[-1]
        body = copy.deepcopy(last.body or {})
        at = last.at + timedelta(minutes=25)
        body.update(TrangThai=4, ThoiDiemXuLy=_stamp(at), NgayBatDau=_stamp(last.at), NoiDungXuLy=WHAT_HAPPENED[4])
        withdrawn.packets.append(self._resend(withdrawn, last, body, at,
                                              "bước xử lý sau khi hồ sơ đã rút (trạng thái cuối 7) / "
                                              "a step after the dossier was withdrawn (terminal status 7)"))

    def _resend(self, dossier: Dossier, like: Outgoing, body: dict[str, Any], at: datetime, flaw: str) -> Outgoing:
        story = _Story(dossier.code, {}, UNITS[dossier.procedure], citizen(self.rng), dossier.path, like.encoding,
                       at, at)
        return self._packet(story, like.packet_type, body, at, flaw)

    def _before(self, dossier: Dossier, kind: str, status: int, spoil: Any, flaw: str) -> None:
        n, good = next((n, p) for n, p in enumerate(dossier.packets) if p.packet_type == kind and p.body
                       and p.body.get("TrangThaiHoSo" if kind == "HoSo" else "TrangThai") == status)
        body = copy.deepcopy(good.body or {})
        spoil(body)
        dossier.packets.insert(n, self._resend(dossier, good, body, good.at - timedelta(minutes=3), flaw))

    def _strays(self) -> list[Outgoing]:
        """Wrong packets of their own, each for a dossier the day never otherwise mentions."""
        strays: list[Outgoing] = []

        def spoiled(path: str, encoding: str, flaw: str, spoil: Any, envelope: dict[str, Any] | None = None,
                    raw: Any = None) -> None:
            dossier = self.dossier(path, encoding)
            good = dossier.packets[0] if dossier.packets[0].packet_type == "HoSo" else dossier.packets[1]
            body = copy.deepcopy(good.body or {})
            spoil(body)
            story = _Story(dossier.code, {}, UNITS[dossier.procedure], citizen(self.rng), path, encoding, good.at,
                           good.at)
            if raw is None:
                packet = self._packet(story, good.packet_type, body, good.at, flaw, envelope, "json")
            else:
                packet = Outgoing(self._id(), good.packet_type, dossier.code, encoding, raw(good.raw), good.at, None,
                                  flaw)
            strays.append(packet)

        spoiled("in_person", "xml", "XML bị cắt cụt giữa chừng / XML cut off halfway", lambda b: None,
                raw=lambda raw: raw[: len(raw) // 2])
        spoiled("in_person", "json", "thiếu MaTTHC / MaTTHC missing", lambda b: b.pop("MaTTHC"))
        spoiled("online", "json", "số CCCD 11 chữ số / an 11-digit citizen ID",
                lambda b: b.update(SoGiayToChuHoSo=b["SoGiayToChuHoSo"][:11]))
        spoiled("in_person", "json", "thời điểm gửi ở ngày mai / sent 'tomorrow'", lambda b: None,
                envelope={"ThoiGianGui": _stamp(datetime.combine(date.today() + timedelta(days=2), time(9)))})
        spoiled("supplement", "json", "trường không có trong QCVN 120 / a field QCVN 120 does not have",
                lambda b: b.update(GhiChuNoiBo="ghi chú nội bộ"))
        spoiled("stopped", "json", "trạng thái 11 không tồn tại / status 11 does not exist",
                lambda b: b.update(TrangThaiHoSo=11))
        return strays


def build_day(day: date, seed: int = 0, count: int = 72) -> Day:
    return DayBuilder(day, seed).build(count)
