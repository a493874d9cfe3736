"""Scheduled maintenance windows: while one is open, nothing is sent to the destination and no retry is burnt.

Two shapes, in Asia/Ho_Chi_Minh local time (announced maintenance is given in local time):
  { days = ["sat", "sun"], start = "22:00", end = "02:00", note = "…" }   weekly; may run past midnight
  { start_at = "2026-12-05T22:00", end_at = "2026-12-06T04:00", note = "…" }   once
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config import ConfigError

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    note: str = ""
    days: frozenset[int] = frozenset()  # weekly: weekday numbers (Monday 0) on which the window starts
    start: time | None = None
    end: time | None = None
    start_at: datetime | None = None  # once
    end_at: datetime | None = None

    def open_until(self, now: datetime) -> datetime | None:
        """When this window closes, if it is open at ``now`` (an aware datetime); else None."""
        local = now.astimezone(LOCAL)
        if self.start_at is not None and self.end_at is not None:
            return self.end_at if self.start_at <= local < self.end_at else None
        assert self.start is not None and self.end is not None  # noqa: S101 - narrows the type: a window has dates or times, checked when loaded
        length = (datetime.combine(local.date(), self.end) - datetime.combine(local.date(), self.start))
        if length <= timedelta(0):
            length += timedelta(days=1)  # runs past midnight
        for back in (0, 1):  # a window that started yesterday may still be open
            day = local.date() - timedelta(days=back)
            if day.weekday() in self.days:
                opened = datetime.combine(day, self.start, LOCAL)
                if opened <= local < opened + length:
                    return opened + length
        return None


def active_window(windows: tuple[Window, ...], now: datetime) -> tuple[Window, datetime] | None:
    """The open window that closes last, with its closing time; None when the destination is open."""
    open_ = [(w, until) for w in windows if (until := w.open_until(now)) is not None]
    return max(open_, key=lambda pair: pair[1]) if open_ else None


def _clock(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a time of day HH:MM") from None


def _moment(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date and time YYYY-MM-DDTHH:MM") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def parse_windows(tables: list[dict[str, Any]], where: str) -> tuple[Window, ...]:
    windows = []
    for i, table in enumerate(tables):
        at = f"{where}.windows[{i + 1}]"
        note = str(table.get("note", ""))
        if "start_at" in table:
            start_at, end_at = _moment(table["start_at"], at), _moment(table.get("end_at"), at)
            if end_at <= start_at:
                raise ConfigError(f"{at}: end_at must come after start_at")
            windows.append(Window(note=note, start_at=start_at, end_at=end_at))
            continue
        days = [str(d).lower()[:3] for d in table.get("days", DAYS)]
        if unknown := [d for d in days if d not in DAYS]:
            raise ConfigError(f"{at}: unknown day(s) {unknown}; use {list(DAYS)}")
        windows.append(Window(note=note, days=frozenset(DAYS.index(d) for d in days),
                              start=_clock(table.get("start"), at), end=_clock(table.get("end"), at)))
    return tuple(windows)


def window_table(window: Window) -> dict[str, Any]:
    """A window as its configuration table (what ``parse_windows`` reads): how the store keeps the console's."""
    if window.start_at is not None and window.end_at is not None:
        return {"start_at": window.start_at.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"),
                "end_at": window.end_at.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"), "note": window.note}
    if window.start is None or window.end is None:
        raise ValueError("a weekly window needs its start and end times")
    return {"days": [DAYS[d] for d in sorted(window.days)], "start": window.start.strftime("%H:%M"),
            "end": window.end.strftime("%H:%M"), "note": window.note}
