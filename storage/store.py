"""Writing the queue's events and projection, and rebuilding an ``Office`` from them.

``QueueStore.save`` is called by the hub once per command, inside that command's
transaction: it appends the events, upserts the touched tickets and their legs and
the touched windows. ``QueueStore.load`` rebuilds the live office after a restart.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig
from queue_core.model import (
    FINAL_STATES,
    BreakKind,
    Event,
    Leg,
    Ticket,
    TicketKind,
    TicketState,
    WindowState,
    WindowStatus,
)
from queue_core.office import RECENT_SERVICES, Office
from storage import rollups
from storage.models import EventRow, LegRow, TicketRow, WindowRow

LIVE_STATES = [s.value for s in TicketState if s not in FINAL_STATES]

# The hot path runs these prepared Core statements (no ORM unit of work, no clause
# building per call): a command costs about one fsync plus a few statements.
_T, _L, _E, _W = (m.__table__ for m in (TicketRow, LegRow, EventRow, WindowRow))
INSERT_EVENTS = insert(_E)
INSERT_TICKET = insert(_T).returning(_T.c.id)
UPDATE_TICKET = update(_T).where(_T.c.id == bindparam("tid"))
INSERT_LEG = insert(_L)
UPDATE_LEG = update(_L).where(_L.c.ticket_id == bindparam("tid"), _L.c.idx == bindparam("leg_idx"))
UPDATE_WINDOW = update(_W).where(_W.c.office == bindparam("w_office"), _W.c.number == bindparam("w_number"))
INSERT_WINDOW = insert(_W)


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds()


def wait_start(t: Ticket, idx: int, leg: Leg) -> datetime:
    """When leg ``idx``'s wait starts counting (docs/architecture.md §4): the transfer for a
    later leg; for a booking's first leg the later of check-in and slot start, but never
    after its call, so an early booking called before its slot waited 0, never less."""
    start = max(t.issued_at, t.slot_start) if idx == 0 and t.slot_start else leg.queued_at
    return min(start, leg.called_at) if leg.called_at is not None else start


def leg_values(office_id: str, t: Ticket, idx: int, leg: Leg) -> dict:
    wait_from = wait_start(t, idx, leg)
    return dict(
        idx=idx, office=office_id, topic=leg.topic, segment=t.segment, kind=str(t.kind), window=leg.window,
        operator=leg.operator, queued_at=leg.queued_at, called_at=leg.called_at, started_at=leg.started_at,
        finished_at=leg.finished_at, recalls=leg.recalls, outcome=leg.outcome, accounts=leg.accounts,
        target_window=leg.target_window, wait_s=_seconds(wait_from, leg.called_at),
        walk_s=_seconds(leg.called_at, leg.started_at), service_s=_seconds(leg.started_at, leg.finished_at),
        eta_min=t.eta_min if idx == 0 else None)


def legs_to_write(office_id: str, t: Ticket, stored: int) -> Iterator[tuple[int, dict, bool]]:
    """``(idx, row, update)`` for the legs of ``t`` to write when ``stored`` of them are in the
    database: only the last stored leg can still change (an update, its row without ``idx``);
    the legs after it are new (inserts)."""
    for idx, leg in enumerate(t.legs):
        if idx < stored - 1:
            continue
        row = leg_values(office_id, t, idx, leg)
        if idx < stored:
            row.pop("idx")
        yield idx, row, idx < stored


def window_values(s: WindowStatus) -> dict:
    """A window's row as its status writes it (the office hub's save and head office's batch save)."""
    return dict(state=str(s.state), break_kind=str(s.break_kind) if s.break_kind else None, operator=s.operator,
                ticket=s.ticket, priority_streak=s.priority_streak, last_finished=s.last_finished)


class QueueStore:
    def __init__(self, office_id: str):
        self.office_id = office_id
        self._ids: dict[tuple[str, str], tuple[int, int]] = {}   # (day, number) -> (ticket id, legs stored)

    # ------------------------------------------------------------------ writing
    def save(self, session: Session, events: list[Event], tickets: list[Ticket],
             windows: dict[int, WindowStatus]) -> None:
        if not events:
            return
        conn = session.connection()
        conn.execute(INSERT_EVENTS, [dict(
            office=self.office_id, seq=e.seq, at=e.at, kind=e.kind, ticket=e.ticket, topic=e.topic,
            window=e.window, data=e.data) for e in events])
        issued = {e.ticket for e in events if e.kind == "issued"}
        for t in tickets:
            self._save_ticket(conn, t, new=t.number in issued and len(t.legs) == 1)
        for number in {e.window for e in events if e.window is not None}:
            self._save_window(conn, windows[number])

    def _save_ticket(self, conn, t: Ticket, new: bool = False) -> None:
        """``new``: issued in this transaction, so not in the database yet (no lookup; the
        unique number per day refuses a duplicate)."""
        key = (t.day, t.number)
        values = dict(state=str(t.state), rating=t.rating,
                      finished_at=t.leg.finished_at if t.state in FINAL_STATES else None)
        known = None if new else self._ids.get(key) or self._lookup(conn, key)
        if known is None:
            ticket_id = conn.execute(INSERT_TICKET, dict(
                office=self.office_id, day=t.day, number=t.number, seq_no=_seq_no(t), issue_topic=t.legs[0].topic,
                kind=str(t.kind), issued_at=t.issued_at, slot_start=t.slot_start, booking_code=t.booking_code,
                priority_category=t.priority_category, segment=t.segment, eta_min=t.eta_min,
                people_ahead=t.people_ahead, **values)).scalar_one()
            stored = 0
        else:
            ticket_id, stored = known
            conn.execute(UPDATE_TICKET, dict(tid=ticket_id, **values))
        written = {t.legs[0].queued_at}  # the visit is filed under its first leg's day
        for idx, row, is_update in legs_to_write(self.office_id, t, stored):
            written.add(row["queued_at"])
            if is_update:
                conn.execute(UPDATE_LEG, dict(tid=ticket_id, leg_idx=idx, **row))
            else:
                conn.execute(INSERT_LEG, dict(ticket_id=ticket_id, **row))
        rollups.invalidate(conn, self.office_id, written)   # a closed day's legs changed (a late finish)
        if t.state in FINAL_STATES:
            self._ids.pop(key, None)     # only a rating can still touch it: looked up then
        else:
            self._ids[key] = (ticket_id, len(t.legs))

    def _lookup(self, conn, key: tuple[str, str]) -> tuple[int, int] | None:
        row = conn.execute(
            select(TicketRow.id, func.count(LegRow.id)).join(LegRow, LegRow.ticket_id == TicketRow.id, isouter=True)
            .where(TicketRow.office == self.office_id, TicketRow.day == key[0], TicketRow.number == key[1])
            .group_by(TicketRow.id)).first()
        return (row[0], row[1]) if row else None

    def _save_window(self, conn, s: WindowStatus) -> None:
        values = window_values(s)
        done = conn.execute(UPDATE_WINDOW, dict(w_office=self.office_id, w_number=s.number, **values))
        if done.rowcount == 0:
            conn.execute(INSERT_WINDOW, dict(office=self.office_id, number=s.number, **values))

    def forget(self) -> None:
        """Drop the id cache (after a rollback the cached ids may not exist)."""
        self._ids.clear()

    # ------------------------------------------------------------------ rebuilding
    def load(self, session: Session, config: OfficeConfig) -> Office:
        """The live office as the database has it: after a restart, a crash or power loss."""
        seq = session.execute(select(func.max(EventRow.seq)).where(EventRow.office == self.office_id)).scalar()
        office = Office(config, seq=seq or 0)
        rows = session.execute(select(TicketRow).where(TicketRow.office == self.office_id,
                                                       TicketRow.state.in_(LIVE_STATES))
                               .order_by(TicketRow.id)).scalars().all()    # issue order, as dispatch expects
        for row in rows:
            t = _ticket_from_row(row, office.tz)
            office.tickets[t.number] = t
            self._ids[(t.day, t.number)] = (row.id, len(row.legs))
        for w in session.execute(select(WindowRow).where(WindowRow.office == self.office_id)).scalars():
            if w.number not in office.windows:
                continue   # a window removed from the configuration
            office.windows[w.number] = WindowStatus(
                number=w.number, state=WindowState(w.state), break_kind=BreakKind(w.break_kind) if w.break_kind else None,
                operator=w.operator, ticket=w.ticket if w.ticket in office.tickets else None,
                priority_streak=w.priority_streak, last_finished=w.last_finished)
        for s in office.windows.values():
            if s.last_finished:
                row = session.execute(select(TicketRow).where(
                    TicketRow.office == self.office_id, TicketRow.number == s.last_finished,
                    TicketRow.rating.is_(None)).order_by(TicketRow.day.desc()).limit(1)).scalar_one_or_none()
                if row is not None:
                    office.finished[str(s.number)] = _ticket_from_row(row, office.tz)
        self._load_counters(session, office)
        self._load_recent(session, office)
        self._load_assisted(session, office)
        return office

    def _load_assisted(self, session: Session, office: Office) -> None:
        """The assisted-service mark of live priority tickets, from their ``issued`` events
        (the ticket table has no column for it)."""
        prio = {(t.number, t.issued_at): t for t in office.tickets.values() if t.kind is TicketKind.PRIORITY}
        if not prio:
            return
        for number, at, data in session.execute(
                select(EventRow.ticket, EventRow.at, EventRow.data).where(
                    EventRow.office == self.office_id, EventRow.kind == "issued",
                    EventRow.ticket.in_({n for n, _ in prio}), EventRow.at >= min(a for _, a in prio))):
            t = prio.get((number, at.astimezone(office.tz)))
            if t is not None:
                t.assisted = bool((data or {}).get("assisted", False))

    def _load_counters(self, session: Session, office: Office) -> None:
        days = {t.day for t in office.tickets.values()}
        latest = session.execute(select(func.max(TicketRow.day)).where(TicketRow.office == self.office_id)).scalar()
        if latest:
            days.add(latest)
        for day, topic, top in session.execute(
                select(TicketRow.day, TicketRow.issue_topic, func.max(TicketRow.seq_no))
                .where(TicketRow.office == self.office_id, TicketRow.day.in_(days))
                .group_by(TicketRow.day, TicketRow.issue_topic)):
            office.counters[(day, topic)] = top

    def _load_recent(self, session: Session, office: Office) -> None:
        since = datetime.now(office.tz) - timedelta(days=7)
        for topic in (t.code for t in office.config.topics):
            values = session.execute(
                select(LegRow.service_s).where(LegRow.office == self.office_id, LegRow.topic == topic,
                                               LegRow.outcome == "done", LegRow.queued_at >= since)
                .order_by(LegRow.finished_at.desc()).limit(RECENT_SERVICES)).scalars().all()
            if values:
                office.recent[topic] = deque((v / 60 for v in reversed(values)), maxlen=RECENT_SERVICES)


def _seq_no(t: Ticket) -> int:
    return int("".join(ch for ch in t.number if ch.isdigit()))


def _ticket_from_row(row: TicketRow, tz) -> Ticket:
    legs = [Leg(topic=g.topic, queued_at=g.queued_at.astimezone(tz), window=g.window, operator=g.operator,
                called_at=_tz(g.called_at, tz), started_at=_tz(g.started_at, tz), finished_at=_tz(g.finished_at, tz),
                recalls=g.recalls, outcome=g.outcome, target_window=g.target_window, accounts=g.accounts)
            for g in row.legs]
    return Ticket(number=row.number, day=row.day, kind=TicketKind(row.kind), issued_at=row.issued_at.astimezone(tz),
                  legs=legs, state=TicketState(row.state), slot_start=_tz(row.slot_start, tz),
                  booking_code=row.booking_code, priority_category=row.priority_category, segment=row.segment,
                  eta_min=row.eta_min, people_ahead=row.people_ahead, rating=row.rating)


def _tz(value: datetime | None, tz) -> datetime | None:
    return None if value is None else value.astimezone(tz)

