"""Pre-registrations (предварительная запись): stored with a 6-digit code, claimed at check-in.

The web makes bookings (``Bookings.book``; the slot rules live in ``server.bookings``),
the hub claims one when the visitor types its code at the kiosk (``unclaimed`` then
``claim``, inside the check-in's transaction). Names and phones are personal data
(152-ФЗ): ``purge_personal_data`` blanks them once the slot is older than the retention.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import BookingRow


class SlotFull(ValueError):
    """The slot already holds as many bookings as its capacity."""


@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    code: str
    topic: str
    slot_start: datetime
    name: str | None = None
    phone: str | None = None
    ticket: str | None = None
    cancelled: bool = False


def _booking(row: BookingRow) -> Booking:
    return Booking(row.id, row.code, row.topic, row.slot_start, row.name, row.phone, row.ticket, row.cancelled)


class Bookings:
    """The bookings of one office, in the caller's session (the caller commits)."""

    def __init__(self, session: Session, office: str):
        self.session, self.office = session, office

    def booked(self, topic: str, slot_start: datetime) -> int:
        """How many live (not cancelled) bookings hold this slot."""
        return self.session.execute(select(func.count(BookingRow.id)).where(
            BookingRow.office == self.office, BookingRow.topic == topic, BookingRow.slot_start == slot_start,
            BookingRow.cancelled.is_(False))).scalar()

    def book(self, topic: str, slot_start: datetime, now: datetime, *, name: str | None = None,
             phone: str | None = None, capacity: int | None = None, rng: random.Random | None = None) -> Booking:
        """Store a booking under a fresh 6-digit code. With ``capacity``, refuse (``SlotFull``)
        a slot that holds that many bookings already; ``rng`` makes the codes reproducible."""
        if capacity is not None and self.booked(topic, slot_start) >= capacity:
            raise SlotFull(f"the {slot_start:%Y-%m-%d %H:%M} slot of {topic} is full")
        used = set(self.session.execute(select(BookingRow.code).where(BookingRow.office == self.office)).scalars())
        draw = (lambda: rng.randrange(10 ** 6)) if rng is not None else (lambda: secrets.randbelow(10 ** 6))
        code = next(c for c in (f"{draw():06d}" for _i in range(10 ** 7)) if c not in used)
        row = BookingRow(office=self.office, code=code, topic=topic, slot_start=slot_start, name=name, phone=phone,
                         created_at=now, cancelled=False)
        self.session.add(row)
        self.session.flush()
        return _booking(row)

    def unclaimed(self, code: str) -> Booking | None:
        """The live booking with this code that no ticket has claimed yet."""
        row = self.session.execute(select(BookingRow).where(
            BookingRow.office == self.office, BookingRow.code == code,
            BookingRow.cancelled.is_(False))).scalar_one_or_none()
        return None if row is None or row.ticket is not None else _booking(row)

    def claim(self, booking: Booking, ticket: str) -> None:
        """The visitor checked in: the booking now belongs to ``ticket``."""
        self.session.execute(update(BookingRow).where(BookingRow.id == booking.id).values(ticket=ticket))

    def all(self) -> list[Booking]:
        return [_booking(r) for r in self.session.execute(
            select(BookingRow).where(BookingRow.office == self.office).order_by(BookingRow.id)).scalars()]


def purge_personal_data(session: Session, older_than_days: int, now: datetime | None = None) -> int:
    """Blank the names and phones of bookings (every office) whose slot is older than
    ``older_than_days``. Returns how many bookings were purged; the caller commits."""
    now = now or datetime.now(timezone.utc)
    result = session.execute(update(BookingRow).where(
        BookingRow.slot_start < now - timedelta(days=older_than_days),
        or_(BookingRow.name.is_not(None), BookingRow.phone.is_not(None))).values(name=None, phone=None))
    return result.rowcount or 0
