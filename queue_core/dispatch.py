"""Who is next for a window: pure functions over the waiting tickets.

Order of precedence (docs/architecture.md §4): a ticket transferred to this very window,
then priority tickets when the office serves them out of turn (``priority_mode =
"out_of_turn"``; at most ``priority_max_in_row`` in a row while others wait, or always
first when it is 0, as ОЭК asks, 001:375-377), then bookings that are due, then the
office's policy over everyone else. In the assisted modes (``individual``,
``call_staff``, АтомЭнергоСбыт 004:945-949) a priority ticket takes its turn like any other:

* ``fifo`` — earliest issue first, across the topics the window serves;
* ``norm_aware`` — largest ``elapsed_wait / wait_norm × weight`` first; anyone past
  ``aging_factor × norm`` goes first regardless of weights, so no topic starves.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from queue_core.config import OfficeConfig, Window
from queue_core.model import Ticket, TicketKind


def eligible(tickets: Iterable[Ticket], window: Window) -> list[Ticket]:
    """Waiting tickets this window may call."""
    return [t for t in tickets
            if t.topic in window.topics and t.leg.target_window in (None, window.number)]


def issue_order(t: Ticket) -> tuple:
    return (t.issued_at, t.day, t.number)


def _norm(config: OfficeConfig, topic: str) -> float:
    return config.topic(topic).wait_norm_min or config.default_wait_norm_min


def norm_ratio(config: OfficeConfig, t: Ticket, now: datetime) -> float:
    return (now - t.wait_from()).total_seconds() / 60 / _norm(config, t.topic)


def by_policy(config: OfficeConfig, window: Window, tickets: list[Ticket], now: datetime) -> Ticket | None:
    if not tickets:
        return None
    if config.policy == "fifo":
        return min(tickets, key=issue_order)
    ratios = {id(t): norm_ratio(config, t, now) for t in tickets}
    aged = [t for t in tickets if ratios[id(t)] >= config.aging_factor]
    # ties go to the earlier ticket: max() keeps the first of equals, and the pool is in issue order
    if aged:
        return max(aged, key=lambda t: (ratios[id(t)], -t.issued_at.timestamp()))
    # Serve first whoever is closest to their norm but can still make it; visitors
    # already past it come next (and go first once aged), so the share within the
    # norm is as high as the office's capacity allows.
    savable = [t for t in tickets if ratios[id(t)] < 1.0] or tickets
    return max(savable, key=lambda t: (ratios[id(t)] * window.weight(t.topic), -t.issued_at.timestamp()))


def choose_next(config: OfficeConfig, window: Window, waiting: Iterable[Ticket], now: datetime,
                priority_streak: int) -> Ticket | None:
    """The ticket ``window`` should call now, or None when nobody it serves is waiting."""
    pool = eligible(waiting, window)
    if not pool:
        return None
    targeted = [t for t in pool if t.leg.target_window == window.number]
    if targeted:
        return min(targeted, key=issue_order)
    out_of_turn = config.priority_mode == "out_of_turn"
    priority = [t for t in pool if out_of_turn and t.kind is TicketKind.PRIORITY]
    others = [t for t in pool if not (out_of_turn and t.kind is TicketKind.PRIORITY)]
    limit = config.priority_max_in_row
    if priority and (not others or not limit or priority_streak < limit):
        return min(priority, key=issue_order)
    due = [t for t in others if t.kind is TicketKind.BOOKING and t.slot_start is not None and t.slot_start <= now]
    if due:
        return min(due, key=lambda t: (t.slot_start, issue_order(t)))
    return by_policy(config, window, others, now)
