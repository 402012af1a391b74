"""The wait a new ticket can expect: people ahead and minutes, from recent service times.

The model is deliberately simple and its error is measured by the simulator
(``eta_mae_min``): everyone already waiting for the windows that serve this topic is
ahead (a walk-in joins the back of that line; a priority visitor served out of turn is
behind priority visitors only). Their expected service work, plus half a service for every window
busy now, is shared by the open windows that serve the topic.
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
