"""Reading the append-only event log: its last ``seq`` and the recent calls for the board."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import EventRow

CALL_EVENTS = ("called", "recalled")


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
