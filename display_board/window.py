"""The small display above one window (``talon board --window N``), as plain Python.

It follows the retained ``state/window/<n>`` and applies this window's events at once
(an event arrives before the retained state that follows it); a retained state older
than the events already applied is ignored, and a gap in event ``seq`` re-reads the
retained state (``broker.follower``). Single-threaded, see ``display_board.common``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from broker.bus import Bus
from broker.views import WINDOW_KINDS, TicketEvent, ViewError, WindowState, WindowTicket
from display_board.common import DisplayPresenter
from display_board.texts import text

log = logging.getLogger(__name__)

ACTIVE_TICKET_STATES = ("called", "started", "serving", None)
ENDING_KINDS = ("finished", "no_show", "cancelled", "transferred")


@dataclass(frozen=True)
class WindowModel:
    lang: str = "ru"
    window: int = 0
    title: str = ""                # «Окно 3»
    state: str = "unknown"         # open | paused | closed | unknown
    ticket: str = ""               # the ticket being called or served
    ticket_state: str = ""         # called | started | …
    status: str = ""               # «Окно закрыто» / «Технический перерыв» / … / ""
    topics: str = ""               # names of the topics served, shown when idle
    operator: str = ""             # «Вас обслуживает: Иванова Анна»
    clock: str = ""
    office: str = ""
    connected: bool = True
    offline_text: str = ""

    @property
    def idle(self) -> bool:
        return self.state == "open" and not self.ticket


class WindowPresenter(DisplayPresenter[WindowModel]):
    def __init__(self, bus: Bus, window: int, *, lang: str = "ru", clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] | None = None) -> None:
        self.window = int(window)
        self.state_name = f"window/{self.window}"
        super().__init__(bus, lang=lang, clock=clock, now=now)
        self.state: WindowState | None = None
        self.model = self._build()

    def _on_state(self, payload: dict) -> None:
        try:
            state = WindowState.from_payload(payload)
        except ViewError as exc:
            log.warning("ignoring malformed %s: %s", self.state_name, exc)
            return
        if not self.follower.state(state.seq) and self.state is not None:
            return  # older than what events already told us
        self.state = state
        self._publish()

    def _on_ticket_event(self, event: TicketEvent) -> None:
        """Events for this window update the display at once; the retained state follows."""
        if event.window != self.window:
            return
        st = self.state or WindowState(window=self.window, state="open")
        if event.is_call:
            assert event.ticket is not None
            st = replace(st, state="open", ticket=WindowTicket(event.ticket, event.topic, "called",
                                                               called_at=event.at, recalls=event.recalls or 0))
        elif event.kind == "started" and st.ticket is not None:
            st = replace(st, ticket=replace(st.ticket, state="started"))
        elif event.kind in ENDING_KINDS:
            if st.ticket is not None and st.ticket.number == event.ticket:
                st = replace(st, ticket=None)
        elif event.kind in WINDOW_KINDS:
            state = WINDOW_KINDS[event.kind]
            st = replace(st, state=state, break_kind=event.break_kind if state == "paused" else None,
                         ticket=st.ticket if state == "open" else None)
        else:
            return
        self.state = st

    def _build(self) -> WindowModel:
        st = self.state
        state = st.state if st else "unknown"
        ticket_info = st.ticket if st else None
        ticket = ""
        if state == "open" and ticket_info is not None and ticket_info.state in ACTIVE_TICKET_STATES:
            ticket = ticket_info.number
        if state == "closed":
            status = text(self.lang, "closed")
        elif state == "paused":
            status = text(self.lang, (st.break_kind if st else None) or "paused")
        else:
            status = ""
        codes: tuple[str, ...] = st.topics if st and st.topics else ()
        if not codes:
            info = self.config.window(self.window)
            codes = info.topics if info else ()
        topics = ", ".join(self.config.topic_label(c, self.lang) for c in codes)
        operator = st.operator.name if st and st.operator and state == "open" else None
        return WindowModel(
            lang=self.lang, window=self.window, title=text(self.lang, "window_title", window=self.window),
            state=state, ticket=ticket,
            ticket_state=(ticket_info.state or "") if ticket and ticket_info else "",
            status=status, topics=topics,
            operator=text(self.lang, "serving", name=operator) if operator else "",
            clock=self._clock_text(), office=self.config.office.name.get(self.lang),
            connected=self.connected, offline_text=self._offline_text(),
        )
