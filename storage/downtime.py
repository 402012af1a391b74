"""Device downtime (REQ-Q-9, 004:2656): «Нарушение в работе терминалов не может составлять
более 60 минут в рабочее время».

A device is down while its status is ``offline`` (a board, a counter, a kiosk: the last
will) and, for a kiosk, while its printer cannot print (paper out, cover open, printer
offline or in error: the kiosk stops accepting visitors). Only the office calendar's
working time counts: opening hours of the day, minus the office-wide breaks, nothing on
holidays. An outage still open is counted up to ``now``, never into the future. Per
device and day the working minutes down are summed; a day over 60 minutes is flagged.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from queue_core.calendar import hours_on
from queue_core.config import Calendar, OfficeConfig
from storage.models import PresenceRow

LIMIT_MIN = 60
# printer states in which a kiosk prints no ticket (docs/contract.md «Device status»)
NOT_ACCEPTING = frozenset(("paper_out", "cover_open", "offline", "error"))
STATES = ("online", "offline")          # ``help`` rows are a visitor's call, not a status


def is_down(state: str, printer: str | None) -> bool:
    return state == "offline" or printer in NOT_ACCEPTING


def outages(changes: list[tuple[datetime, str, str | None]], start: datetime, end: datetime) -> list[tuple]:
    """``[(from, to)]`` within ``[start, end)`` while down, from status changes oldest first
    (the changes before ``start`` give the state at ``start``)."""
    out, since = [], None
    for at, state, printer in changes:
        if at >= end:
            break
        down = is_down(state, printer)
        if down and since is None:
            since = max(at, start)
        elif not down and since is not None:
            if at > start:
                out.append((since, at))
            since = None
    if since is not None and since < end:
        out.append((since, end))
    return out


def working_spans(cal: Calendar, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The office's working time on ``day``: opening hours minus the office-wide breaks."""
    span = hours_on(cal, day)
    if span is None:
        return []
    pieces: list[tuple[time, time]] = [span]
    for b0, b1 in cal.breaks:
        pieces = [p for s0, s1 in pieces for p in ((s0, min(s1, b0)), (max(s0, b1), s1))
                  if p[0] < p[1]] if b0 < b1 else pieces
    return [(datetime.combine(day, s0, tz), datetime.combine(day, s1, tz)) for s0, s1 in pieces]


def _working_by_day(cal: Calendar, tz: ZoneInfo, a: datetime, b: datetime) -> dict[date, float]:
    """Working minutes of ``[a, b)`` per local day."""
    out: dict[date, float] = {}
    day, last = a.astimezone(tz).date(), b.astimezone(tz).date()
    while day <= last:
        for s0, s1 in working_spans(cal, day, tz):
            overlap = (min(b, s1) - max(a, s0)).total_seconds() / 60
            if overlap > 0:
                out[day] = out.get(day, 0.0) + overlap
        day += timedelta(days=1)
    return out


def down_minutes(cal: Calendar, tz: ZoneInfo, since: datetime, until: datetime) -> float:
    """The working minutes an outage from ``since`` to ``until`` counts (the report's rule; the
    live dashboard's offline alert counts by it too, ``server.live``)."""
    return sum(_working_by_day(cal, tz, since, until).values()) if until > since else 0.0


def _changes(session: Session, office: str, start: datetime, until: datetime) -> dict[str, list]:
    """Per device, its status changes in ``[start, until)`` after the last one before ``start``
    (the state the period begins in), oldest first."""
    cols = (PresenceRow.device, PresenceRow.at, PresenceRow.state, PresenceRow.printer)
    mine = (PresenceRow.office == office, PresenceRow.state.in_(STATES))
    before = (select(func.max(PresenceRow.id)).where(*mine, PresenceRow.at < start)
              .group_by(PresenceRow.device))
    rows = session.execute(select(*cols).where(*mine, PresenceRow.at < until,
                                               or_(PresenceRow.at >= start, PresenceRow.id.in_(before)))
                           .order_by(PresenceRow.device, PresenceRow.at, PresenceRow.id)).all()
    by_device: dict[str, list] = defaultdict(list)
    for device, at, state, printer in rows:
        by_device[device].append((at, state, printer))
    return by_device


def device_days(session: Session, config: OfficeConfig, start: datetime, end: datetime,
                now: datetime) -> tuple[list[dict], list[dict]]:
    """Per device, and per device and day: working minutes down within ``[start, min(end, now))``.

    Returns ``(devices, days)``: ``devices`` rows ``{device, down_min, longest_outage_min,
    days_over_60, over_60_min}`` (the longest outage in working minutes too), ``days`` rows
    ``{device, day, down_min, over_60_min}`` for the days with any downtime."""
    tz, cal = ZoneInfo(config.timezone), config.calendar
    until = min(end, now)
    by_device = _changes(session, config.office_id, start, until)
    devices, days = [], []
    for device, changes in sorted(by_device.items()):
        per_day: dict[date, float] = defaultdict(float)
        longest = 0.0
        for a, b in outages(changes, start, until) if until > start else []:
            worked = _working_by_day(cal, tz, a, b)
            longest = max(longest, sum(worked.values()))
            for day, minutes in worked.items():
                per_day[day] += minutes
        mine = [{"device": device, "day": day.isoformat(), "down_min": round(m, 1), "over_60_min": m > LIMIT_MIN}
                for day, m in sorted(per_day.items()) if m > 0]
        days.extend(mine)
        devices.append({"device": device, "down_min": round(float(sum(per_day.values())), 1),
                        "longest_outage_min": round(longest, 1),
                        "days_over_60": sum(d["over_60_min"] for d in mine),
                        "over_60_min": any(d["over_60_min"] for d in mine)})
    return devices, days


def downtime(session: Session, config: OfficeConfig, start: datetime, end: datetime, now: datetime) -> list[dict]:
    """Per device: working minutes down in the period (``device_days``'s first part)."""
    return device_days(session, config, start, end, now)[0]
