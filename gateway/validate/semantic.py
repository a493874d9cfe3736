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
from gateway.packets.catalogue import fields_of
from gateway.packets.envelope import GoiTin
from gateway.pii import mask
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
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    return year >= 1 and (day <= 28 or day <= monthrange(year, month)[1])  # most days need no calendar


def parse_date(value: str, config: Config) -> datetime:
    """``yyyyMMddHHmmss`` in the configured zone (what ``strptime`` with DATE_FORMAT gives, faster)."""
    return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]),
                    int(value[12:14]), tzinfo=config.zone)


@cache
def _plan(record: type[BaseModel]) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...], tuple[str, ...]]:
    """(date fields, nested record fields with repeated flag, code-list fields) of a record."""
    dates = tuple(s.name for s in fields_of(record) if s.format is formats.DATETIME)
    nested = tuple((s.name, s.repeated) for s in fields_of(record) if s.record is not None)
    codes = tuple(s.name for s in fields_of(record) if s.format is formats.CONFIG_CODE)
    return dates, nested, codes


class _Checker:
    def __init__(self, packet: GoiTin, config: Config, history: StatusHistory, now: datetime) -> None:
        self.packet, self.config, self.history, self.now = packet, config, history, now
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.body = packet.body  # found once: NoiDung.body scans its fields
        self.body_type = type(self.body).__name__
        self.body_path = f"NoiDung/{self.body_type}"

    def report(self, rule: str, path: str, shown: Any = None, /, *, warning: bool = False, **values: Any) -> None:
        # Positional-only: message templates use {value} too, and it comes through ``values``.
        vi, en = message(rule, **values)
        issue = Issue("semantic", path, rule, vi, en, value=None if shown is None else str(shown))
        (self.warnings if warning else self.errors).append(issue)

    # -- generic rules over every record --------------------------------------------
    def walk(self, record: BaseModel, path: str) -> None:
        dates, nested, codes = _plan(type(record))
        for name in dates:
            value = getattr(record, name)
            if value is not None and not date_exists(value):
                self.report("semantic.date_invalid", f"{path}/{name}", value, field=field_label(f"{path}/{name}"))
        for name in codes:
            value = getattr(record, name)
            allowed = self.config.code_lists.get(name)
            if value is not None and allowed is not None and value not in allowed:
                self.report("semantic.code_list", f"{path}/{name}", value, field=field_label(f"{path}/{name}"), value=value,
                            allowed=Label.listing(allowed))
        for name, repeated in nested:
            value = getattr(record, name)
            if value is None:
                continue
            if repeated:
                for i, item in enumerate(value, 1):
                    self.walk(item, f"{path}/{name}[{i}]")
            else:
                self.walk(value, f"{path}/{name}")

    def not_before(self, record: BaseModel, later: str, earlier: str) -> None:
        """``later`` must not be earlier than ``earlier`` (both yyyyMMddHHmmss: compare as text)."""
        a, b_ = getattr(record, later), getattr(record, earlier)
        if a is not None and b_ is not None and a < b_:
            path = f"{self.body_path}/{later}"
            self.report("semantic.date_order", path, a, field=later, value=a, other=earlier, other_value=b_)

    def envelope(self) -> None:
        packet = self.packet
        if packet.LoaiGoiTin != self.body_type:
            self.report("semantic.body_type", "LoaiGoiTin", packet.LoaiGoiTin, declared=packet.LoaiGoiTin,
                        actual=self.body_type)
        if not date_exists(packet.ThoiGianGui):
            self.report("semantic.date_invalid", "ThoiGianGui", packet.ThoiGianGui, field="ThoiGianGui")
        elif parse_date(packet.ThoiGianGui, self.config) > self.now + timedelta(
                minutes=self.config.future_tolerance_minutes):
            self.report("semantic.future_time", "ThoiGianGui", packet.ThoiGianGui, field="ThoiGianGui",
                        value=packet.ThoiGianGui)

    # -- per body type --------------------------------------------------------------
    def ho_so(self, ho_so: b.HoSo) -> None:
        for later, earlier in (("NgayTiepNhan", "NgayNopHoSo"), ("NgayHenTra", "NgayTiepNhan"),
                               ("NgayKetThucXuLy", "NgayTiepNhan"), ("NgayTra", "NgayKetThucXuLy"),
                               ("NgayTuChoi", "NgayNopHoSo")):
            self.not_before(ho_so, later, earlier)
        status = ho_so.TrangThaiHoSo
        for name in self.config.required_by_status.get(status, ()):
            if getattr(ho_so, name, None) is None:
                self.report("semantic.required_for_status", f"{self.body_path}/{name}", field=name, status=status,
                            status_name=Label.parse(self.config.status_names.get(status, "")))
        for i, identifier in enumerate(ho_so.DinhDanhCHS or (), 1):
            digits = self.config.identifier_digits.get(identifier.LoaiDinhDanh)
            if digits is not None and len(identifier.SoDinhDanh) != digits:
                self.report("semantic.id_digits", f"{self.body_path}/DinhDanhCHS[{i}]/SoDinhDanh",
                            mask(identifier.SoDinhDanh), kind=identifier.LoaiDinhDanh, digits=digits)
        owner_id = ho_so.SoGiayToChuHoSo
        if ho_so.LoaiDoiTuong == 1 and owner_id is not None and len(owner_id) not in (9, 12):
            self.report("semantic.citizen_id", f"{self.body_path}/SoGiayToChuHoSo", mask(owner_id))
        if "." in ho_so.MaTTHC[2:]:
            self.report("semantic.local_procedure", f"{self.body_path}/MaTTHC", ho_so.MaTTHC, warning=True,
                        value=ho_so.MaTTHC)
        self.transition(ho_so.MaHoSo, status, "TrangThaiHoSo")

    def tien_do(self, step: b.TienDoXuLy) -> None:
        self.not_before(step, "ThoiDiemXuLy", "NgayBatDau")
        self.not_before(step, "NgayKetThucTheoQuyDinh", "NgayBatDau")
        self.transition(step.MaHoSo, step.TrangThai, "TrangThai")

    def amounts(self, total: int, fees: list[b.KhoanPhi] | None) -> None:
        if fees:
            fee_sum = sum(fee.SoTien for fee in fees)
            if fee_sum != total:
                self.report("semantic.amount_mismatch", f"{self.body_path}/SoTien", total, value=total, total=fee_sum)

    def transition(self, dossier: str, status: int, name: str) -> None:
        previous = self.history.previous_status(dossier)
        if previous is None or previous == status:
            return
        names = self.config.status_names
        values = dict(dossier=dossier, previous=previous, previous_name=Label.parse(names.get(previous, "")),
                      status=status, status_name=Label.parse(names.get(status, "")))
        path = f"{self.body_path}/{name}"
        if previous in self.config.terminal_statuses:
            self.report("semantic.after_terminal", path, status,
                        warning=self.config.after_terminal_policy == "warn", **values)
        elif status not in self.config.transitions.get(previous, ()):
            self.report("semantic.transition", path, status, warning=self.config.transition_policy == "warn",
                        **values)

    def run(self) -> None:
        self.envelope()
        body = self.body
        self.walk(body, self.body_path)
        if isinstance(body, b.HoSo):
            self.ho_so(body)
        elif isinstance(body, b.TienDoXuLy):
            self.tien_do(body)
        elif isinstance(body, (b.YeuCauThanhToan, b.BienLaiThanhToan)):
            self.amounts(body.SoTien, body.PhiLePhi)
        elif isinstance(body, b.PhanAnhKienNghi) and body.TraLoi is not None:
            if body.TraLoi.NgayTraLoi < body.NgayGui:
                self.report("semantic.date_order", f"{self.body_path}/TraLoi/NgayTraLoi", body.TraLoi.NgayTraLoi,
                            field="TraLoi/NgayTraLoi", value=body.TraLoi.NgayTraLoi, other="NgayGui",
                            other_value=body.NgayGui)


def check(packet: GoiTin, config: Config, history: StatusHistory | None = None,
          now: datetime | None = None) -> tuple[list[Issue], list[Issue]]:
    """(errors, warnings) of the semantic rules for one packet."""
    checker = _Checker(packet, config, history or NoHistory(), now or datetime.now(config.zone))
    checker.run()
    return checker.errors, checker.warnings
