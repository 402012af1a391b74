"""Report periods from query arguments: day, week, month, half-year, year or custom.

Every period is ``[start, end)`` in the office's time zone. Bad input raises
``PeriodError`` with a Russian problem text the page shows as is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.i18n import _

KINDS = ("day", "week", "month", "half", "year", "custom")
MAX_DAYS = 3 * 366
YEARS = (2000, 2100)


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime
    end: datetime                  # exclusive
    first: date                    # inclusive dates, for forms and titles
    last: date

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.strftime("%d.%m.%Y")
        return f"{self.first:%d.%m.%Y} – {self.last:%d.%m.%Y}"

    def args(self) -> dict:
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind, "date": self.first.isoformat()}


def _date(value: str | None, default: date) -> date:
    if value in (None, ""):
        return default
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise PeriodError(_("неверная дата «{value}»").format(value=value[:20])) from None
    if not YEARS[0] <= d.year <= YEARS[1]:
        raise PeriodError(_("год вне диапазона 2000–2100"))
    return d


def _at(d: date, tz: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def parse_period(args, tz: ZoneInfo, today: date) -> Period:
    kind = args.get("period") or "month"
    if kind not in KINDS:
        raise PeriodError(_("неизвестный период «{value}»").format(value=kind[:20]))
    if kind == "custom":
        first = _date(args.get("from"), today)
        last = _date(args.get("to"), today)
        if last < first:
            raise PeriodError(_("дата начала позже даты окончания"))
        if (last - first).days > MAX_DAYS:
            raise PeriodError(_("период длиннее трёх лет"))
    else:
        anchor = _date(args.get("date"), today)
        if kind == "day":
            first = last = anchor
        elif kind == "week":
            first = anchor - timedelta(days=anchor.weekday())
            last = first + timedelta(days=6)
        elif kind == "month":
            first = anchor.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        elif kind == "half":
            first = date(anchor.year, 1 if anchor.month <= 6 else 7, 1)
            last = date(anchor.year, 6, 30) if anchor.month <= 6 else date(anchor.year, 12, 31)
        else:
            first, last = date(anchor.year, 1, 1), date(anchor.year, 12, 31)
    return Period(kind, _at(first, tz), _at(last + timedelta(days=1), tz), first, last)


def parse_month(value: str | None, today: date) -> tuple[int, int]:
    if not value:
        return today.year, today.month
    try:
        d = date.fromisoformat(value + "-01") if len(value) == 7 else date.fromisoformat(value)
    except ValueError:
        raise PeriodError(_("неверная дата «{value}»").format(value=value[:20])) from None
    if not YEARS[0] <= d.year <= YEARS[1]:
        raise PeriodError(_("год вне диапазона 2000–2100"))
    return d.year, d.month


def parse_year(value: str | None, today: date) -> int:
    if not value:
        return today.year
    if not value.isdigit() or not YEARS[0] <= int(value) <= YEARS[1]:
        raise PeriodError(_("год вне диапазона 2000–2100"))
    return int(value)
