"""Layer 3: what the schema cannot say — real dates, date order, fields a status
requires, configured code lists, identifier lengths, sums, and the status graph."""

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel

from gateway.config import Config
from gateway.packets import bodies as b
from gateway.packets import formats
from gateway.packets.catalogue import all_records, field_map, fields_of
from gateway.packets.envelope import GoiTin
from gateway.pii import mask
from gateway.validate import facts
from gateway.validate.facts import PacketFacts, View
from gateway.validate.messages import Label, message
from gateway.validate.report import Issue
from gateway.validate.schema import field_label

DATE_FORMAT = "%Y%m%d%H%M%S"


class StatusHistory(Protocol):
    """The last status the gateway accepted for a dossier (the store, or memory in the CLI)."""

    def previous_status(self, dossier: str) -> int | None: ...


class NoHistory:
    def previous_status(self, dossier: str) -> int | None:
        return None


@dataclass
class MemoryHistory:
    """Statuses seen so far in one run, e.g. across the files given to ``gateway validate``."""

    statuses: dict[str, int] = field(default_factory=dict)

    def previous_status(self, dossier: str) -> int | None:
        return self.statuses.get(dossier)

    def record(self, packet: GoiTin) -> None:
        status = status_of(packet)
        if status is not None and packet.dossier_code:
            self.statuses[packet.dossier_code] = status


def status_of(packet: GoiTin) -> int | None:
    body = packet.body
    if isinstance(body, b.HoSo):
        return body.TrangThaiHoSo
    if isinstance(body, b.TienDoXuLy):
        return body.TrangThai
    return None


def date_exists(value: str) -> bool:
    """The schema pattern bounds each part; only year 0000 and the day of the month can still be wrong."""
    if value[6:8] <= "28":  # most days need no calendar (the pattern makes them two digits)
        return value[:4] != "0000"
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    return year >= 1 and day <= monthrange(year, month)[1]


def parse_date(value: str, config: Config) -> datetime:
    """``yyyyMMddHHmmss`` in the configured zone (what ``strptime`` with DATE_FORMAT gives, faster)."""
    return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]),
                    int(value[12:14]), tzinfo=config.zone)


@cache
def _plan(record: type[BaseModel]) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...], tuple[str, ...]]:
    """(date fields, nested record fields with repeated flag, code-list fields) of a record.
    Nested records without a date or code-list field anywhere below are left out: nothing to check."""
    dates = tuple(s.name for s in fields_of(record) if s.format is formats.DATETIME)
    nested = tuple((s.name, s.repeated) for s in fields_of(record) if s.record is not None and _checked(s.record))
    codes = tuple(s.name for s in fields_of(record) if s.format is formats.CONFIG_CODE)
    return dates, nested, codes


@cache
def _checked(record: type[BaseModel]) -> bool:
    return any(s.format in (formats.DATETIME, formats.CONFIG_CODE) or (s.record is not None and _checked(s.record))
               for s in fields_of(record))


# What the rules read besides dates, code-list fields and the records holding them: an XML
# packet's view reads only these (asking for another field there is a KeyError).
_READS = {
    "GoiTin": ("MaGoiTin", "LoaiGoiTin", "ThoiGianGui", "NoiDung"),
    "HoSo": ("MaTTHC", "TrangThaiHoSo", "SoGiayToChuHoSo", "LoaiDoiTuong", "DinhDanhCHS"),
    "DinhDanh": ("SoDinhDanh",),
    "TienDoXuLy": ("TrangThai",),
    "YeuCauThanhToan": ("SoTien", "PhiLePhi"), "BienLaiThanhToan": ("SoTien", "PhiLePhi"), "KhoanPhi": ("SoTien",),
    "PhanAnhKienNghi": ("TraLoi",),
}


def reads(config: Config) -> dict[type[BaseModel], frozenset[str]]:
    """The fields the rules read, per record (MaHoSo always: it names the packet's dossier)."""
    result = {}
    for record in all_records(GoiTin):
        dates, nested, codes = _plan(record)
        names = {*dates, *codes, *(name for name, _ in nested), *_READS.get(record.__name__, ())}
        if record is b.HoSo:
            names.update(name for required in config.required_by_status.values() for name in required)
        result[record] = frozenset(name for name in names | {"MaHoSo"} if name in field_map(record))
    return result


class _Checker:
    def __init__(self, packet: PacketFacts, config: Config, history: StatusHistory, now: datetime) -> None:
        self.packet, self.config, self.history, self.now = packet, config, history, now
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.body = packet.body
        self.body_type = packet.body_type
        self.body_path = f"NoiDung/{self.body_type}"
        self.code_lists = config.code_lists

    def report(self, rule: str, path: str, shown: Any = None, /, *, warning: bool = False, **values: Any) -> None:
        # Positional-only: message templates use {value} too, and it comes through ``values``.
        vi, en = message(rule, **values)
        issue = Issue("semantic", path, rule, vi, en, value=None if shown is None else str(shown))
        (self.warnings if warning else self.errors).append(issue)

    # -- generic rules over every record --------------------------------------------
    def walk(self, record: View, path: str) -> None:
        dates, nested, codes = _plan(record.record)
        code_lists = self.code_lists
        for name in dates:
            value = record.get(name)
            if value is not None and not date_exists(value):
                self.report("semantic.date_invalid", f"{path}/{name}", value, field=field_label(f"{path}/{name}"))
        for name in codes:
            value = record.get(name)
            allowed = code_lists.get(name)
            if value is not None and allowed is not None and value not in allowed:
                self.report("semantic.code_list", f"{path}/{name}", value, field=field_label(f"{path}/{name}"), value=value,
                            allowed=Label.listing(allowed))
        for name, repeated in nested:
            items = record.items(name)
            if repeated:
                for i, item in enumerate(items, 1):
                    self.walk(item, f"{path}/{name}[{i}]")
            elif items:
                self.walk(items[0], f"{path}/{name}")

    def not_before(self, record: View, later: str, earlier: str) -> None:
        """``later`` must not be earlier than ``earlier`` (both yyyyMMddHHmmss: compare as text)."""
        a, b_ = record.get(later), record.get(earlier)
        if a is not None and b_ is not None and a < b_:
            path = f"{self.body_path}/{later}"
            self.report("semantic.date_order", path, a, field=later, value=a, other=earlier, other_value=b_)

    def envelope(self) -> None:
        declared, sent = self.packet.envelope.get("LoaiGoiTin"), self.packet.envelope.get("ThoiGianGui")
        if declared != self.body_type:
            self.report("semantic.body_type", "LoaiGoiTin", declared, declared=declared, actual=self.body_type)
        if not date_exists(sent):
            self.report("semantic.date_invalid", "ThoiGianGui", sent, field="ThoiGianGui")
        elif parse_date(sent, self.config) > self.now + timedelta(minutes=self.config.future_tolerance_minutes):
            self.report("semantic.future_time", "ThoiGianGui", sent, field="ThoiGianGui", value=sent)

    # -- per body type --------------------------------------------------------------
    def ho_so(self, ho_so: View) -> None:
        for later, earlier in (("NgayTiepNhan", "NgayNopHoSo"), ("NgayHenTra", "NgayTiepNhan"),
                               ("NgayKetThucXuLy", "NgayTiepNhan"), ("NgayTra", "NgayKetThucXuLy"),
                               ("NgayTuChoi", "NgayNopHoSo")):
            self.not_before(ho_so, later, earlier)
        status = ho_so.get("TrangThaiHoSo")
        for name in self.config.required_by_status.get(status, ()):
            if not ho_so.has(name):
                self.report("semantic.required_for_status", f"{self.body_path}/{name}", field=name, status=status,
                            status_name=Label.parse(self.config.status_names.get(status, "")))
        for i, identifier in enumerate(ho_so.items("DinhDanhCHS"), 1):
            digits = self.config.identifier_digits.get(identifier.get("LoaiDinhDanh"))
            number = identifier.get("SoDinhDanh")
            if digits is not None and len(number) != digits:
                self.report("semantic.id_digits", f"{self.body_path}/DinhDanhCHS[{i}]/SoDinhDanh",
                            mask(number), kind=identifier.get("LoaiDinhDanh"), digits=digits)
        owner_id = ho_so.get("SoGiayToChuHoSo")
        if ho_so.get("LoaiDoiTuong") == 1 and owner_id is not None and len(owner_id) not in (9, 12):
            self.report("semantic.citizen_id", f"{self.body_path}/SoGiayToChuHoSo", mask(owner_id))
        procedure = ho_so.get("MaTTHC")
        if "." in procedure[2:]:
            self.report("semantic.local_procedure", f"{self.body_path}/MaTTHC", procedure, warning=True,
                        value=procedure)
        self.transition(ho_so.get("MaHoSo"), status)

    def tien_do(self, step: View) -> None:
        self.not_before(step, "ThoiDiemXuLy", "NgayBatDau")
        self.not_before(step, "NgayKetThucTheoQuyDinh", "NgayBatDau")
        self.transition(step.get("MaHoSo"), step.get("TrangThai"))

    def amounts(self, payment: View) -> None:
        fees = payment.items("PhiLePhi")
        if fees:
            total = payment.get("SoTien")
            fee_sum = sum(fee.get("SoTien") for fee in fees)
            if fee_sum != total:
                self.report("semantic.amount_mismatch", f"{self.body_path}/SoTien", total, value=total, total=fee_sum)

    def reply(self, feedback: View) -> None:
        for answer in feedback.items("TraLoi"):
            replied, sent = answer.get("NgayTraLoi"), feedback.get("NgayGui")
            if replied < sent:
                self.report("semantic.date_order", f"{self.body_path}/TraLoi/NgayTraLoi", replied,
                            field="TraLoi/NgayTraLoi", value=replied, other="NgayGui", other_value=sent)

    def transition(self, dossier: str, status: int) -> None:
        errors, warnings = transition_issues(self.config, dossier, status, self.history.previous_status(dossier),
                                             status_path(self.body_type))
        self.errors += errors
        self.warnings += warnings

    def run(self) -> None:
        self.envelope()
        body = self.body
        self.walk(body, self.body_path)
        if self.body_type == "HoSo":
            self.ho_so(body)
        elif self.body_type == "TienDoXuLy":
            self.tien_do(body)
        elif self.body_type in ("YeuCauThanhToan", "BienLaiThanhToan"):
            self.amounts(body)
        elif self.body_type == "PhanAnhKienNghi":
            self.reply(body)


STATUS_FIELDS = {"HoSo": "TrangThaiHoSo", "TienDoXuLy": "TrangThai"}  # body type → its dossier status


def status_path(body_type: str) -> str:
    """Where a body of ``body_type`` carries its dossier status (``STATUS_FIELDS``)."""
    return f"NoiDung/{body_type}/{STATUS_FIELDS[body_type]}"


TRANSITION_RULES = ("semantic.transition", "semantic.after_terminal")  # what transition_issues reports


def transition_issues(config: Config, dossier: str, status: int, previous: int | None,
                      path: str) -> tuple[list[Issue], list[Issue]]:
    """(errors, warnings) of a dossier moving from ``previous`` (None: the first step seen) to ``status``,
    by the configured transitions and their policies; ``path`` is where the packet carries ``status``."""
    if previous is None or previous == status:
        return [], []
    names = config.status_names
    values = dict(dossier=dossier, previous=previous, previous_name=Label.parse(names.get(previous, "")),
                  status=status, status_name=Label.parse(names.get(status, "")))
    if previous in config.terminal_statuses:
        rule, warning = "semantic.after_terminal", config.after_terminal_policy == "warn"
    elif status not in config.transitions.get(previous, ()):
        rule, warning = "semantic.transition", config.transition_policy == "warn"
    else:
        return [], []
    vi, en = message(rule, **values)
    issue = Issue("semantic", path, rule, vi, en, value=str(status))
    return ([], [issue]) if warning else ([issue], [])


def check(packet: GoiTin | PacketFacts, config: Config, history: StatusHistory | None = None,
          now: datetime | None = None) -> tuple[list[Issue], list[Issue]]:
    """(errors, warnings) of the semantic rules for one packet, read from the model or a ``PacketFacts``."""
    view = facts.of_model(packet) if isinstance(packet, GoiTin) else packet
    checker = _Checker(view, config, history or NoHistory(), now or datetime.now(config.zone))
    checker.run()
    return checker.errors, checker.warnings
