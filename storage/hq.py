"""Head office's own tables: which offices report here, how far each is applied, and every
version of each office's configuration (issue 15).

Everything else at head office lives in the offices' very tables (events, tickets, legs…,
keyed by ``office``), written by ``storage.store.QueueStore`` exactly as an office writes
them, so every report reads the same at head office. The caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from storage.models import EpochTime, HqConfigRow, HqOfficeRow


@dataclass(frozen=True, slots=True)
class HqOffice:
    office: str
    name: str
    region: str | None
    branch: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    last_seq: int


def _of(row: HqOfficeRow) -> HqOffice:
    return HqOffice(row.office, row.name, row.region, row.branch, row.first_seen, row.last_seen, row.last_seq)


def offices(session: Session) -> list[HqOffice]:
    """Every office known here, by id."""
    return [_of(r) for r in session.execute(select(HqOfficeRow).order_by(HqOfficeRow.office)).scalars()]


def office(session: Session, office_id: str) -> HqOffice | None:
    row = session.get(HqOfficeRow, office_id)
    return _of(row) if row else None


def _row(session: Session, office_id: str) -> HqOfficeRow:
    row = session.get(HqOfficeRow, office_id)
    if row is None:
        row = HqOfficeRow(office=office_id, name="", last_seq=0)
        session.add(row)
    return row


def describe(session: Session, office_id: str, name: str | None = None, region: str | None = None,
             branch: str | None = None) -> None:
    """Set an office's name and grouping (head company → ``region`` → ``branch``); None keeps
    what is stored."""
    row = _row(session, office_id)
    if name is not None:
        row.name = name
    if region is not None:
        row.region = region or None
    if branch is not None:
        row.branch = branch or None


def touch(session: Session, office_id: str, seq: int, at: datetime) -> None:
    """The office's events are applied up to ``seq``; ``at`` is when the last of them happened."""
    row = _row(session, office_id)
    row.last_seq = max(row.last_seq or 0, seq)
    row.last_seen = at if row.last_seen is None else max(row.last_seen, at)
    if row.first_seen is None:
        row.first_seen = at


_TOUCH = update(HqOfficeRow).where(HqOfficeRow.office == bindparam("o")).values(
    last_seq=bindparam("seq"), last_seen=bindparam("at"),
    first_seen=func.coalesce(HqOfficeRow.first_seen, bindparam("first", type_=EpochTime())))


def touch_many(session: Session, applied: list[tuple[str, int, datetime]]) -> None:
    """``touch`` for many offices in one statement: ``(office, seq, at)`` of offices whose row
    exists (made by ``describe`` or ``record_config``) and whose events only move forward."""
    if applied:
        session.flush()           # an office row made in this transaction goes in first
        session.connection().execute(_TOUCH, [dict(o=o, seq=seq, at=at, first=at) for o, seq, at in applied])


def record_config(session: Session, office_id: str, version: str, at: datetime, toml: str) -> bool:
    """Keep a configuration version (in force from ``at``); False when it is known already."""
    if session.get(HqConfigRow, (office_id, version)) is not None:
        return False
    _row(session, office_id)
    session.add(HqConfigRow(office=office_id, version=version, valid_from=at, toml=toml))
    session.flush()
    return True


def config_in_force(session: Session, office_id: str, when: datetime) -> tuple[str, str] | None:
    """(version, TOML) in force at ``when``: the newest version from before it, or for a time
    before every version (history replayed from an office that joined later) the earliest
    one; None when no version is known."""
    q = select(HqConfigRow.version, HqConfigRow.toml).where(HqConfigRow.office == office_id)
    found = session.execute(q.where(HqConfigRow.valid_from <= when)
                            .order_by(HqConfigRow.valid_from.desc()).limit(1)).first()
    if found is None:
        found = session.execute(q.order_by(HqConfigRow.valid_from).limit(1)).first()
    return (found[0], found[1]) if found else None


def config_at(session: Session, office_id: str, when: datetime) -> str | None:
    """The TOML in force at ``when`` (``config_in_force``), None when no version is known."""
    found = config_in_force(session, office_id, when)
    return found[1] if found else None


def config_versions(session: Session, office_id: str) -> list[tuple[str, datetime]]:
    """(version, valid_from) of every configuration of an office, oldest first."""
    return [(v, at) for v, at in session.execute(
        select(HqConfigRow.version, HqConfigRow.valid_from).where(HqConfigRow.office == office_id)
        .order_by(HqConfigRow.valid_from))]


# ------------------------------------------------------------------ the network's figures (read by the HQ web)
# Added by the HQ web's helper (server/hq_web.py): a month of many offices, each judged by its
# own norms, added up exactly. The offices' days come rolled up as every report reads them
# (``storage.stats``' closed-day rollups), so the network's month costs a few rows per office.

@dataclass(slots=True)
class Tally:
    """One office's (or a group's, or the network's) month: counts, and the wait and service
    minutes as ``stats.Series`` (sorted runs with exact partial sums), so adding offices up
    keeps the mean and the p90 exactly those of all their visitors together."""
    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    transfers: int = 0
    cancelled: int = 0
    judged: int = 0          # waits of topics that have a wait norm
    within: int = 0          # ... of them within their own office's norm for their topic
    waits: object = None
    services: object = None

    def __post_init__(self) -> None:
        from storage.stats import Series
        self.waits = self.waits or Series()
        self.services = self.services or Series()

    def add(self, other: Tally) -> None:
        self.tickets += other.tickets
        self.served += other.served
        self.no_shows += other.no_shows
        self.transfers += other.transfers
        self.cancelled += other.cancelled
        self.judged += other.judged
        self.within += other.within
        for mine, theirs in ((self.waits, other.waits), (self.services, other.services)):
            mine.runs.extend(theirs.runs)
            mine.sums.extend(theirs.sums)
            mine.n += theirs.n

    def figures(self) -> dict:
        def r(v):
            return None if v is None else round(v, 2)
        return {"tickets": self.tickets, "served": self.served, "no_shows": self.no_shows,
                "transfers": self.transfers, "mean_wait_min": r(self.waits.mean()), "p90_wait_min": r(self.waits.p90()),
                "mean_service_min": r(self.services.mean()),
                "within_wait_norm_share": round(self.within / self.judged, 4) if self.judged else None}


def month_tally(session: Session, config, start: datetime, end: datetime) -> Tally:
    """An office's legs that joined the queue in [start, end), as ``stats.reports`` reads them
    (closed days rolled up, the rest from the legs), each wait judged by its topic's norm in
    ``config`` (the office's configuration in force then)."""
    from bisect import bisect_right

    from storage.stats import _days  # the one reader of rolled-up days (same package)

    norms = {t.code: t.wait_norm_min for t in config.topics}
    t = Tally()
    for _day, parts in _days(session, config, start, end, {"topic"}):
        for key, counts, lists, sums in parts["topic"]:
            t.tickets += counts[0]
            t.served += counts[1]
            t.no_shows += counts[2]
            t.transfers += counts[3]
            t.cancelled += counts[4]
            waits, services = lists[0], lists[1]
            t.waits.add(waits, sums[0], len(waits))
            t.services.add(services, sums[1], len(services))
            norm = norms.get(key)
            if norm is not None and len(waits):
                t.judged += len(waits)
                t.within += bisect_right(waits, norm)
    return t


def disclosure_sums(session: Session, offices: list[str], start: datetime, end: datetime) -> dict[str, tuple]:
    """The disclosure's month (``storage.disclosure``, 003:207-208) of several offices in one
    query: office -> (visitors, total wait until service s, total service s) of the visits whose
    legs joined the queue in [start, end) — a visit once, with all its stages."""
    from sqlalchemy import case, func

    from storage.models import LegRow
    from storage.stats import MEASURED

    wait = case((LegRow.wait_s < 0, 0.0), else_=LegRow.wait_s) + func.coalesce(LegRow.walk_s, 0)
    visits = (select(LegRow.office, func.sum(wait).label("wait_s"), func.sum(LegRow.service_s).label("service_s"))
              .where(LegRow.office.in_(offices), LegRow.queued_at >= start, LegRow.queued_at < end,
                     LegRow.outcome.in_(MEASURED))
              .group_by(LegRow.office, LegRow.ticket_id).subquery())
    rows = session.execute(select(visits.c.office, func.count(), func.sum(visits.c.wait_s), func.count(visits.c.wait_s),
                                  func.sum(visits.c.service_s), func.count(visits.c.service_s))
                           .group_by(visits.c.office))
    return {o: (n, float(w or 0), wn, float(s or 0), sn) for o, n, w, wn, s, sn in rows}


def ratings(session: Session, offices: list[str], start: datetime, end: datetime) -> dict[str, dict[int, int]]:
    """The queue's ratings (``storage.csat``) of several offices in one query: office -> score -> count,
    for the tickets issued in [start, end) (aware, in the offices' time zone: their local days
    narrow the search through the (office, day, number) index; the times decide)."""
    from datetime import timedelta

    from sqlalchemy import func

    from storage.models import TicketRow
    first, last = start.date().isoformat(), (end - timedelta(microseconds=1)).date().isoformat()
    out: dict[str, dict[int, int]] = {}
    for office_id, score, n in session.execute(
            select(TicketRow.office, TicketRow.rating, func.count()).where(
                TicketRow.office.in_(offices), TicketRow.day >= first, TicketRow.day <= last,
                TicketRow.issued_at >= start, TicketRow.issued_at < end,
                TicketRow.rating.is_not(None)).group_by(TicketRow.office, TicketRow.rating)):
        out.setdefault(office_id, {})[score] = n
    return out


# ------------------------------------------------------------------ every office at once (read by the HQ web's live page)
# The all-offices page asks the same of every office on each refresh: one query for all of them.

def configs_in_force(session: Session, offices: list[str], when: datetime) -> dict[str, str]:
    """office -> the version of its configuration in force at ``when`` (``config_in_force``'s
    rule: the newest from before it, else the earliest), for those of ``offices`` that have one.
    Versions are few per office: all of them are read, the TOML texts not."""
    found: dict[str, tuple[str, datetime]] = {}
    earliest: dict[str, tuple[str, datetime]] = {}
    for office_id, version, valid_from in session.execute(
            select(HqConfigRow.office, HqConfigRow.version, HqConfigRow.valid_from)
            .where(HqConfigRow.office.in_(offices))):
        if valid_from <= when and (office_id not in found or valid_from > found[office_id][1]):
            found[office_id] = (version, valid_from)
        if office_id not in earliest or valid_from < earliest[office_id][1]:
            earliest[office_id] = (version, valid_from)
    return {o: (found.get(o) or first)[0] for o, first in earliest.items()}


def config_texts(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(office, version) -> TOML of these configuration versions."""
    if not keys:
        return {}
    from sqlalchemy import tuple_
    return {(o, v): text for o, v, text in session.execute(
        select(HqConfigRow.office, HqConfigRow.version, HqConfigRow.toml)
        .where(tuple_(HqConfigRow.office, HqConfigRow.version).in_(keys)))}


def presence_marks(session: Session, offices: list[str]) -> dict[str, int]:
    """office -> its newest presence row's id (``storage.presence.last_id`` of many offices of
    ``hq_offices``): grows with every status stored, so a page can tell which offices' devices
    said something. One newest id per office, each a step down the (office, id) index, not a
    GROUP BY that reads every presence row of the offices (PostgreSQL, 100 offices × 3,000 rows:
    ~2.5 ms instead of ~60-100 ms)."""
    from storage.models import PresenceRow
    newest = select(func.max(PresenceRow.id)).where(PresenceRow.office == HqOfficeRow.office).scalar_subquery()
    return {o: mark for o, mark in session.execute(select(HqOfficeRow.office, newest)
                                                   .where(HqOfficeRow.office.in_(offices))) if mark is not None}


# ------------------------------------------------------------------ an office stuck at head office
# An event the office's own rules refuse here (e.g. under a configuration that does not fit it)
# stops that office at head office until its next configuration (``hq.ingest``). The ingest
# marks it; it is over as soon as the office's applied ``last_seq`` reaches the stuck event,
# so nothing needs to clear it (a restart, a new configuration that lets it through).

@dataclass(frozen=True, slots=True)
class Stuck:
    seq: int                 # the first event not applied
    since: datetime          # when head office found it could not apply it
    reason: str


_MARK = update(HqOfficeRow).where(
    HqOfficeRow.office == bindparam("o"),
    (HqOfficeRow.stuck_seq.is_(None)) | (HqOfficeRow.stuck_seq != bindparam("seq"))).values(
    stuck_seq=bindparam("seq"), stuck_since=bindparam("at"), stuck_reason=bindparam("reason"))
REASON_MAX = 500


def mark_stuck(session: Session, stuck: list[tuple[str, int, str, datetime]]) -> None:
    """``(office, seq, reason, at)``: the office's event ``seq`` cannot be applied (found at
    ``at``). Marking the same event again keeps the first ``at``; an empty list costs nothing,
    so the ingest may call this once a batch with the offices stuck at its end."""
    if stuck:
        session.flush()
        session.connection().execute(_MARK, [dict(o=o, seq=seq, reason=reason[:REASON_MAX], at=at)
                                             for o, seq, reason, at in stuck])


def stuck_offices(session: Session) -> dict[str, Stuck]:
    """office -> why it is stuck, for the offices whose applied events have not passed the
    event they are stuck at."""
    rows = session.execute(select(HqOfficeRow.office, HqOfficeRow.stuck_seq, HqOfficeRow.stuck_since,
                                  HqOfficeRow.stuck_reason)
                           .where(HqOfficeRow.stuck_seq.is_not(None), HqOfficeRow.last_seq < HqOfficeRow.stuck_seq))
    return {o: Stuck(seq, since, reason or "") for o, seq, since, reason in rows}
