"""Reading the append-only event log: its last ``seq``, the recent calls for the board, and a
range of events for head office's replay."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from queue_core.model import Event
from storage.models import EventRow

CALL_EVENTS = ("called", "recalled")
RECALL_LOOKBACK = timedelta(days=1)   # a recall follows its call within the office day


@dataclass(frozen=True, slots=True)
class Call:
    ticket: str
    window: int
    topic: str
    at: datetime
    recall: bool


def last_seq(session: Session, office: str) -> int:
    return session.execute(select(func.max(EventRow.seq)).where(EventRow.office == office)).scalar() or 0


def recent_calls(session: Session, office: str, limit: int) -> list[Call]:
    """The last ``limit`` call and recall events, oldest first (the hall board's history)."""
    rows = session.execute(select(EventRow).where(EventRow.office == office, EventRow.kind.in_(CALL_EVENTS))
                           .order_by(EventRow.seq.desc()).limit(limit)).scalars().all()
    return [Call(r.ticket, r.window, r.topic, r.at, r.kind == "recalled") for r in reversed(rows)]


def events_between(session: Session, office: str, from_seq: int, to_seq: int | None, limit: int) -> list[Event]:
    """The office's events with ``from_seq <= seq <= to_seq`` (``None``: up to the newest), in
    ``seq`` order, at most ``limit`` (head office's replay, ``hub.hq_link``)."""
    query = select(EventRow).where(EventRow.office == office, EventRow.seq >= from_seq)
    if to_seq is not None:
        query = query.where(EventRow.seq <= to_seq)
    rows = session.execute(query.order_by(EventRow.seq).limit(limit)).scalars().all()
    return [Event(r.seq, r.at, r.kind, r.ticket, r.topic, r.window, dict(r.data or {})) for r in rows]


def recall_counts(session: Session, office: str, events: list[Event]) -> dict[int, int]:
    """``seq -> recalls`` for the call and recall events among ``events``: 0 for a call, then
    1, 2… for each recall of that ticket at that window since its call (what the hub sent
    live as ``data.recalls``), counted from the log so a replay carries the same numbers."""
    calls = [e for e in events if e.kind in CALL_EVENTS]
    if not calls:
        return {}
    rows = session.execute(
        select(EventRow.seq, EventRow.kind, EventRow.ticket, EventRow.window)
        .where(EventRow.office == office, EventRow.kind.in_(CALL_EVENTS),
               EventRow.ticket.in_({e.ticket for e in calls}), EventRow.seq <= max(e.seq for e in calls),
               EventRow.at >= min(e.at for e in calls) - RECALL_LOOKBACK)
        .order_by(EventRow.seq)).all()
    wanted = {e.seq for e in calls}
    running: dict[tuple[str | None, int | None], int] = {}
    counts: dict[int, int] = {}
    for seq, kind, ticket, window in rows:
        key = (ticket, window)
        running[key] = running.get(key, 0) + 1 if kind == "recalled" else 0
        if seq in wanted:
            counts[seq] = running[key]
    return counts
