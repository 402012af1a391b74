"""The wait a new ticket can expect: people ahead and minutes, from recent service times.

The model is deliberately simple and its error is measured by the simulator
(``eta_mae_min``): everyone already waiting for the windows that serve this topic is
ahead (a walk-in joins the back of that line; a priority visitor served out of turn is
behind priority visitors only). Their expected service work, plus half a service for every window
busy now, is shared by the open windows that serve the topic.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean

from queue_core.config import OfficeConfig
from queue_core.dispatch import issue_order
from queue_core.model import Ticket, TicketKind, WindowState, WindowStatus

DEFAULT_SERVICE_MIN = 10.0


def mean_service(config: OfficeConfig, topic: str, recent: Mapping[str, Sequence[float]]) -> float:
    samples = recent.get(topic)
    if samples:
        return fmean(samples)
    return config.topic(topic).service_norm_min or DEFAULT_SERVICE_MIN


def estimate(config: OfficeConfig, topic: str, kind: TicketKind, waiting: Iterable[Ticket],
             windows: Mapping[int, WindowStatus], recent: Mapping[str, Sequence[float]]
             ) -> tuple[int, float | None]:
    """(people ahead, expected minutes) for a ticket of ``topic`` issued now.

    Minutes is None when no open window serves the topic (nobody can promise a time).
    """
    serving = [n for n, s in windows.items()
               if s.state is WindowState.OPEN and topic in config.window(n).topics]
    shared = {code for n in serving for code in config.window(n).topics} or {topic}
    out_of_turn = kind is TicketKind.PRIORITY and config.priority_mode == "out_of_turn"
    ahead = [t for t in waiting if t.topic in shared and (not out_of_turn or t.kind is TicketKind.PRIORITY)]
    if not serving:
        return len(ahead), None
    busy = [windows[n] for n in serving if windows[n].ticket is not None]
    if len(ahead) + len(busy) < len(serving):
        return len(ahead), 0.0
    cache: dict[str, float] = {}

    def service(code: str) -> float:
        if code not in cache:
            cache[code] = mean_service(config, code, recent)
        return cache[code]

    work = sum(service(t.topic) for t in ahead) + len(busy) * service(topic) / 2
    return len(ahead), round(work / len(serving), 1)


def ahead_of(config: OfficeConfig, ticket: Ticket, waiting: Iterable[Ticket],
             windows: Mapping[int, WindowStatus], recent: Mapping[str, Sequence[float]]
             ) -> tuple[int, float | None]:
    """(people ahead, expected minutes) for ``ticket``, already waiting (the visitor's phone).

    The same simple model as :func:`estimate`, with the line cut at this ticket: ahead are
    the waiting tickets the same windows serve that were issued earlier (a transferred
    visitor keeps the original issue time, as the call order does); out of turn, every
    priority ticket is ahead of a walk-in and only earlier priority tickets of a priority
    one; a ticket transferred to one window has ahead only earlier tickets sent to that
    window, and that window alone serves it.
    """
    topic, target = ticket.topic, ticket.leg.target_window
    serving = [n for n, s in windows.items() if s.state is WindowState.OPEN
               and topic in config.window(n).topics and target in (None, n)]
    shared = {code for n in serving for code in config.window(n).topics} or {topic}
    out_of_turn = config.priority_mode == "out_of_turn"
    mine = issue_order(ticket)

    def before(t: Ticket) -> bool:
        if t.number == ticket.number or t.topic not in shared:
            return False
        if target is not None:
            return t.leg.target_window == target and issue_order(t) < mine
        if t.leg.target_window is not None and t.leg.target_window not in serving:
            return False
        if out_of_turn and (t.kind is TicketKind.PRIORITY) != (ticket.kind is TicketKind.PRIORITY):
            return t.kind is TicketKind.PRIORITY
        return issue_order(t) < mine

    ahead = [t for t in waiting if before(t)]
    if not serving:
        return len(ahead), None
    busy = [windows[n] for n in serving if windows[n].ticket is not None]
    if len(ahead) + len(busy) < len(serving):
        return len(ahead), 0.0
    work = sum(mean_service(config, t.topic, recent) for t in ahead) + len(busy) * mean_service(config, topic, recent) / 2
    return len(ahead), round(work / len(serving), 1)


def ahead_of_all(config: OfficeConfig, waiting: Sequence[Ticket], windows: Mapping[int, WindowStatus],
                 recent: Mapping[str, Sequence[float]]) -> dict[str, tuple[int, float | None]]:
    """:func:`ahead_of` for every waiting ticket at once, by number: what a page per visitor
    needs after each change. Tickets that share the same windows, target and kind share one
    sorted line with running sums, so 300 visitors cost 300 binary searches, not 300² checks."""
    service: dict[str, float] = {}

    def mean(code: str) -> float:
        if code not in service:
            service[code] = mean_service(config, code, recent)
        return service[code]

    out_of_turn = config.priority_mode == "out_of_turn"
    lines: dict[tuple, tuple] = {}
    result: dict[str, tuple[int, float | None]] = {}
    for ticket in waiting:
        topic, target = ticket.topic, ticket.leg.target_window
        priority = out_of_turn and ticket.kind is TicketKind.PRIORITY
        key = (topic, target, priority)
        if key not in lines:
            serving = [n for n, s in windows.items() if s.state is WindowState.OPEN
                       and topic in config.window(n).topics and target in (None, n)]
            shared = {code for n in serving for code in config.window(n).topics} or {topic}
            if target is not None:
                pool = [t for t in waiting if t.topic in shared and t.leg.target_window == target]
            else:
                pool = [t for t in waiting if t.topic in shared
                        and (t.leg.target_window is None or t.leg.target_window in serving)]
            first = [t for t in pool if out_of_turn and t.kind is TicketKind.PRIORITY and target is None]
            rest = [t for t in pool if not (out_of_turn and t.kind is TicketKind.PRIORITY and target is None)]
            busy = sum(1 for n in serving if windows[n].ticket is not None)
            lines[key] = (serving, busy, _line(first, mean), _line(rest, mean))
        serving, busy, (p_orders, p_sums), (r_orders, r_sums) = lines[key]
        mine = issue_order(ticket)
        if target is None and priority:
            i = bisect_left(p_orders, mine)
            ahead, work = i, p_sums[i]
        elif target is None and out_of_turn:
            i = bisect_left(r_orders, mine)
            ahead, work = len(p_orders) + i, p_sums[-1] + r_sums[i]
        else:
            i = bisect_left(r_orders, mine)
            ahead, work = i, r_sums[i]
        if not serving:
            result[ticket.number] = (ahead, None)
        elif ahead + busy < len(serving):
            result[ticket.number] = (ahead, 0.0)
        else:
            result[ticket.number] = (ahead, round((work + busy * mean(topic) / 2) / len(serving), 1))
    return result


def _line(tickets: list[Ticket], mean) -> tuple[list[tuple], list[float]]:
    """Issue orders, sorted, and the running sums of their expected service (sums[i]: the first i)."""
    ordered = sorted(tickets, key=issue_order)
    sums = [0.0]
    for t in ordered:
        sums.append(sums[-1] + mean(t.topic))
    return [issue_order(t) for t in ordered], sums
