"""Statistics against the norms, for any period and grouping (docs/requirements.md, digest §2.12, §4.8).

Rows come from ``legs`` (one per topic a visitor queued for), selected by the time the
leg joined the queue. Aggregation happens in Python over the period's rows: a month
of a busy office is tens of thousands of rows, which is quick to fetch and lets one
code path serve SQLite and PostgreSQL alike (exact p90, no dialect tricks).

Definitions (docs/architecture.md §4): wait = called − wait start (booking: the later of
check-in and slot start; never negative), service = finished − started whatever the leg's
outcome (a transferred leg's service counts for its topic), wait until service = started −
wait start (003:207); a visit runs from its first leg's wait start to its last leg's end.
No-shows and cancellations are counted, but excluded from wait and service means.
A ``mean`` norm is judged by the period mean; a ``max`` norm by each ticket; a profile's
visit ceiling by each visit (``visits``).
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from sqlalchemy import Float, select, type_coerce
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from storage.models import LegRow

SERVED = ("done", "terminated", "needs_followup")
# legs whose wait and service count for their topic: served here, or served and then transferred
# (the МЭК administrator's and the ОЭК dispatcher's work ends in a transfer)
MEASURED = (*SERVED, "transferred")
GROUPS = ("topic", "window", "operator", "hour", "segment", "day", "month", "total")


@dataclass(slots=True)
class Figures:
    key: str | int | None
    tickets: int = 0             # legs that joined the queue
    served: int = 0
    no_shows: int = 0
    transfers: int = 0
    cancelled: int = 0
    mean_wait_min: float | None = None
    p90_wait_min: float | None = None
    mean_service_min: float | None = None
    p90_service_min: float | None = None
    mean_wait_to_service_min: float | None = None
    wait_norm_min: float | None = None
    service_norm_min: float | None = None
    aggregation: str | None = None
    within_wait_norm_share: float | None = None
    within_service_norm_share: float | None = None
    wait_compliant: bool | None = None       # "Соответствует нормативу" (000:264-266)
    service_compliant: bool | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None


def fetch_legs(session: Session, office: str, start: datetime, end: datetime, **filters) -> list:
    """Legs that joined the queue in [start, end), with the columns reports need."""
    q = select(LegRow.topic, LegRow.window, LegRow.operator, LegRow.segment, LegRow.kind, LegRow.queued_at,
               LegRow.wait_s, LegRow.walk_s, LegRow.service_s, LegRow.outcome, LegRow.accounts,
               LegRow.eta_min).where(LegRow.office == office, LegRow.queued_at >= start, LegRow.queued_at < end)
    for column in ("topic", "window", "operator", "segment"):
        if filters.get(column) not in (None, ""):
            q = q.where(getattr(LegRow, column) == filters[column])
    return session.execute(q).all()


def _key(row, group: str, tz: ZoneInfo):
    if group == "total":
        return "total"
    if group in ("hour", "day", "month"):
        local = row.queued_at.astimezone(tz)
        return {"hour": local.hour, "day": local.date().isoformat(), "month": local.strftime("%Y-%m")}[group]
    return getattr(row, group)


def summarize(rows, config: OfficeConfig, group: str = "topic") -> list[Figures]:
    """The figures of already fetched legs (``fetch_legs``), grouped by ``group``."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}")
    tz = ZoneInfo(config.timezone)
    topics = {t.code: t for t in config.topics}
    acc: dict = {}
    for r in rows:
        key = _key(r, group, tz)
        a = acc.get(key)
        if a is None:
            a = acc[key] = [0, 0, 0, 0, 0, [], [], []]
        a[0] += 1
        if r.outcome in _COUNTED:
            a[_COUNTED[r.outcome]] += 1
        if r.outcome in _WAITED and r.wait_s is not None:
            wait_s = max(0.0, r.wait_s)       # rows stored before waits were floored
            a[5].append(wait_s / 60)
            a[7].append((wait_s + (r.walk_s or 0)) / 60)
        if r.outcome in _SERVED:
            a[1] += 1
        if r.outcome in _WAITED and r.service_s is not None:
            # a per-account norm (АтомЭнергоСбыт) judges service per personal account; the wait never
            per_account = group == "topic" and key in topics and topics[key].per_account
            a[6].append(r.service_s / 60 / (max(1, r.accounts or 1) if per_account else 1))
    return [_figures_of(key, acc[key], topics.get(key) if group == "topic" else None)
            for key in sorted(acc, key=lambda k: (k is None, str(k).zfill(3) if isinstance(k, int) else str(k)))]


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def report(session: Session, config: OfficeConfig, start: datetime, end: datetime, group: str = "topic",
           **filters) -> list[Figures]:
    return reports(session, config, start, end, (group,), **filters)[group]


_TIME_GROUPS = ("hour", "day", "month")
_COLUMN_GROUPS = {"topic": LegRow.topic, "window": LegRow.window, "operator": LegRow.operator,
                  "segment": LegRow.segment}
_WAITED = frozenset(MEASURED)
_COUNTED = {"no_show": 2, "transferred": 3, "cancelled": 4}    # accumulator slots (see ``_gather``)
_SERVED = frozenset(SERVED)


def reports(session: Session, config: OfficeConfig, start: datetime, end: datetime, groups=("topic",),
            **filters) -> dict[str, list[Figures]]:
    """``summarize`` of the period's legs for several groupings at once, with the same figures.

    The fast path for reports over a year: one query fetching only the columns the
    groupings need as plain values (times as epoch floats, no ORM objects), one pass
    that files each leg's minutes under every grouping, then the figures per group.
    Whole months that closed more than a day ago never change again, so what was
    gathered for them is kept (``_closed_months``) and a year-to-date report reads
    only the open month; every figure, p90 included, stays exact.
    """
    if end <= start:
        raise ValueError("the period ends before it starts")
    if end - start > timedelta(days=3 * 366):
        raise ValueError("the period is longer than three years")
    for group in groups:
        if group not in GROUPS:
            raise ValueError(f"group must be one of {GROUPS}")
    groups = tuple(groups)
    tz = ZoneInfo(config.timezone)
    closed_before = datetime.now(tz) - timedelta(days=1)
    accs: dict[str, dict] = {g: {} for g in groups}
    for chunk_start, chunk_end in _month_chunks(start, end, tz):
        if chunk_end <= closed_before:
            key = (str(session.get_bind().url), config.office_id, chunk_start.timestamp(), chunk_end.timestamp(),
                   groups, tuple(sorted(filters.items())), tuple((t.code, t.aggregation) for t in config.topics))
            part = _closed_months.get(key)
            if part is None:
                part = _closed_months.put(key, _gather(session, config, chunk_start, chunk_end, groups, **filters))
        else:
            part = _gather(session, config, chunk_start, chunk_end, groups, **filters)
        _merge(accs, part)
    topics = {t.code: t for t in config.topics}
    out = {}
    for group, acc in accs.items():
        out[group] = [_figures_of(key, acc[key], topics.get(key) if group == "topic" else None)
                      for key in sorted(acc, key=lambda k: (k is None, str(k).zfill(3) if isinstance(k, int) else str(k)))]
    return out


def _month_chunks(start: datetime, end: datetime, tz: ZoneInfo):
    """[start, end) cut at the office's month boundaries."""
    at = start
    while at < end:
        local = at.astimezone(tz)
        _, month_end = month_bounds(local.year, local.month, tz)
        yield at, min(end, month_end)
        at = min(end, month_end)


def _merge(into: dict[str, dict], part: dict[str, dict]) -> None:
    """Add one chunk's counts and minutes to the running totals (the chunk is left as it was)."""
    for group, acc in part.items():
        target = into[group]
        for key, a in acc.items():
            t = target.get(key)
            if t is None:
                t = target[key] = [0, 0, 0, 0, 0, [], [], []]
            for i in range(5):
                t[i] += a[i]
            for i in (5, 6, 7):
                t[i].extend(a[i])


class _ClosedMonths:
    """A small LRU of gathered closed months."""

    def __init__(self, size: int = 48):
        self.size, self._items = size, {}

    def get(self, key):
        value = self._items.pop(key, None)
        if value is not None:
            self._items[key] = value
        return value

    def put(self, key, value):
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))
        return value


_closed_months = _ClosedMonths()


def _gather(session: Session, config: OfficeConfig, start: datetime, end: datetime, groups, **filters) -> dict:  # noqa: C901 (the hot loop of every report: once per leg and grouping, so no calls inside)
    """One query and one pass: per grouping, key -> [tickets, served, no-shows, transfers,
    cancelled, waits, services, waits until service] (minutes)."""
    tz = ZoneInfo(config.timezone)
    keyed = [g for g in groups if g in _COLUMN_GROUPS]
    timed = [g for g in groups if g in _TIME_GROUPS]
    columns = [_COLUMN_GROUPS[g] for g in keyed]
    if timed:
        columns.append(type_coerce(LegRow.queued_at, Float))
    q = select(LegRow.outcome, LegRow.wait_s, LegRow.walk_s, LegRow.service_s, LegRow.accounts, *columns).where(
        LegRow.office == config.office_id, LegRow.queued_at >= start, LegRow.queued_at < end)
    for column in ("topic", "window", "operator", "segment"):
        if filters.get(column) not in (None, ""):
            q = q.where(getattr(LegRow, column) == filters[column])
    rows = session.connection().execute(q).all()

    topics = {t.code: t for t in config.topics}
    per_account = {code for code, t in topics.items() if t.per_account}
    # per grouping: key -> [tickets, served, no_shows, transfers, cancelled, waits, services, to_service]
    accs: dict[str, dict] = {g: {} for g in groups}
    local: dict[int, datetime] = {}          # quarter-hours -> local time (every real UTC offset is whole quarters)
    slots = [(g, 5 + i) for i, g in enumerate(keyed)]
    time_slot = 5 + len(keyed)
    total = accs.get("total")
    for row in rows:
        outcome, wait_s, walk_s, service_s, accounts = row[0], row[1], row[2], row[3], row[4]
        wait = service = to_service = None
        if outcome in _WAITED:
            if wait_s is not None:
                wait_s = wait_s if wait_s > 0 else 0.0      # rows stored before waits were floored
                wait, to_service = wait_s / 60, (wait_s + (walk_s or 0)) / 60
            if service_s is not None:
                service = service_s / 60
        served = outcome in _SERVED
        keys = [(accs[g], row[i], g == "topic") for g, i in slots]
        if timed:
            quarter = int(row[time_slot] // 900)
            at = local.get(quarter)
            if at is None:
                at = local[quarter] = datetime.fromtimestamp(quarter * 900, tz)
            for g in timed:
                keys.append((accs[g], at.hour if g == "hour" else at.date().isoformat() if g == "day"
                             else at.strftime("%Y-%m"), False))
        if total is not None:
            keys.append((total, "total", False))
        for acc, key, by_topic in keys:
            a = acc.get(key)
            if a is None:
                a = acc[key] = [0, 0, 0, 0, 0, [], [], []]
            a[0] += 1
            if outcome == "no_show":
                a[2] += 1
            elif outcome == "cancelled":
                a[4] += 1
            elif outcome == "transferred":
                a[3] += 1
            if wait is not None:
                a[5].append(wait)
                a[7].append(to_service)
            if served:
                a[1] += 1
            if service is not None:
                a[6].append(service / max(1, accounts or 1) if by_topic and key in per_account else service)
    return accs




def _figures_of(key, a: list, topic) -> Figures:
    """``_figures`` from the counts and minutes one pass of ``reports`` gathered."""
    f = Figures(key=key, tickets=a[0], served=a[1], no_shows=a[2], transfers=a[3], cancelled=a[4])
    waits, services, to_service = a[5], a[6], a[7]
    waits.sort()                 # sorted once: p90, shares and the max verdict read it (fsum ignores order)
    services.sort()
    f.mean_wait_min, f.p90_wait_min = _mean(waits), _r(_p90_sorted(waits))
    f.mean_service_min, f.p90_service_min = _mean(services), _r(_p90_sorted(services))
    f.mean_wait_to_service_min = _mean(to_service)
    if topic is not None:
        f.wait_norm_min, f.service_norm_min, f.aggregation = topic.wait_norm_min, topic.service_norm_min, topic.aggregation
        f.within_wait_norm_share = _share_sorted(waits, topic.wait_norm_min)
        f.within_service_norm_share = _share_sorted(services, topic.service_norm_min)
        f.wait_compliant = _compliant_sorted(topic.aggregation, waits, topic.wait_norm_min)
        f.service_compliant = _compliant_sorted(topic.aggregation, services, topic.service_norm_min)
    return f


def _p90_sorted(ordered: list[float]) -> float | None:
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)] if ordered else None


def _share_sorted(ordered: list[float], limit: float | None) -> float | None:
    if limit is None or not ordered:
        return None
    return round(bisect_right(ordered, limit) / len(ordered), 4)


def _compliant_sorted(aggregation: str, ordered: list[float], limit: float | None) -> bool | None:
    if limit is None or not ordered:
        return None
    if aggregation == "mean":
        return fmean(ordered) <= limit
    return ordered[-1] <= limit


@dataclass(slots=True)
class VisitFigures:
    """Visits (first leg's wait start → last leg's end, across transfers) that began in the
    period and ended in service, against the profile's visit ceiling, judged as a maximum
    (ОЭК 30 min, 001:369; АтомЭнергоСбыт 28 min per personal account, 004:992)."""
    count: int = 0
    mean_total_min: float | None = None
    max_total_min: float | None = None
    total_norm_max_min: float | None = None
    per_account: bool = False                     # judged as total ÷ accounts (АтомЭнергоСбыт)
    within_total_norm_share: float | None = None
    over_total_norm: int | None = None            # visits over the ceiling (None: no ceiling)
    total_compliant: bool | None = None           # every visit within the ceiling

    def as_dict(self) -> dict:
        return asdict(self)


def visits(session: Session, config: OfficeConfig, start: datetime, end: datetime) -> VisitFigures:
    """The period's visits: a visit's total is the sum of its legs' wait, walk and service
    (they follow each other: a transfer ends one leg as the next joins the queue), so it
    equals its last leg's end minus its first leg's wait start. Visits whose last leg was not
    served (a no-show after a transfer, one still in progress) have no total. Each month
    gives exact partial sums (count, sum, max, within the ceiling); closed months are kept
    like ``reports``'."""
    if end <= start:
        raise ValueError("the period ends before it starts")
    tz = ZoneInfo(config.timezone)
    ceiling, per_account = config.profile.total_visit_max_min, config.profile.unit == "personal_account"
    closed_before = datetime.now(tz) - timedelta(days=1)
    count, total, longest, within = 0, 0.0, None, 0
    for chunk_start, chunk_end in _month_chunks(start, end, tz):
        args = (session, config.office_id, chunk_start, chunk_end, ceiling, per_account)
        if chunk_end <= closed_before:
            key = ("visits", str(session.get_bind().url), config.office_id, chunk_start.timestamp(),
                   chunk_end.timestamp(), ceiling, per_account)
            part = _closed_months.get(key)
            if part is None:
                part = _closed_months.put(key, _gather_visits(*args))
        else:
            part = _gather_visits(*args)
        count, total, within = count + part[0], total + part[1], within + part[3]
        if part[2] is not None and (longest is None or part[2] > longest):
            longest = part[2]
    f = VisitFigures(count=count, total_norm_max_min=ceiling, per_account=per_account)
    if count:
        f.mean_total_min, f.max_total_min = round(total / count, 2), _r(longest)
        if ceiling is not None:
            f.within_total_norm_share = round(within / count, 4)
            f.over_total_norm = count - within
            f.total_compliant = within == count
    return f


def _gather_visits(session: Session, office: str, start: datetime, end: datetime, ceiling: float | None,
                   per_account: bool) -> tuple[int, float, float | None, int]:
    """(count, sum of totals, longest total, visits within the ceiling), minutes, of the visits
    whose first leg joined the queue in [start, end) and whose legs are all transferred but
    the last, which was served. A visit's later legs join the queue the same office day, so
    one range query over the legs (a day past ``end``) finds them all."""
    q = select(LegRow.ticket_id, LegRow.idx, LegRow.outcome, LegRow.wait_s, LegRow.walk_s, LegRow.service_s,
               LegRow.accounts, type_coerce(LegRow.queued_at, Float)).where(
        LegRow.office == office, LegRow.queued_at >= start, LegRow.queued_at < end + timedelta(days=1))
    until = end.timestamp()
    legs: dict[int, list] = {}       # ticket -> [seconds, legs, served, transferred, accounts, began in the period]
    for ticket_id, idx, outcome, wait_s, walk_s, service_s, accounts, queued in session.connection().execute(q):
        v = legs.get(ticket_id)
        if v is None:
            v = legs[ticket_id] = [0.0, 0, 0, 0, 1, False]
        v[0] += (wait_s if wait_s and wait_s > 0 else 0.0) + (walk_s or 0.0) + (service_s or 0.0)
        v[1] += 1
        v[2] += outcome in _SERVED
        v[3] += outcome == "transferred"
        v[4] = max(v[4], accounts or 1)
        v[5] = v[5] or (idx == 0 and queued < until)
    count, total, longest, within = 0, 0.0, None, 0
    for seconds, n, served, transferred, accounts, began in legs.values():
        if not began or served != 1 or transferred != n - 1:
            continue
        minutes = seconds / 60
        count, total = count + 1, total + minutes
        longest = minutes if longest is None or minutes > longest else longest
        if ceiling is not None and (minutes / accounts if per_account else minutes) <= ceiling:
            within += 1
    return count, total, longest, within


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def eta_error(rows) -> float | None:
    """Mean absolute error of the printed wait estimate, minutes (first legs only)."""
    errors = [abs(max(0.0, r.wait_s) / 60 - r.eta_min) for r in rows if r.eta_min is not None and r.wait_s is not None]
    return round(fmean(errors), 2) if errors else None


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start, start + timedelta(days=1)


def productivity(rows, config: OfficeConfig) -> list[dict]:
    """Per operator: visitors served, days worked, served per day, hours of service, mean and
    p90 service, and the share of services within the norm of each leg's own topic."""
    norms = {t.code: t.service_norm_min for t in config.topics}
    tz = ZoneInfo(config.timezone)
    by_op: dict = defaultdict(list)
    for r in rows:
        by_op[r.operator].append(r)
    out = []
    for op in sorted(by_op, key=lambda k: (k is None, str(k))):
        served = [r for r in by_op[op] if r.outcome in SERVED]
        measured = [r for r in by_op[op] if r.outcome in _WAITED]     # a transferred leg was served too
        services = [r.service_s / 60 for r in measured if r.service_s is not None]
        judged = [r.service_s / 60 <= norms[r.topic] for r in measured
                  if r.service_s is not None and norms.get(r.topic) is not None]
        days = {r.queued_at.astimezone(tz).date() for r in by_op[op]}
        out.append({"operator": op, "served": len(served), "days": len(days),
                    "served_per_day": round(len(served) / len(days), 1) if days else None,
                    "service_hours": round(sum(services) / 60, 2),
                    "mean_service_min": _mean(services), "p90_service_min": _r(p90(services)),
                    "within_service_norm_share": round(sum(judged) / len(judged), 4) if judged else None,
                    "no_shows": sum(r.outcome == "no_show" for r in by_op[op]),
                    "transfers": sum(r.outcome == "transferred" for r in by_op[op])})
    return out
