"""The wait a new ticket can expect: people ahead and minutes, from recent service times.

The model is deliberately simple and its error is measured by the simulator
(``eta_mae_min``): the work ahead (people ahead × mean service, plus half a service
for each busy window) shared by the open windows that serve the topic, each window
counted by the share of its waiting visitors who are in this topic.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean

from queue_core.config import OfficeConfig
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
    waiting = list(waiting)
    if kind is TicketKind.PRIORITY:
        ahead = sum(1 for t in waiting if t.topic == topic and t.kind is TicketKind.PRIORITY)
    else:
        ahead = sum(1 for t in waiting if t.topic == topic)
    capacity = 0.0
    busy = 0
    for number, status in windows.items():
        w = config.window(number)
        if status.state is not WindowState.OPEN or topic not in w.topics:
            continue
        mine = sum(1 for t in waiting if t.topic == topic) + 1
        theirs = sum(1 for t in waiting if t.topic in w.topics)
        capacity += mine / (theirs + 1) if theirs else 1.0
        busy += status.ticket is not None
    if capacity == 0:
        return ahead, None
    service = mean_service(config, topic, recent)
    open_windows = sum(1 for n, s in windows.items()
                       if s.state is WindowState.OPEN and topic in config.window(n).topics)
    if ahead + busy < open_windows:
        return ahead, 0.0
    work = ahead * service + busy * service / 2
    return ahead, round(work / capacity, 1)
