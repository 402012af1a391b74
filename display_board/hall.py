"""The hall board as plain Python (no Kivy here).

``BoardPresenter`` turns what the bus says (retained ``state/config`` and
``state/board``, ``event/ticket``, connection changes) into a ``BoardModel``:

* **now calling**: the newest call, shown large for at least ``board.min_display_s``;
  calls that arrive meanwhile wait their turn, so each is shown large in order;
* **history**: the last N calls, newest first, updated at once (a waiting call is
  already listed there, so nobody misses it);
* a per-window **grid** (optional), the **clock**, the office name, a notice line: the
  staff's announcement (retained ``state/notice``) while there is one, else ``board.notice``;
* a **«Нет связи»** badge when the bus is down, keeping the last known calls;
* **resync** from the retained ``state/board`` on (re)connect and whenever event
  ``seq`` jumps (``broker.follower``); calls learnt that way are still shown and
  announced if recent;
* every new ``called``/``recalled`` call is handed to the ``Announcer``; the number of
  recalls is the one the hub sends in the event (``data.recalls``).

Single-threaded (see ``display_board.common``); ``tick()`` is called about twice a
second for the clock and the minimum display time; tests pass a fake ``clock`` and ``now``.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from broker.bus import Bus, Post, direct
from broker.views import WINDOW_KINDS, BoardCall, BoardState, NoticeState, TicketEvent, ViewError, WindowState
from display_board.common import DisplayPresenter
from display_board.texts import text

log = logging.getLogger(__name__)

DEFAULT_HISTORY = 8
DEFAULT_MIN_DISPLAY_S = 10.0

Call = BoardCall      # one call on the board (ticket, window, topic, at, recalls)


class Announcer(Protocol):
    def announce(self, ticket: str, window: int, recall: bool = False) -> Any: ...

    def configure(self, *, repeat: int | None = None, voice: bool | None = None) -> Any: ...


@dataclass(frozen=True)
class WindowCell:
    window: int
    ticket: str = ""
    status: str = ""       # "" when open, else the break / closed text
    state: str = "open"    # open | paused | closed | unknown


@dataclass(frozen=True)
class BoardModel:
    lang: str = "ru"
    office: str = ""
    notice: str = ""                  # the announcement while there is one, else the configured notice
    announcement: bool = False        # ``notice`` is the staff's announcement (``state/notice``)
    clock: str = ""
    header_ticket: str = "Талон"
    header_window: str = "Окно"
    now_calling: Call | None = None
    now_calling_line: str = ""
    now_calling_rev: int = 0          # changes each time a call takes the big slot (blink on change)
    waiting_to_show: int = 0          # calls queued for the big slot
    history: tuple[Call, ...] = ()
    history_size: int = DEFAULT_HISTORY   # rows the list keeps room for (its layout stays put)
    grid: tuple[WindowCell, ...] = ()
    grid_mode: bool = False
    connected: bool = True
    offline_text: str = ""            # «Нет связи с 12:34» while disconnected


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class BoardPresenter(DisplayPresenter[BoardModel]):
    def __init__(self, bus: Bus, *, announcer: Any = None, history: int | None = None,
                 min_display_s: float | None = None, grid: bool = False, lang: str = "ru",
                 voice: bool = True, stale_call_s: float = 120.0,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(bus, lang=lang, clock=clock, now=now)
        self.announcer = announcer
        self._history_override = history
        self._min_display_override = min_display_s
        self.grid_mode = grid
        self.voice_allowed = voice
        self.stale_call_s = stale_call_s
        self.history: list[Call] = []
        self.now_calling: Call | None = None
        self._shown_at = 0.0
        self._rev = 0
        self._to_show: deque[Call] = deque()
        self._known: set[tuple[str, int, int]] = set()
        self._board_state: BoardState | None = None
        self._loaded = False          # a first picture (state or event) has been taken
        self._windows: dict[int, WindowState] = {}
        self._event_only: set[int] = set()   # windows known from events only, not their retained state
        self.announced: list[Call] = []
        self.announcement = ""            # the staff's announcement (``state/notice``), "" when none
        self.model = self._build()

    state_name = "board"

    # -- settings from config / command line ---------------------------------------
    @property
    def history_size(self) -> int:
        if self._history_override is not None:
            return self._history_override
        return self.config.board.history or DEFAULT_HISTORY

    @property
    def min_display_s(self) -> float:
        if self._min_display_override is not None:
            return self._min_display_override
        value = self.config.board.min_display_s
        return DEFAULT_MIN_DISPLAY_S if value is None else value

    # -- config ----------------------------------------------------------------------
    def _config_changed(self) -> None:
        config = self.config
        if self.announcer is not None:
            self.announcer.configure(repeat=config.sound.repeat, voice=config.sound.voice and self.voice_allowed)
        del self.history[self.history_size:]
        windows = list(config.window_numbers)
        prepare = getattr(self.announcer, "prepare", None)
        if callable(prepare):  # render the day's first announcements ahead (in the background)
            try:
                prepare([t.prefix for t in config.topics if t.prefix], windows)
            except Exception:
                log.exception("announcer.prepare failed")
        if self.grid_mode:
            for n in windows:
                name = f"window/{n}"
                if name not in self.follower.names:
                    self.follower.follow(name)
                    self.watch(name, self._on_window_state)

    def start(self, post: Post = direct) -> BoardPresenter:
        super().start(post)
        self.watch("notice", self._on_notice)      # the staff's announcement, retained
        return self

    def _on_notice(self, payload: dict) -> None:
        try:
            self.announcement = NoticeState.from_payload(payload).text
        except ViewError as exc:
            log.warning("ignoring malformed state/notice: %s", exc)
            return
        self._publish()

    def _on_window_state(self, payload: dict) -> None:
        try:
            state = WindowState.from_payload(payload)
        except ViewError as exc:
            log.warning("ignoring malformed window state: %s", exc)
            return
        self._windows[state.window] = state
        self._event_only.discard(state.window)
        self._publish()

    # -- retained board state ------------------------------------------------------
    def _on_state(self, payload: dict) -> None:
        try:
            state = BoardState.from_payload(payload)
        except ViewError as exc:
            log.warning("ignoring malformed state/board: %s", exc)
            return
        self._board_state = state
        self._merge_board(state)
        self._publish()

    def _merge_board(self, state: BoardState) -> None:
        """Take the hub's list of calls as the truth; new calls are shown and announced."""
        calls = list(state.calls)
        current = self.follower.state(state.seq)
        if not self._loaded:
            # First picture after start: show it as it is; these calls were made before
            # this board existed, so they are not announced again.
            self._loaded = True
            self.history = calls[: self.history_size]
            self._known.update(c.key for c in calls)
            if calls:
                self._show(calls[0])
            return
        for call in reversed([c for c in calls if c.key not in self._known]):
            self._add_call(call, announce=self._is_fresh(call))
        if current and state.seq is not None:
            self.history = calls[: self.history_size]  # the hub's order wins when it is current

    def _after_resync(self, reason: str) -> None:
        """The bus was asked for the retained board; merge what we already hold meanwhile."""
        if self._board_state is not None:
            self._merge_board(self._board_state)

    def _is_fresh(self, call: Call) -> bool:
        at = _parse_time(call.at)
        if at is None:
            return True
        now = self.now()
        if at.tzinfo is None and now.tzinfo is not None:
            at = at.replace(tzinfo=now.tzinfo)
        elif at.tzinfo is not None and now.tzinfo is None:
            now = now.astimezone()
        return now - at <= timedelta(seconds=self.stale_call_s)

    # -- events --------------------------------------------------------------------
    def _on_ticket_event(self, event: TicketEvent) -> None:
        call = event.call()
        if call is not None:
            self._loaded = True
            if call.key not in self._known:
                self._add_call(call, announce=True)
        elif event.kind in WINDOW_KINDS and event.window is not None:
            self._window_event(event)

    def _window_event(self, event: TicketEvent) -> None:
        assert event.window is not None
        n = event.window
        state = WINDOW_KINDS[event.kind]
        current = self._windows.get(n)
        if current is None:
            self._event_only.add(n)
            current = WindowState(window=n)
        self._windows[n] = replace(current, state=state,
                                   break_kind=event.break_kind if state == "paused" else None,
                                   ticket=current.ticket if state == "open" else None)

    # -- the calls -----------------------------------------------------------------
    def _add_call(self, call: Call, announce: bool) -> None:
        self._known.add(call.key)
        self.history = [c for c in self.history if (c.ticket, c.window) != (call.ticket, call.window)]
        self.history.insert(0, call)
        del self.history[self.history_size:]
        self._to_show.append(call)
        self._advance()
        if announce:
            self.announced.append(call)
            if self.announcer is not None:
                self.announcer.announce(call.ticket, call.window, recall=call.recalls > 0)

    def _show(self, call: Call) -> None:
        self.now_calling = call
        self._shown_at = self.clock()
        self._rev += 1

    def _advance(self) -> None:
        """Move the next waiting call to the big slot once the current one had its time."""
        if not self._to_show:
            return
        if self.now_calling is None or self.clock() - self._shown_at >= self.min_display_s:
            self._show(self._to_show.popleft())

    def tick(self) -> BoardModel:
        self._advance()
        return super().tick()

    # -- the model -----------------------------------------------------------------
    def _grid(self) -> tuple[WindowCell, ...]:
        numbers = list(self.config.window_numbers)
        numbers += sorted(set(self._windows) - set(numbers))
        last_call: dict[int, str] = {}
        for c in reversed(self.history):
            last_call[c.window] = c.ticket
        cells = []
        for n in numbers:
            st = self._windows.get(n)
            if st is None:
                cells.append(WindowCell(n, last_call.get(n, ""), "", "unknown"))
                continue
            ticket = ""
            if st.state == "open" and n in self._event_only:
                ticket = last_call.get(n, "")    # known only from events: its last call stands for it
            elif st.state == "open":
                ticket = st.ticket.number if st.ticket else ""
            status = "" if st.state == "open" else text(self.lang, st.break_kind or "paused") \
                if st.state == "paused" else text(self.lang, "closed")
            cells.append(WindowCell(n, ticket, status, st.state))
        return tuple(cells)

    def _build(self) -> BoardModel:
        c = self.now_calling
        line = ""
        if c is not None:
            line = text(self.lang, "recall_line" if c.recalls else "call_line", ticket=c.ticket, window=c.window)
        return BoardModel(
            lang=self.lang,
            office=self.config.office.name.get(self.lang),
            notice=self.announcement or self.config.board.notice.get(self.lang),
            announcement=bool(self.announcement),
            clock=self._clock_text(),
            header_ticket=text(self.lang, "ticket"),
            header_window=text(self.lang, "window"),
            now_calling=c,
            now_calling_line=line,
            now_calling_rev=self._rev,
            waiting_to_show=len(self._to_show),
            history=tuple(self.history),
            history_size=self.history_size,
            grid=self._grid() if self.grid_mode else (),
            grid_mode=self.grid_mode,
            connected=self.connected,
            offline_text=self._offline_text(),
        )
