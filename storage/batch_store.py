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

On PostgreSQL each of those batches is one statement whose parameters are arrays, a column
each (``INSERT … SELECT * FROM unnest(…)``, ``UPDATE … FROM unnest(…)``, ``DELETE … USING
unnest(…)``): short statements psycopg prepares once, where ``executemany`` costs a bind and
an execute per row and a multi-row ``VALUES`` is parsed anew each time (about half the ingest's
CPU per event; measured by cProfile, docs/scale.md). The arrays go in PostgreSQL's binary
format (the text one escapes every quote of every JSON value with a regular expression), and
inserts that return nothing (events, legs) go by ``COPY``, whose rows psycopg formats in C.
The values go through the columns' own bind processing, so the rows are the ones the ordinary
statements write; where the rows do not allow it (two updates of one row, a column left to its
default) the ordinary statement runs.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, func, insert, select, tuple_
from sqlalchemy.orm import Session

from queue_core.model import FINAL_STATES, Event, Ticket, WindowStatus
from storage import rollups
from storage.models import LegRow, TicketRow, WindowRow
from storage.store import (
    _E,
    _L,
    _T,
    _W,
    INSERT_EVENTS,
    INSERT_LEG,
    INSERT_WINDOW,
    UPDATE_LEG,
    UPDATE_TICKET,
    UPDATE_WINDOW,
    QueueStore,
    _seq_no,
    legs_to_write,
    window_values,
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
            for idx, row, is_update in legs_to_write(self.office_id, t, stored):
                instants.add(row["queued_at"])
                if is_update:
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
    """Store many offices' events and the tickets and windows they touched (the caller commits).
    On PostgreSQL each statement's rows go as one statement of arrays where they can (``unnest``)."""
    saves = [s for s in saves if s.events]
    if not saves:
        return
    conn = session.connection()
    arrays = conn.dialect.name == "postgresql"
    events = [dict(office=s.store.office_id, seq=e.seq, at=e.at, kind=e.kind, ticket=e.ticket, topic=e.topic,
                   window=e.window, data=e.data) for s in saves for e in s.events]
    if not (arrays and _insert_arrays(conn, _E, events)):
        conn.execute(INSERT_EVENTS, events)
    _look_up(conn, saves)
    _insert_new_tickets(conn, saves, arrays)
    ticket_updates, leg_updates, leg_inserts, stale = [], [], [], []
    for s in saves:
        tickets, legs, inserts, instants = s.store._changes(s.tickets)
        ticket_updates += tickets
        leg_updates += legs
        leg_inserts += inserts
        stale += [dict(office=s.store.office_id, at=at, earliest=at - rollups.DAY_MAX_S)
                  for at in {i.timestamp() for i in instants}]
    window_updates, window_inserts = _windows(conn, saves)
    for statement, rows, as_arrays in (
            (UPDATE_TICKET, ticket_updates, lambda rows: _update_arrays(conn, _TICKET_KEY, rows)),
            (UPDATE_LEG, leg_updates, lambda rows: _update_arrays(conn, _LEG_KEY, rows)),
            (INSERT_LEG, leg_inserts, lambda rows: _insert_arrays(conn, _L, rows)),
            (rollups._INVALIDATE, stale, lambda rows: _invalidate_arrays(conn, rows)),
            (UPDATE_WINDOW, window_updates, lambda rows: _update_arrays(conn, _WINDOW_KEY, rows)),
            (INSERT_WINDOW, window_inserts, lambda rows: False)):      # a window's first row: rare
        if rows and not (arrays and as_arrays(rows)):
            conn.execute(statement, rows)


def _insert_new_tickets(conn, saves: list[Save], arrays: bool) -> None:
    """Insert the tickets not stored yet and remember their ids."""
    new = [(s.store, t) for s in saves for t in s.tickets if (t.day, t.number) not in s.store._ids]
    if not new:
        return
    rows = [store._new_row(t) for store, t in new]
    returned = _insert_arrays(conn, _T, rows, returning=("id", "office", "day", "number")) if arrays else None
    if isinstance(returned, list):    # in no promised order: matched on the unique (office, day, number)
        by_key = {(office, day, number): ticket_id for ticket_id, office, day, number in returned}
        ids = [by_key[(store.office_id, t.day, t.number)] for store, t in new]
    else:
        ids = conn.execute(INSERT_TICKETS, rows).scalars().all()
    for (store, t), ticket_id in zip(new, ids, strict=True):
        store._ids[(t.day, t.number)] = (ticket_id, 0)


def _insert_arrays(conn, table: Table, rows: list[dict], returning: tuple[str, ...] = ()) -> list | bool | None:
    """PostgreSQL: ``rows`` inserted by one statement: ``COPY`` (``_copy``) when nothing is returned,
    else a column an array (``INSERT … SELECT * FROM unnest(…)``): one short statement psycopg
    prepares once, in place of a statement per row or a multi-row ``VALUES`` it parses anew each
    time. The values pass the columns' own bind processing, so the rows are those
    ``insert(table)`` writes. The returned rows when ``returning`` names columns, else True; None
    (nothing written) for rows this cannot take whole: the caller then uses the ordinary statement."""
    names = tuple(rows[0])
    plan = _array_plan(conn.dialect, table, names, returning)
    if plan is None or any(len(row) != len(names) for row in rows):
        return None
    sql, processors = plan
    columns = _columns(rows, names, processors)
    if not returning:
        _copy(conn, table, names, columns)
        return True
    return conn.exec_driver_sql(sql, columns).all()


def _copy(conn, table: Table, names: tuple[str, ...], columns: tuple[list, ...]) -> None:
    """PostgreSQL: the rows (already bound as their columns bind them) by ``COPY … FROM STDIN``
    in the transaction under way: psycopg formats a row in C, where an array parameter costs a
    Python call per value (the largest part of the events' insert, profiled; docs/scale.md)."""
    quote = conn.dialect.identifier_preparer.quote
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN") as copy:
            for row in zip(*columns):
                copy.write_row(row)
    finally:
        cursor.close()


# what UPDATE_TICKET, UPDATE_LEG and UPDATE_WINDOW find their row by: parameter -> column
_TICKET_KEY = (_T, {"tid": "id"})
_LEG_KEY = (_L, {"tid": "ticket_id", "leg_idx": "idx"})
_WINDOW_KEY = (_W, {"w_office": "office", "w_number": "number"})


def _update_arrays(conn, where: tuple[Table, dict[str, str]], rows: list[dict]) -> bool:
    """PostgreSQL: the rows of one of the updates above in one ``UPDATE … FROM unnest(…)``; False
    (nothing written) when two rows name the same row (each row must be set once, as a statement
    per row would leave it) or the rows differ in their columns."""
    table, key = where
    names = tuple(rows[0])
    if len({tuple(row[k] for k in key) for row in rows}) != len(rows) or any(len(r) != len(names) for r in rows):
        return False
    quote = conn.dialect.identifier_preparer.quote
    columns = {n: table.c[key.get(n, n)] for n in names}
    sets = ", ".join(f"{quote(c.name)} = v.{quote(n)}" for n, c in columns.items() if n not in key)
    match = " AND ".join(f"t.{quote(column)} = v.{quote(param)}" for param, column in key.items())
    sql, processors = _arrays(conn.dialect, columns)
    conn.exec_driver_sql(f"UPDATE {quote(table.name)} AS t SET {sets} FROM {sql} AS v({', '.join(map(quote, names))}) "
                         f"WHERE {match}", _columns(rows, names, processors))
    return True


def _invalidate_arrays(conn, stale: list[dict]) -> bool:
    """PostgreSQL: ``rollups._INVALIDATE`` for every row of ``stale`` in one ``DELETE … USING unnest(…)``."""
    r = rollups._R.c
    sql, processors = _arrays(conn.dialect, {"office": r.office, "at": r.start_s, "earliest": r.start_s})
    conn.exec_driver_sql(f"DELETE FROM {rollups._R.name} AS r USING {sql} AS v(office, at, earliest) "
                         "WHERE r.office = v.office AND r.start_s <= v.at AND r.start_s > v.earliest "
                         "AND r.end_s > v.at", _columns(stale, ("office", "at", "earliest"), processors))
    return True


def _arrays(dialect, columns: dict) -> tuple[str, list]:
    """``unnest(%b::type[], …)`` for ``columns`` (name -> table column) and their bind processors
    (``%b``: each array in binary format)."""
    casts = ", ".join(f"%b::{c.type.compile(dialect)}[]" for c in columns.values())
    return f"unnest({casts})", [c.type._cached_bind_processor(dialect) for c in columns.values()]


def _columns(rows: list[dict], names: tuple[str, ...], processors: list) -> tuple[list, ...]:
    """The rows as one list per column, each value bound as its column binds it."""
    out = []
    for name, process in zip(names, processors, strict=True):
        values = [row[name] for row in rows]
        out.append([process(v) for v in values] if process is not None else values)
    return tuple(out)


_PLANS: dict[tuple, tuple[str, list] | None] = {}


def _array_plan(dialect, table: Table, names: tuple[str, ...], returning: tuple[str, ...]) -> tuple[str, list] | None:
    """The statement and the columns' bind processors for rows with ``names``; None when a column
    left out has a default of its own (``insert`` would fill it in) or a name is not a column."""
    key = (dialect.name, table.name, names, returning)
    if key not in _PLANS:
        plan = None
        if all(n in table.c for n in names) and not any(
                c.default is not None and c.name not in names for c in table.c):
            quote = dialect.identifier_preparer.quote
            arrays, processors = _arrays(dialect, {n: table.c[n] for n in names})
            sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) SELECT * FROM {arrays}"
            if returning:
                sql += f" RETURNING {', '.join(quote(n) for n in returning)}"
            plan = sql, processors
        _PLANS[key] = plan
    return _PLANS[key]


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
            values = window_values(s.windows[number])
            if number in known:
                updates.append(dict(w_office=s.store.office_id, w_number=number, **values))
            else:
                inserts.append(dict(office=s.store.office_id, number=number, **values))
                known.add(number)
    return updates, inserts


def _ticket_values(t: Ticket) -> dict:
    return dict(state=str(t.state), rating=t.rating, finished_at=t.leg.finished_at if t.state in FINAL_STATES else None)
