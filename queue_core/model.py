"""The queue's nouns: tickets, their legs, windows and the events that change them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class TicketKind(StrEnum):
    WALK_IN = "walk_in"
    BOOKING = "booking"
    PRIORITY = "priority"


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({TicketState.DONE, TicketState.NO_SHOW, TicketState.CANCELLED})


class WindowState(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class BreakKind(StrEnum):
    TECHNICAL = "technical"
    LUNCH = "lunch"
    REST = "rest"


@dataclass(slots=True)
class Leg:
    """One stretch of a visit in one topic: queued, called, served (a transfer starts a new leg)."""
    topic: str
    queued_at: datetime
    window: int | None = None
    operator: str | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recalls: int = 0
    outcome: str | None = None          # done / no_show / cancelled / left / transferred / terminated / needs_followup
    target_window: int | None = None    # transferred to one window: only it may call this leg
    accounts: int = 1


@dataclass(slots=True)
class Ticket:
    number: str
    day: str                            # office-local ISO date the number belongs to
    kind: TicketKind
    issued_at: datetime
    legs: list[Leg]
    state: TicketState = TicketState.WAITING
    slot_start: datetime | None = None  # bookings: wait counts from max(issued_at, slot_start)
    booking_code: str | None = None
    priority_category: str | None = None
    assisted: bool = False              # marked for assisted service (priority mode individual/call_staff)
    segment: str | None = None
    eta_min: float | None = None        # what the ticket promised, to measure the estimate
    people_ahead: int = 0
    rating: int | None = None

    @property
    def leg(self) -> Leg:
        return self.legs[-1]

    @property
    def topic(self) -> str:
        return self.leg.topic

    @property
    def window(self) -> int | None:
        return self.leg.window

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def wait_from(self) -> datetime:
        """When this leg's wait started counting (docs/architecture.md §4)."""
        leg = self.leg
        if len(self.legs) == 1 and self.slot_start is not None:
            return max(self.issued_at, self.slot_start)
        return leg.queued_at


@dataclass(slots=True)
class WindowStatus:
    number: int
    state: WindowState = WindowState.CLOSED
    break_kind: BreakKind | None = None
    operator: str | None = None
    ticket: str | None = None           # number of the ticket called or being served
    priority_streak: int = 0            # consecutive priority calls (interleave rule)
    last_finished: str | None = None    # the ticket a rating panel may rate


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at: datetime
    kind: str
    ticket: str | None = None
    topic: str | None = None
    window: int | None = None
    data: dict = field(default_factory=dict)

    # What a kind of event always names, typed: applying it reads these, never the optionals.
    @property
    def ticket_number(self) -> str:
        if self.ticket is None:
            raise ValueError(f"{self.kind} event {self.seq} names no ticket")
        return self.ticket

    @property
    def window_number(self) -> int:
        if self.window is None:
            raise ValueError(f"{self.kind} event {self.seq} names no window")
        return self.window

    @property
    def topic_code(self) -> str:
        if self.topic is None:
            raise ValueError(f"{self.kind} event {self.seq} names no topic")
        return self.topic
