"""Reading stored tickets: one day's tickets with their legs (the REST API), the numbers
stored (drills and the demo check that none was lost or given twice), the operators seen."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from storage.models import LegRow, TicketRow


def on_day(session: Session, office: str, day: str) -> list[TicketRow]:
    """The tickets issued on ``day`` (``YYYY-MM-DD``), with their legs, in issue order.
    Read-only rows: use them inside the session."""
    return list(session.execute(select(TicketRow).options(selectinload(TicketRow.legs))
                                .where(TicketRow.office == office, TicketRow.day == day)
                                .order_by(TicketRow.issued_at)).scalars())


def numbers(session: Session, office: str | None = None, since_day: str | None = None) -> list[tuple[str, str, str]]:
    """(day, number, state) of every stored ticket (of ``office``, from ``since_day`` on), in id order."""
    q = select(TicketRow.day, TicketRow.number, TicketRow.state).order_by(TicketRow.id)
    if office is not None:
        q = q.where(TicketRow.office == office)
    if since_day is not None:
        q = q.where(TicketRow.day >= since_day)
    return [(day, number, state) for day, number, state in session.execute(q)]


def duplicate_numbers(session: Session, office: str) -> int:
    """How many (day, number) pairs are stored more than once (the schema forbids it: 0)."""
    twice = (select(TicketRow.day, TicketRow.number).where(TicketRow.office == office)
             .group_by(TicketRow.day, TicketRow.number).having(func.count() > 1).subquery())
    return session.execute(select(func.count()).select_from(twice)).scalar() or 0


def operators(session: Session, office: str) -> list[str]:
    """Every operator code that served a leg, sorted."""
    return list(session.execute(select(LegRow.operator).distinct().where(
        LegRow.office == office, LegRow.operator.is_not(None)).order_by(LegRow.operator)).scalars())
