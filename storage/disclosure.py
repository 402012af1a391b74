"""The yearly information disclosure (003:205-209), «за истекший год»:

* the improvement measures carried out in the year, or a statement that there were none
  (entered on the web: ``DisclosureInputRow.measures``);
* the number of appeals (обращения: visits served, counted from the queue), claims
  (претензии) and complaints (жалобы) — the last two entered on the web (003:206);
* per calendar month, the mean wait until service starts and the mean service time
  (003:207-208, ``disclosure``);
* the working hours of the remote channels over the year (entered on the web, 003:209).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from storage.models import DisclosureInputRow, LegRow
from storage.stats import MEASURED, SERVED, month_bounds


def disclosure(session: Session, config: OfficeConfig, year: int, months=range(1, 13)) -> list[dict]:
    """БЭСО's yearly disclosure (003:205-209): per month, the visitors served and, per visit, the
    average wait until service starts and the average service time, in minutes.

    A visit that was transferred counts once, with every stage it went through (the wait and
    service of each leg added up), so the first stage of a transferred visit is never dropped;
    a wait stored negative (before waits were floored) counts as 0. ``months``: only these.
    """
    tz = ZoneInfo(config.timezone)
    wait = case((LegRow.wait_s < 0, 0.0), else_=LegRow.wait_s) + func.coalesce(LegRow.walk_s, 0)
    out = []
    for month in months:
        start, end = month_bounds(year, month, tz)
        visits = (select(func.sum(wait).label("wait_s"), func.sum(LegRow.service_s).label("service_s"))
                  .where(LegRow.office == config.office_id, LegRow.queued_at >= start, LegRow.queued_at < end,
                         LegRow.outcome.in_(MEASURED))
                  .group_by(LegRow.ticket_id).subquery())
        visitors, wait_s, service_s = session.execute(
            select(func.count(), func.avg(visits.c.wait_s), func.avg(visits.c.service_s))).one()
        out.append({"month": f"{year}-{month:02d}", "visitors": visitors,
                    "mean_wait_until_service_min": _minutes(wait_s), "mean_service_min": _minutes(service_s)})
    return out


def _minutes(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 60, 2)


MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class Inputs:
    claims: int | None = None
    complaints: int | None = None
    measures: str = ""
    remote_channels: str = ""
    saved_at: datetime | None = None
    saved_by: str | None = None


def inputs(session: Session, office: str, year: int) -> Inputs:
    row = session.get(DisclosureInputRow, (office, year))
    if row is None:
        return Inputs()
    return Inputs(row.claims, row.complaints, row.measures, row.remote_channels, row.saved_at, row.saved_by)


def save_inputs(session: Session, office: str, year: int, values: Inputs, saved_by: str | None,
                at: datetime) -> None:
    """Store the year's entered figures and texts (replacing earlier ones; the caller commits)."""
    for count in (values.claims, values.complaints):
        if count is not None and count < 0:
            raise ValueError("a count cannot be negative")
    row = session.get(DisclosureInputRow, (office, year)) or DisclosureInputRow(office=office, year=year)
    row.claims, row.complaints = values.claims, values.complaints
    row.measures, row.remote_channels = values.measures[:MAX_TEXT].strip(), values.remote_channels[:MAX_TEXT].strip()
    row.saved_at, row.saved_by = at, saved_by
    session.add(row)


def appeals(session: Session, config: OfficeConfig, year: int) -> int:
    """Обращения (003:206): visits served in the year, one per ticket however many topics
    it went through (a ticket counts in the year its first served leg joined the queue)."""
    tz = ZoneInfo(config.timezone)
    start, _end = month_bounds(year, 1, tz)
    _start, end = month_bounds(year, 12, tz)
    return session.execute(select(func.count(func.distinct(LegRow.ticket_id))).where(
        LegRow.office == config.office_id, LegRow.queued_at >= start, LegRow.queued_at < end,
        LegRow.outcome.in_(SERVED))).scalar() or 0


def yearly(session: Session, config: OfficeConfig, year: int) -> dict:
    """Every row of 003:205-209 for ``year``: ``measures``, ``appeals``, ``claims``,
    ``complaints``, ``remote_channels`` and ``months`` (``disclosure``'s rows)."""
    entered = inputs(session, config.office_id, year)
    return {"year": year, "measures": entered.measures, "appeals": appeals(session, config, year),
            "claims": entered.claims, "complaints": entered.complaints,
            "remote_channels": entered.remote_channels, "months": disclosure(session, config, year),
            "saved_at": entered.saved_at, "saved_by": entered.saved_by}
