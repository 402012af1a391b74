"""The office calendar: working hours, office-wide breaks, holidays, topic cut-offs.

All times are office-local; callers pass aware datetimes already in the office's zone.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from queue_core.config import Calendar, Topic


def hours_on(cal: Calendar, day: date) -> tuple[time, time] | None:
    """Opening hours on ``day``, or None when the office is closed all day."""
    if day in cal.holidays:
        return None
    if day in cal.workdays:
        return cal.workday_hours or cal.hours.get(0)
    return cal.hours.get(day.weekday())


def is_open(cal: Calendar, now: datetime) -> bool:
    span = hours_on(cal, now.date())
    if span is None or not span[0] <= now.time() < span[1]:
        return False
    return not any(b0 <= now.time() < b1 for b0, b1 in cal.breaks)


def accepting(cal: Calendar, topic: Topic, now: datetime) -> tuple[bool, str | None]:
    """Whether the kiosk may issue a ticket for ``topic`` now, and why not.

    Reasons: ``closed`` (outside hours, holiday) or ``cutoff`` (past the topic's
    last-ticket time). An office-wide lunch break does not stop the kiosk: visitors
    may queue and be served after it.
    """
    span = hours_on(cal, now.date())
    if span is None or not span[0] <= now.time() < span[1]:
        return False, "closed"
    if topic.cutoff is not None and now.time() >= topic.cutoff:
        return False, "cutoff"
    return True, None


def working_minutes(cal: Calendar, start: datetime, end: datetime) -> float:
    """Office working time between two instants (hours minus breaks), in minutes."""
    total = 0.0
    day = start.date()
    while day <= end.date():
        span = hours_on(cal, day)
        if span:
            segments = [span]
            for b0, b1 in cal.breaks:
                segments = [piece for s in segments for piece in _cut(s, b0, b1)]
            for s0, s1 in segments:
                a = max(start, datetime.combine(day, s0, start.tzinfo))
                b = min(end, datetime.combine(day, s1, start.tzinfo))
                if b > a:
                    total += (b - a).total_seconds() / 60
        day += timedelta(days=1)
    return total


def _cut(span: tuple[time, time], b0: time, b1: time) -> list[tuple[time, time]]:
    s0, s1 = span
    if b1 <= s0 or b0 >= s1:
        return [span]
    return [p for p in ((s0, b0), (b1, s1)) if p[0] < p[1]]
