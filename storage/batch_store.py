"""``QueueStore.save`` for many events of many offices at once: head office's ingest (issue 15).

The hub saves one command's few events at a time, statement by statement. Head office saves
a batch of a thousand events from up to a hundred offices per transaction; over a network
socket to PostgreSQL a round trip per ticket, leg, window and rollup day (per office) would
cap it at a few hundred events a second. This is the very projection (``storage.store``: the
same rows, values and rules, ``leg_values``), with the statements grouped across tickets and
offices: events in one statement, the tickets not yet known looked up in one query, new
tickets inserted in one statement (ids returned in order), and the updates and inserts of
tickets, legs and windows and the rollup invalidations each sent as one batch
(``executemany``). tests/hq/test_ingest.py checks its rows equal the office's own, row for row.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from queue_core.model import FINAL_STATES, Event, Ticket, WindowStatus
from storage import rollups
from storage.models import LegRow, TicketRow, WindowRow
from storage.store import (
    _T,
    INSERT_EVENTS,
    INSERT_LEG,
    INSERT_WINDOW,
    UPDATE_LEG,
    UPDATE_TICKET,
    UPDATE_WINDOW,
    QueueStore,
    _seq_no,
    leg_values,
)

INSERT_TICKETS = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
LOOKUP_CHUNK = 300


class BatchQueueStore(QueueStore):
    """A ``QueueStore`` whose ``save`` groups its statements; ``save_all`` saves many offices'."""

    def __init__(self, office_id: str):
        super().__init__(office_id)
        self._windows: set[int] | None = None      # window rows known to exist

    def save(self, session: Session, events: list[Event], tickets: list[Ticket],
             windows: dict[int, WindowStatus]) -> None:
        save_all(session, [Save(self, events, tickets, windows)])

    def forget(self) -> None:
        super().forget()
        self._windows = None

    def _changes(self, tickets: list[Ticket]) -> tuple[list[dict], list[dict], list[dict], set]:
        """What to write of tickets whose ids are known: (ticket updates, leg updates, leg
        inserts, the instants whose rollup days go stale), as ``QueueStore._save_ticket`` would."""
        ticket_updates, leg_updates, leg_inserts, instants = [], [], [], set()
        for t in tickets:
            ticket_id, stored = self._ids[(t.day, t.number)]
            if stored:
                ticket_updates.append(dict(tid=ticket_id, **_ticket_values(t)))
            instants.add(t.legs[0].queued_at)     # the visit is filed under its first leg's day
            for idx, leg in enumerate(t.legs):
                if idx < stored - 1:
                    continue                      # only the last stored leg can still change
                row = leg_values(self.office_id, t, idx, leg)
                instants.add(leg.queued_at)
                if idx < stored:
                    row.pop("idx")
                    leg_updates.append(dict(tid=ticket_id, leg_idx=idx, **row))
                else:
                    leg_inserts.append(dict(ticket_id=ticket_id, **row))
            if t.state in FINAL_STATES:
                self._ids.pop((t.day, t.number), None)
            else:
                self._ids[(t.day, t.number)] = (ticket_id, len(t.legs))
        return ticket_updates, leg_updates, leg_inserts, instants

    def _new_row(self, t: Ticket) -> dict:
        return dict(office=self.office_id, day=t.day, number=t.number, seq_no=_seq_no(t), issue_topic=t.legs[0].topic,
                    kind=str(t.kind), issued_at=t.issued_at, slot_start=t.slot_start, booking_code=t.booking_code,
                    priority_category=t.priority_category, segment=t.segment, eta_min=t.eta_min,
                    people_ahead=t.people_ahead, **_ticket_values(t))


@dataclass(frozen=True, slots=True)
class Save:
    """One office's part of a batch: what ``QueueStore.save`` takes."""
    store: BatchQueueStore
    events: list[Event]
    tickets: list[Ticket]
    windows: dict[int, WindowStatus]


def save_all(session: Session, saves: list[Save]) -> None:
    """Store many offices' events and the tickets and windows they touched (the caller commits)."""
    saves = [s for s in saves if s.events]
    if not saves:
        return
    conn = session.connection()
    conn.execute(INSERT_EVENTS, [dict(office=s.store.office_id, seq=e.seq, at=e.at, kind=e.kind, ticket=e.ticket,
                                      topic=e.topic, window=e.window, data=e.data) for s in saves for e in s.events])
    _look_up(conn, saves)
    new = [(s.store, t) for s in saves for t in s.tickets if (t.day, t.number) not in s.store._ids]
    if new:
        ids = conn.execute(INSERT_TICKETS, [store._new_row(t) for store, t in new]).scalars().all()
        for (store, t), ticket_id in zip(new, ids, strict=True):
            store._ids[(t.day, t.number)] = (ticket_id, 0)
    ticket_updates, leg_updates, leg_inserts, stale = [], [], [], []
    for s in saves:
        tickets, legs, inserts, instants = s.store._changes(s.tickets)
        ticket_updates += tickets
        leg_updates += legs
        leg_inserts += inserts
        stale += [dict(office=s.store.office_id, at=at, earliest=at - rollups.DAY_MAX_S)
                  for at in {i.timestamp() for i in instants}]
    window_updates, window_inserts = _windows(conn, saves)
    for statement, rows in ((UPDATE_TICKET, ticket_updates), (UPDATE_LEG, leg_updates), (INSERT_LEG, leg_inserts),
                            (rollups._INVALIDATE, stale), (UPDATE_WINDOW, window_updates),
                            (INSERT_WINDOW, window_inserts)):
        if rows:
            conn.execute(statement, rows)


def _look_up(conn, saves: list[Save]) -> None:
    """Ids and stored legs of tickets written before this batch (a rating after the finish, a
    ticket live across a restart), in one query per ``LOOKUP_CHUNK``. A ticket issued in this
    batch is new: not looked up."""
    issued = {(s.store.office_id, e.data.get("day"), e.ticket) for s in saves for e in s.events if e.kind == "issued"}
    stores = {s.store.office_id: s.store for s in saves}
    keys = [(s.store.office_id, t.day, t.number) for s in saves for t in s.tickets
            if (t.day, t.number) not in s.store._ids and (s.store.office_id, t.day, t.number) not in issued]
    for i in range(0, len(keys), LOOKUP_CHUNK):
        for ticket_id, office, day, number, legs in conn.execute(
                select(TicketRow.id, TicketRow.office, TicketRow.day, TicketRow.number, func.count(LegRow.id))
                .join(LegRow, LegRow.ticket_id == TicketRow.id, isouter=True)
                .where(tuple_(TicketRow.office, TicketRow.day, TicketRow.number).in_(keys[i:i + LOOKUP_CHUNK]))
                .group_by(TicketRow.id, TicketRow.office, TicketRow.day, TicketRow.number)):
            stores[office]._ids[(day, number)] = (ticket_id, legs)


def _windows(conn, saves: list[Save]) -> tuple[list[dict], list[dict]]:
    """The touched windows' rows: updates of the stored ones, inserts of the others."""
    unknown = [s.store for s in saves if s.store._windows is None]
    if unknown:
        for store in unknown:
            store._windows = set()
        by_id = {store.office_id: store for store in unknown}
        for office, number in conn.execute(select(WindowRow.office, WindowRow.number)
                                           .where(WindowRow.office.in_(list(by_id)))):
            by_id[office]._windows.add(number)
    updates, inserts = [], []
    for s in saves:
        known = s.store._windows
        assert known is not None
        for number in sorted({e.window for e in s.events if e.window is not None}):
            w = s.windows[number]
            values = dict(state=str(w.state), break_kind=str(w.break_kind) if w.break_kind else None,
                          operator=w.operator, ticket=w.ticket, priority_streak=w.priority_streak,
                          last_finished=w.last_finished)
            if number in known:
                updates.append(dict(w_office=s.store.office_id, w_number=number, **values))
            else:
                inserts.append(dict(office=s.store.office_id, number=number, **values))
                known.add(number)
    return updates, inserts


def _ticket_values(t: Ticket) -> dict:
    return dict(state=str(t.state), rating=t.rating, finished_at=t.leg.finished_at if t.state in FINAL_STATES else None)
