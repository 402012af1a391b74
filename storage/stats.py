"""Statistics against the norms, for any period and grouping (docs/requirements.md, digest §2.12, §4.8).

Rows come from ``legs`` (one per topic a visitor queued for), selected by the time the
leg joined the queue. Aggregation happens in Python over the period's rows, so one code
path serves SQLite and PostgreSQL alike (exact p90, no dialect tricks); closed days are
read rolled up (``storage.rollups``: per day and grouping the counts, exact sums and
sorted minutes), so a year's report reads a few hundred rows and today's legs.

Definitions (docs/architecture.md §4): wait = called − wait start (booking: the later of
check-in and slot start; never negative), service = finished − started whatever the leg's
outcome (a transferred leg's service counts for its topic), wait until service = started −
wait start (003:207); a visit runs from its first leg's wait start to its last leg's end.
No-shows and cancellations are counted, but excluded from wait and service means.
A ``mean`` norm is judged by the period mean; a ``max`` norm by each ticket; a profile's
visit ceiling by each visit (``visits``).
"""
from __future__ import annotations

import logging
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from statistics import fmean
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Float, select, type_coerce
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from storage import rollups
from storage.models import LegRow
from storage.rollups import exact_sum

log = logging.getLogger(__name__)

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
    cancelled: int = 0           # by staff
    left: int = 0                # the visitor left the queue before the call («Я ухожу» on the phone)
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
            a = acc[key] = _new_acc()
        a[0] += 1
        if r.outcome in _COUNTED:
            a[_COUNTED[r.outcome]] += 1
        if r.outcome in _WAITED and r.wait_s is not None:
            wait_s = max(0.0, r.wait_s)       # rows stored before waits were floored
            a[WAITS].append(wait_s / 60)
            a[TO_SERVICE].append((wait_s + (r.walk_s or 0)) / 60)
        if r.outcome in _SERVED:
            a[1] += 1
        if r.outcome in _WAITED and r.service_s is not None:
            # a per-account norm (АтомЭнергоСбыт) judges service per personal account; the wait never
            per_account = group == "topic" and key in topics and topics[key].per_account
            a[SERVICES].append(r.service_s / 60 / (max(1, r.accounts or 1) if per_account else 1))
    return [_figures_of(key, _series_of(acc[key]), topics.get(key) if group == "topic" else None)
            for key in sorted(acc, key=_order)]


def _order(k):
    return (k is None, str(k).zfill(3) if isinstance(k, int) else str(k))


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def report(session: Session, config: OfficeConfig, start: datetime, end: datetime, group: str = "topic",
           **filters) -> list[Figures]:
    return reports(session, config, start, end, (group,), **filters)[group]


_TIME_GROUPS = ("hour", "day", "month")
_COLUMN_GROUPS = {"topic": LegRow.topic, "window": LegRow.window, "operator": LegRow.operator,
                  "segment": LegRow.segment}
_WAITED = frozenset(MEASURED)
# An accumulator per key: the counts [tickets, served, no_shows, transfers, cancelled, left],
# then the minute values [waits, services, waits until service] (lists, or ``Series`` once
# filed, with the services per account after them: ``_file``).
COUNTS = 6
WAITS, SERVICES, TO_SERVICE, PER_ACCOUNT = COUNTS, COUNTS + 1, COUNTS + 2, COUNTS + 3
_COUNTED = {"no_show": 2, "transferred": 3, "cancelled": 4, "left": 5}    # their count slots


def _new_acc() -> list:
    return [0] * COUNTS + [[], [], []]
_SERVED = frozenset(SERVED)


class Series:
    """The minute values of one figure (waits, services …) of one key, as sorted runs — one
    per rolled-up day and one for the legs read live — with partial sums whose exact total
    is the values' exact total (``rollups.exact_sum``, or the values themselves).

    Why every figure equals the one computed from the legs in one list: the runs hold the
    very floats the one-list computation sorts (the same code makes them), so the
    nearest-rank p90 (the k-th smallest of the union, ``_kth``), the count within a norm
    (one ``bisect_right`` per run) and the largest value are the same values; the mean is
    ``fsum(partials) / n``, and ``fsum`` returns the correctly rounded exact sum — the same
    float as ``fsum`` of the values, which is what ``statistics.fmean`` divides by n."""
    __slots__ = ("runs", "sums", "n")

    def __init__(self) -> None:
        self.runs: list = []
        self.sums: list[float] = []
        self.n = 0

    def add(self, run, sums, n: int) -> None:
        if n:
            if run is not None:
                self.runs.append(run)
            self.sums.extend(sums)
            self.n += n

    def mean(self) -> float | None:
        return math.fsum(self.sums) / self.n if self.n else None

    def p90(self) -> float | None:
        return _kth(self.runs, max(0, math.ceil(0.9 * self.n) - 1)) if self.n else None

    def within(self, limit: float) -> int:
        return sum(bisect_right(run, limit) for run in self.runs)

    def largest(self) -> float:
        return max(run[-1] for run in self.runs if len(run))


def _kth(runs: list, k: int) -> float:  # noqa: C901 (one selection loop; split, it would pass six lists around)
    """The k-th smallest value (0-based) of the union of sorted ``runs``, without merging
    them: each round picks a pivot among the runs' values near rank k, counts the values
    below and up to it in every run (bisect) and keeps the side holding rank k."""
    lo = [0] * len(runs)
    hi = [len(r) for r in runs]
    while True:
        live = [i for i in range(len(runs)) if lo[i] < hi[i]]
        total = sum(hi[i] - lo[i] for i in live)
        if len(live) == 1:
            return runs[live[0]][lo[live[0]] + k]
        if total <= 4096:
            values: list[float] = []
            for i in live:
                values.extend(runs[i][lo[i]:hi[i]])
            values.sort()
            return values[k]
        at = (k + 0.5) / total
        picks = sorted((runs[i][lo[i] + int(at * (hi[i] - lo[i]))], hi[i] - lo[i]) for i in live)
        pivot, seen = picks[-1][0], 0
        for value, weight in picks:         # the weighted median of the runs' picks
            seen += weight
            if 2 * seen >= total:
                pivot = value
                break
        below = [bisect_left(runs[i], pivot, lo[i], hi[i]) for i in live]
        upto = [bisect_right(runs[i], pivot, lo[i], hi[i]) for i in live]
        n_below = sum(b - lo[i] for b, i in zip(below, live))
        n_upto = sum(u - lo[i] for u, i in zip(upto, live))
        if k < n_below:
            for b, i in zip(below, live):
                hi[i] = b
        elif k >= n_upto:
            k -= n_upto
            for u, i in zip(upto, live):
                lo[i] = u
        else:
            return pivot


def _series_of(a: list) -> list:
    """A list accumulator (minutes as lists) as one with ``Series`` (each list one run)."""
    out = a[:COUNTS]
    for values in a[COUNTS:COUNTS + 3]:
        values.sort()
        s = Series()
        s.add(values, values, len(values))
        out.append(s)
    out.append(None)                     # per-account services: already in slot 6 when they apply
    return out


def reports(session: Session, config: OfficeConfig, start: datetime, end: datetime, groups=("topic",),
            rolled: bool = True, **filters) -> dict[str, list[Figures]]:
    """``summarize`` of the period's legs for several groupings at once, with the same figures.

    Closed days (before today) come rolled up from the database (``storage.rollups``:
    built by the first report that needs them, rebuilt after their legs change) and only
    the rest — today, a part of a day — is read from the legs; every figure, p90
    included, is exactly the one computed from the legs (``Series``). With filters (or
    ``rolled=False``) the legs are read: whole months that closed more than a day ago
    are kept in memory (``_closed_months``), so a year-to-date report reads only the
    open month.
    """
    if end <= start:
        raise ValueError("the period ends before it starts")
    if end - start > timedelta(days=3 * 366):
        raise ValueError("the period is longer than three years")
    for group in groups:
        if group not in GROUPS:
            raise ValueError(f"group must be one of {GROUPS}")
    groups = tuple(groups)
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    if filters or not rolled:
        accs = {g: {k: _series_of(a) for k, a in acc.items()}
                for g, acc in _from_legs(session, config, start, end, groups, **filters).items()}
    else:
        accs = {g: {} for g in groups}
        parts = {_PART_OF[g] for g in groups}
        for _day, day_parts in _days(session, config, start, end, parts):
            _file(accs, day_parts)
    topics = {t.code: t for t in config.topics}
    return {group: [_figures_of(key, acc[key], topics.get(key) if group == "topic" else None)
                    for key in sorted(acc, key=_order)] for group, acc in accs.items()}


def _from_legs(session: Session, config: OfficeConfig, start: datetime, end: datetime, groups: tuple,
               **filters) -> dict[str, dict]:
    tz = ZoneInfo(config.timezone)
    per_account = frozenset(t.code for t in config.topics if t.per_account)
    closed_before = datetime.now(tz) - timedelta(days=1)
    accs: dict[str, dict] = {g: {} for g in groups}
    for chunk_start, chunk_end in _month_chunks(start, end, tz):
        args = (session.connection(), tz, config.office_id, chunk_start, chunk_end, groups, per_account)
        if chunk_end <= closed_before:
            key = (str(session.get_bind().url), config.office_id, chunk_start.timestamp(), chunk_end.timestamp(),
                   groups, tuple(sorted(filters.items())), per_account, config.timezone)
            part = _closed_months.get(key)
            if part is None:
                part = _closed_months.put(key, _gather(*args, **filters))
        else:
            part = _gather(*args, **filters)
        _merge(accs, part)
    return accs


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
                t = target[key] = _new_acc()
            for i in range(COUNTS):
                t[i] += a[i]
            for i in (WAITS, SERVICES, TO_SERVICE):
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


class _All:
    """Every topic (``_gather``'s ``per_account`` for the rolled-up per-account services)."""

    def __contains__(self, item) -> bool:
        return True


def _gather(conn, tz: ZoneInfo, office: str, start: datetime, end: datetime, groups, per_account,  # noqa: C901 (the hot loop of every report: once per leg and grouping, so no calls inside)
            **filters) -> dict:
    """One query and one pass: per grouping, key -> [tickets, served, no-shows, transfers,
    cancelled, left, waits, services, waits until service] (minutes); a service of a topic in
    ``per_account`` counts per personal account in the topic grouping."""
    keyed = [g for g in groups if g in _COLUMN_GROUPS]
    timed = [g for g in groups if g in _TIME_GROUPS]
    columns = [_COLUMN_GROUPS[g] for g in keyed]
    if timed:
        columns.append(type_coerce(LegRow.queued_at, Float))
    q = select(LegRow.outcome, LegRow.wait_s, LegRow.walk_s, LegRow.service_s, LegRow.accounts, *columns).where(
        LegRow.office == office, LegRow.queued_at >= start, LegRow.queued_at < end)
    for column in ("topic", "window", "operator", "segment"):
        if filters.get(column) not in (None, ""):
            q = q.where(getattr(LegRow, column) == filters[column])
    rows = conn.execute(q).all()

    # per grouping: key -> [tickets, served, no_shows, transfers, cancelled, left, waits, services, to_service]
    accs: dict[str, dict] = {g: {} for g in groups}
    local: dict[int, datetime] = {}          # quarter-hours -> local time (every real UTC offset is whole quarters)
    slots = [(g, 5 + i) for i, g in enumerate(keyed)]     # the row's columns after the five selected
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
                a = acc[key] = [0, 0, 0, 0, 0, 0, [], [], []]
            a[0] += 1
            if outcome == "no_show":
                a[2] += 1
            elif outcome == "cancelled":
                a[4] += 1
            elif outcome == "transferred":
                a[3] += 1
            elif outcome == "left":
                a[5] += 1
            if wait is not None:
                a[6].append(wait)
                a[8].append(to_service)
            if served:
                a[1] += 1
            if service is not None:
                a[7].append(service / max(1, accounts or 1) if by_topic and key in per_account else service)
    return accs


# ------------------------------------------------------------------ closed days rolled up
# A report grouping -> the rolled-up part it is filed from ("day" holds a whole day under
# one key: the day, month and total groupings add those up).
_PART_OF = {"topic": "topic", "window": "window", "operator": "operator", "segment": "segment", "hour": "hour",
            "day": "day", "month": "day", "total": "day"}
_FIGURE_PARTS = ("topic", "window", "operator", "segment", "hour", "day")


def _day_parts(conn, tz: ZoneInfo, office: str, start: datetime, end: datetime) -> dict[str, list]:
    """Every rolled-up part of the legs that joined the queue in [start, end) (and of the
    visits whose first leg did): per part, entries ``(key, counts, [waits, services,
    services per account or None], [sums of each, sum of the waits until service])``
    with the values sorted — what ``rollups.encode`` stores and ``_file`` adds up."""
    raw = _gather(conn, tz, office, start, end, _FIGURE_PARTS, frozenset())
    by_account = _gather(conn, tz, office, start, end, ("topic",), _All())["topic"]
    parts: dict[str, list] = {}
    for part in _FIGURE_PARTS:
        entries = []
        for key, a in raw[part].items():
            waits, services = sorted(a[WAITS]), sorted(a[SERVICES])
            per_account = sorted(by_account[key][SERVICES]) if part == "topic" else None
            if per_account == services:
                per_account = None
            entries.append((key, a[:COUNTS], [waits, services, per_account],
                            [exact_sum(waits), exact_sum(services), exact_sum(per_account or ()),
                             exact_sum(a[TO_SERVICE])]))
        parts[part] = entries
    totals, per_account_totals = _visit_totals(conn, office, start, end)
    totals.sort()
    per_account_totals.sort()
    parts["visits"] = [("visits", [len(totals)], [totals, None if per_account_totals == totals else per_account_totals],
                        [exact_sum(totals)])]
    return parts


def _file(accs: dict[str, dict], parts: dict[str, list]) -> None:
    """Add one day's (or live stretch's) parts to the groupings' accumulators
    ``[tickets, served, no_shows, transfers, cancelled, left, waits, services, to_service,
    services per account]`` (``Series``)."""
    for group, acc in accs.items():
        for key, counts, lists, sums in parts[_PART_OF[group]]:
            k = "total" if group == "total" else str(key)[:7] if group == "month" else key
            a = acc.get(k)
            if a is None:
                a = acc[k] = [0] * COUNTS + [Series(), Series(), Series(), Series()]
            for i in range(COUNTS):
                a[i] += counts[i]
            waits, services, per_account = lists
            a[WAITS].add(waits, sums[0], len(waits))
            a[SERVICES].add(services, sums[1], len(services))
            a[TO_SERVICE].add(None, sums[3], len(waits))
            if per_account is None:
                a[PER_ACCOUNT].add(services, sums[1], len(services))
            else:
                a[PER_ACCOUNT].add(per_account, sums[2], len(per_account))


def _days(session: Session, config: OfficeConfig, start: datetime, end: datetime, parts: set[str]):
    """(day or None, {part: entries}) covering [start, end): the closed days inside it from
    their rollups (built if missing), the rest (today, a part of a day) from the legs."""
    tz = ZoneInfo(config.timezone)
    today = datetime.now(tz).date()
    first = start.astimezone(tz).date()
    if local_day_bounds(first, tz)[0] < start:
        first += timedelta(days=1)
    last = end.astimezone(tz).date()
    if local_day_bounds(last, tz)[1] > end:
        last -= timedelta(days=1)
    last = min(last, today - timedelta(days=1))
    conn = session.connection()
    if first > last:
        yield None, _day_parts(conn, tz, config.office_id, start, end)
        return
    first_start, last_end = local_day_bounds(first, tz)[0], local_day_bounds(last, tz)[1]
    if start < first_start:
        yield None, _day_parts(conn, tz, config.office_id, start, first_start)
    stored = rollups.read(conn, config.office_id, config.timezone, first.isoformat(), last.isoformat(), parts)
    day = first
    while day <= last:
        name = day.isoformat()
        if all((name, p) in stored for p in parts):
            yield name, {p: stored[name, p] for p in parts}
        else:
            yield name, _build_day(session, config, tz, day)
        day += timedelta(days=1)
    if last_end < end:
        yield None, _day_parts(conn, tz, config.office_id, last_end, end)


def _build_day(session: Session, config: OfficeConfig, tz: ZoneInfo, day: date) -> dict[str, list]:
    """Roll up a closed day and store it (``storage.rollups``: writers shut out while the
    legs are read; a concurrent build of the same day stores it once)."""
    start, end = local_day_bounds(day, tz)
    bind = session.get_bind()
    if isinstance(bind, Engine):
        try:
            with bind.begin() as conn:
                rollups.shut_out_leg_writers(conn, config.office_id, day.isoformat())
                parts = _day_parts(conn, tz, config.office_id, start, end)
                rollups.store(conn, config.office_id, day.isoformat(), start, end, config.timezone,
                              {p: rollups.encode(e) for p, e in parts.items()})
            return parts
        except OperationalError:          # busy or read-only: this report reads the day's legs
            log.warning("could not store the rollup of %s; reading its legs", day, exc_info=True)
    return _day_parts(session.connection(), tz, config.office_id, start, end)


def roll_up(session: Session, config: OfficeConfig, start: datetime, end: datetime) -> int:
    """Build the missing rollups of the closed days in [start, end) (what the first report
    over them would do; ``talon bench stats`` runs it as the days' closing). Returns how
    many closed days the period holds."""
    return sum(day is not None for day, _parts in _days(session, config, start, end, {*_FIGURE_PARTS, "visits"}))


def _figures_of(key, a: list, topic) -> Figures:
    """The figures of one key's accumulator (``Series`` from slot ``WAITS`` on, see ``_file``)."""
    f = Figures(key=key, tickets=a[0], served=a[1], no_shows=a[2], transfers=a[3], cancelled=a[4], left=a[5])
    waits, to_service = a[WAITS], a[TO_SERVICE]
    per_account = a[PER_ACCOUNT]
    services = per_account if topic is not None and topic.per_account and per_account is not None else a[SERVICES]
    f.mean_wait_min, f.p90_wait_min = _r(waits.mean()), _r(waits.p90())
    f.mean_service_min, f.p90_service_min = _r(services.mean()), _r(services.p90())
    f.mean_wait_to_service_min = _r(to_service.mean())
    if topic is not None:
        f.wait_norm_min, f.service_norm_min, f.aggregation = topic.wait_norm_min, topic.service_norm_min, topic.aggregation
        f.within_wait_norm_share = _share(waits, topic.wait_norm_min)
        f.within_service_norm_share = _share(services, topic.service_norm_min)
        f.wait_compliant = _compliant(topic.aggregation, waits, topic.wait_norm_min)
        f.service_compliant = _compliant(topic.aggregation, services, topic.service_norm_min)
    return f


def _share(values: Series, limit: float | None) -> float | None:
    if limit is None or not values.n:
        return None
    return round(values.within(limit) / values.n, 4)


def _compliant(aggregation: str, values: Series, limit: float | None) -> bool | None:
    if limit is None or not values.n:
        return None
    if aggregation == "mean":
        mean = values.mean()
        return mean is not None and mean <= limit
    return values.largest() <= limit


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


def visits(session: Session, config: OfficeConfig, start: datetime, end: datetime, rolled: bool = True) -> VisitFigures:
    """The period's visits: those whose first leg joined the queue in [start, end), with
    every leg of their ticket. A visit's total is the sum of its legs' wait, walk and
    service (they follow each other: a transfer ends one leg as the next joins the queue),
    so it equals its last leg's end minus its first leg's wait start. Visits whose last leg
    was not served (a no-show after a transfer, one still in progress) have no total.
    Closed days come rolled up like ``reports``' (exact: the totals themselves are kept);
    ``rolled=False`` reads every leg."""
    if end <= start:
        raise ValueError("the period ends before it starts")
    ceiling, per_account = config.profile.total_visit_max_min, config.profile.unit == "personal_account"
    totals, judged = Series(), Series()
    stretches: Iterable[list]
    if rolled:
        stretches = (parts["visits"] for _day, parts in _days(session, config, start, end, {"visits"}))
    else:
        stretches = [_day_parts_visits(session.connection(), config.office_id, start, end)]
    for entries in stretches:
        for _key, counts, lists, sums in entries:
            totals.add(lists[0], sums[0], counts[0])
            judged.add(lists[1] if lists[1] is not None else lists[0], (), counts[0])
    f = VisitFigures(count=totals.n, total_norm_max_min=ceiling, per_account=per_account)
    if totals.n:
        f.mean_total_min, f.max_total_min = _r(totals.mean()), _r(totals.largest())
        if ceiling is not None:
            within = (judged if per_account else totals).within(ceiling)
            f.within_total_norm_share = round(within / totals.n, 4)
            f.over_total_norm = totals.n - within
            f.total_compliant = within == totals.n
    return f


def _day_parts_visits(conn, office: str, start: datetime, end: datetime) -> list:
    totals, per_account_totals = _visit_totals(conn, office, start, end)
    totals.sort()
    per_account_totals.sort()
    return [("visits", [len(totals)], [totals, per_account_totals], [totals])]


def _visit_totals(conn, office: str, start: datetime, end: datetime) -> tuple[list[float], list[float]]:
    """The totals (minutes) of the visits whose first leg joined the queue in [start, end)
    and whose legs are all transferred but the last, which was served: as they are, and
    per personal account (÷ the most accounts a leg handled)."""
    began = select(LegRow.ticket_id).where(LegRow.office == office, LegRow.idx == 0, LegRow.queued_at >= start,
                                           LegRow.queued_at < end)
    q = select(LegRow.ticket_id, LegRow.outcome, LegRow.wait_s, LegRow.walk_s, LegRow.service_s,
               LegRow.accounts).where(LegRow.ticket_id.in_(began))   # (ticket_id, idx) index: a ticket is one office's
    legs: dict[int, list] = {}       # ticket -> [seconds, legs, served, transferred, accounts]
    for ticket_id, outcome, wait_s, walk_s, service_s, accounts in conn.execute(q):
        v = legs.get(ticket_id)
        if v is None:
            v = legs[ticket_id] = [0.0, 0, 0, 0, 1]
        v[0] += (wait_s if wait_s and wait_s > 0 else 0.0) + (walk_s or 0.0) + (service_s or 0.0)
        v[1] += 1
        v[2] += outcome in _SERVED
        v[3] += outcome == "transferred"
        v[4] = max(v[4], accounts or 1)
    totals, per_account = [], []
    for seconds, n, served, transferred, accounts in legs.values():
        if served == 1 and transferred == n - 1:
            totals.append(seconds / 60)
            per_account.append(seconds / 60 / accounts)
    return totals, per_account


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
