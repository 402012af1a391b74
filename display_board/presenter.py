"""The hall board and the per-window display as plain Python (no Kivy here).

``BoardPresenter`` turns what the bus says (retained ``state/config`` and
``state/board``, ``event/ticket``, connection changes) into a ``BoardModel``:

* **now calling**: the newest call, shown large for at least ``board.min_display_s``;
  calls that arrive meanwhile wait their turn, so each is shown large in order;
* **history**: the last N calls, newest first, updated at once (a waiting call is
  already listed there, so nobody misses it);
* a per-window **grid** (optional), the **clock**, the office name, a notice line;
* a **«Нет связи»** badge when the bus is down, keeping the last known calls;
* **resync** from the retained ``state/board`` on (re)connect and whenever event
  ``seq`` jumps; calls learnt that way are still shown and announced if recent;
* every new ``called``/``recalled`` call is handed to the ``Announcer``.

``WindowPresenter`` is the small display above one window (``--window N``).

Bus callbacks arrive on the bus's thread; the presenters lock their state and
report each change through ``on_change(model)``; the Kivy app hops to its UI
thread there. ``tick()`` is called about twice a second for the clock and the
minimum display time; tests pass a fake ``clock`` and ``now``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from display_board.texts import localized, text

log = logging.getLogger(__name__)

DEFAULT_HISTORY = 8
DEFAULT_MIN_DISPLAY_S = 10.0
CALL_KINDS = ("called", "recalled")


@dataclass(frozen=True)
class Call:
    ticket: str
    window: int
    topic: str | None = None
    at: str | None = None
    recalls: int = 0

    @property
    def key(self) -> tuple[str, int, int]:
        """One call instance: a recall is a new instance of the same ticket's call."""
        return (self.ticket, self.window, self.recalls)

    @classmethod
    def from_state(cls, d: dict) -> "Call":
        return cls(str(d["ticket"]), int(d["window"]), d.get("topic"), d.get("at"), int(d.get("recalls") or 0))


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
    notice: str = ""
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


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:  # unknown zone or no tzdata: local time is still a fine clock
        log.warning("unknown timezone %r; showing local time", name)
        return None


class _Base:
    """What both displays share: config, clock, connection badge, change reporting."""

    def __init__(self, bus, *, lang: str, clock: Callable[[], float],
                 now: Callable[[], datetime] | None, on_change: Callable[[Any], Any] | None) -> None:
        self.bus = bus
        self.lang = lang
        self.clock = clock
        self._now = now
        self.on_change = on_change
        self._lock = threading.RLock()
        self.config: dict = {}
        self._tz: tzinfo | None = None
        self.connected = bool(getattr(bus, "connected", True))
        self._offline_since: datetime | None = None if self.connected else self.now()
        self.model = None

    def now(self) -> datetime:
        if self._now is not None:
            return self._now()
        return datetime.now(self._tz) if self._tz else datetime.now().astimezone()

    def _clock_text(self) -> str:
        return self.now().strftime("%H:%M")

    def _offline_text(self) -> str:
        if self.connected:
            return ""
        since = self._offline_since
        return text(self.lang, "offline_since", time=since.strftime("%H:%M")) if since else text(self.lang, "offline")

    state_name = ""   # the retained state each display follows

    def start(self):
        self.bus.on_connection(self._set_connected)
        self.bus.watch_state("config", self._on_config)
        self.bus.watch_state(self.state_name, self._on_state)
        self.bus.on_event(self._on_event)
        self._publish()
        return self

    def _take_config(self, payload: dict) -> None:
        """Under the lock: keep the office settings and its time zone."""
        self.config = payload
        self._tz = _zone(payload.get("office", {}).get("timezone"))

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            if connected == self.connected:
                return
            self.connected = connected
            self._offline_since = None if connected else self.now()
        if connected:
            self.resync("reconnect")
        self._publish()

    def resync(self, reason: str) -> None:  # overridden
        pass

    def _topic_names(self) -> dict[str, str]:
        return {t.get("code"): localized(t.get("name"), self.lang) for t in self.config.get("topics", [])}

    def _publish(self) -> None:
        with self._lock:
            model = self._build()
            changed = model != self.model
            self.model = model
        if changed and self.on_change is not None:
            self.on_change(model)

    def _build(self):  # overridden
        raise NotImplementedError

    def tick(self) -> Any:
        """Advance time-driven things (clock, display queue); returns the model."""
        self._publish()
        return self.model


class BoardPresenter(_Base):
    def __init__(self, bus, *, announcer=None, history: int | None = None,
                 min_display_s: float | None = None, grid: bool = False, lang: str = "ru",
                 voice: bool = True, stale_call_s: float = 120.0,
                 clock: Callable[[], float] = time.monotonic, now: Callable[[], datetime] | None = None,
                 on_change: Callable[[BoardModel], Any] | None = None) -> None:
        super().__init__(bus, lang=lang, clock=clock, now=now, on_change=on_change)
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
        self._last_seq: int | None = None
        self._board_state: dict | None = None
        self._loaded = False          # a first picture (state or event) has been taken
        self._windows: dict[int, dict] = {}
        self._watched_windows: set[int] = set()
        self.resyncs = 0
        self.announced: list[Call] = []

    # -- settings from config / command line ---------------------------------------
    @property
    def history_size(self) -> int:
        if self._history_override is not None:
            return self._history_override
        return int(self.config.get("board", {}).get("history") or DEFAULT_HISTORY)

    @property
    def min_display_s(self) -> float:
        if self._min_display_override is not None:
            return self._min_display_override
        value = self.config.get("board", {}).get("min_display_s")
        return float(DEFAULT_MIN_DISPLAY_S if value is None else value)

    # -- wiring --------------------------------------------------------------------
    state_name = "board"

    def _on_state(self, payload: dict) -> None:
        self._on_board(payload)

    def _on_config(self, payload: dict) -> None:
        with self._lock:
            self._take_config(payload)
            sound = payload.get("sound", {})
            if self.announcer is not None:
                self.announcer.configure(repeat=int(sound.get("repeat", 1)),
                                         voice=bool(sound.get("voice", True)) and self.voice_allowed)
            del self.history[self.history_size:]
            windows = [int(w["number"]) for w in payload.get("windows", []) if "number" in w]
        prepare = getattr(self.announcer, "prepare", None)
        if callable(prepare):  # render the day's first announcements ahead (in the background)
            prefixes = [t.get("prefix") or t.get("code") for t in payload.get("topics", [])]
            try:
                prepare([p for p in prefixes if p], windows)
            except Exception:
                log.exception("announcer.prepare failed")
        if self.grid_mode:
            for n in windows:
                if n not in self._watched_windows:
                    self._watched_windows.add(n)
                    self.bus.watch_state(f"window/{n}", self._on_window_state)
        self._publish()

    def _on_window_state(self, payload: dict) -> None:
        with self._lock:
            self._windows[int(payload["window"])] = payload
        self._publish()

    # -- retained board state ------------------------------------------------------
    def _on_board(self, payload: dict) -> None:
        with self._lock:
            self._board_state = payload
            self._merge_board(payload)
        self._publish()

    def _merge_board(self, payload: dict) -> None:
        """Take the hub's list of calls as the truth; new calls are shown and announced."""
        try:
            calls = [Call.from_state(c) for c in payload.get("calls", [])]
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring malformed state/board: %r", payload)
            return
        seq = payload.get("seq")
        if not self._loaded:
            # First picture after start: show it as it is; these calls were made before
            # this board existed, so they are not announced again.
            self._loaded = True
            self.history = calls[: self.history_size]
            self._known.update(c.key for c in calls)
            if calls:
                self._show(calls[0])
        else:
            for call in reversed([c for c in calls if c.key not in self._known]):
                self._add_call(call, announce=self._is_fresh(call))
            if isinstance(seq, int) and (self._last_seq is None or seq >= self._last_seq):
                self.history = calls[: self.history_size]  # the hub's order wins when it is current
        if isinstance(seq, int) and (self._last_seq is None or seq > self._last_seq):
            self._last_seq = seq

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

    def resync(self, reason: str) -> None:
        """Re-read the retained board: ask the bus when it can, and merge what we hold."""
        self.resyncs += 1
        log.info("board resync (%s)", reason)
        reread = getattr(self.bus, "reread_state", None)
        if callable(reread):
            try:
                reread("board")
            except Exception:
                log.exception("reread_state failed")
        with self._lock:
            if self._board_state is not None:
                self._merge_board(self._board_state)
        self._publish()

    # -- events --------------------------------------------------------------------
    def _on_event(self, event: dict) -> None:
        with self._lock:
            seq = event.get("seq")
            gap = False
            if isinstance(seq, int):
                if self._last_seq is not None and seq <= self._last_seq:
                    return  # already seen (redelivery, or covered by a newer state)
                gap = self._last_seq is not None and seq > self._last_seq + 1
        if gap:
            # Catch up first, so missed calls are shown and announced before this one.
            self.resync(f"seq gap before {seq}")
        with self._lock:
            if isinstance(seq, int):
                self._last_seq = max(seq, self._last_seq or seq)
            kind = event.get("kind")
            if kind in CALL_KINDS and event.get("ticket") and event.get("window") is not None:
                self._loaded = True
                recalls = (event.get("data") or {}).get("recalls")
                if recalls is None:
                    recalls = self._previous_recalls(event["ticket"]) + 1 if kind == "recalled" else 0
                call = Call(str(event["ticket"]), int(event["window"]), event.get("topic"),
                            event.get("at"), int(recalls))
                if call.key not in self._known:
                    self._add_call(call, announce=True)
            elif kind in ("window_opened", "window_paused", "window_closed") and event.get("window") is not None:
                self._window_event(event)
        self._publish()

    def _previous_recalls(self, ticket: str) -> int:
        return max((c.recalls for c in self.history if c.ticket == ticket), default=-1)

    def _window_event(self, event: dict) -> None:
        n = int(event["window"])
        current = dict(self._windows.get(n, {"window": n}))
        current["state"] = {"window_opened": "open", "window_paused": "paused", "window_closed": "closed"}[event["kind"]]
        current["break_kind"] = (event.get("data") or {}).get("kind") or (event.get("data") or {}).get("break_kind")
        if current["state"] != "open":
            current["ticket"] = None
        self._windows[n] = current

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
        with self._lock:
            self._advance()
        return super().tick()

    # -- the model -----------------------------------------------------------------
    def _grid(self) -> tuple[WindowCell, ...]:
        numbers = [int(w["number"]) for w in self.config.get("windows", []) if "number" in w]
        numbers += sorted(set(self._windows) - set(numbers))
        last_call = {}
        for c in reversed(self.history):
            last_call[c.window] = c.ticket
        cells = []
        for n in numbers:
            st = self._windows.get(n)
            if st is None:
                cells.append(WindowCell(n, last_call.get(n, ""), "", "unknown"))
                continue
            state = st.get("state", "open")
            ticket = (st.get("ticket") or {}).get("number", "") if state == "open" else ""
            if state == "open" and "ticket" not in st:  # known only from events: use the last call
                ticket = last_call.get(n, "")
            status = "" if state == "open" else text(self.lang, st.get("break_kind") or "paused") \
                if state == "paused" else text(self.lang, "closed")
            cells.append(WindowCell(n, ticket, status, state))
        return tuple(cells)

    def _build(self) -> BoardModel:
        office = self.config.get("office", {})
        notice = self.config.get("board", {}).get("notice")
        c = self.now_calling
        line = ""
        if c is not None:
            line = text(self.lang, "recall_line" if c.recalls else "call_line", ticket=c.ticket, window=c.window)
        return BoardModel(
            lang=self.lang,
            office=localized(office.get("name"), self.lang),
            notice=localized(notice, self.lang),
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


# --------------------------------------------------------------------------- one window


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


ACTIVE_TICKET_STATES = ("called", "started", "serving", None)


class WindowPresenter(_Base):
    def __init__(self, bus, window: int, *, lang: str = "ru", clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] | None = None,
                 on_change: Callable[[WindowModel], Any] | None = None) -> None:
        super().__init__(bus, lang=lang, clock=clock, now=now, on_change=on_change)
        self.window = int(window)
        self.state: dict = {}
        self._last_seq: int | None = None
        self.resyncs = 0

    @property
    def state_name(self) -> str:
        return f"window/{self.window}"

    def _on_config(self, payload: dict) -> None:
        with self._lock:
            self._take_config(payload)
        self._publish()

    def _on_state(self, payload: dict) -> None:
        with self._lock:
            seq = payload.get("seq")
            if isinstance(seq, int) and self._last_seq is not None and seq < self._last_seq and self.state:
                return  # older than what events already told us
            self.state = dict(payload)
            if isinstance(seq, int):
                self._last_seq = max(seq, self._last_seq or seq)
        self._publish()

    def resync(self, reason: str) -> None:
        self.resyncs += 1
        reread = getattr(self.bus, "reread_state", None)
        if callable(reread):
            try:
                reread(f"window/{self.window}")
            except Exception:
                log.exception("reread_state failed")

    def _on_event(self, event: dict) -> None:
        """Events for this window update the display at once; the retained state follows."""
        if event.get("window") is None or int(event["window"]) != self.window:
            seq = event.get("seq")
            with self._lock:
                if isinstance(seq, int) and (self._last_seq is None or seq > self._last_seq):
                    self._last_seq = seq
            return
        kind = event.get("kind")
        with self._lock:
            seq = event.get("seq")
            if isinstance(seq, int):
                if self._last_seq is not None and seq <= self._last_seq:
                    return
                self._last_seq = seq
            st = dict(self.state) or {"window": self.window, "state": "open"}
            data = event.get("data") or {}
            if kind in CALL_KINDS:
                st["state"] = "open"
                st["ticket"] = {"number": event.get("ticket"), "topic": event.get("topic"), "state": "called",
                                "recalls": data.get("recalls", 0)}
            elif kind == "started" and st.get("ticket"):
                st["ticket"] = {**st["ticket"], "state": "started"}
            elif kind in ("finished", "no_show", "cancelled", "transferred"):
                if (st.get("ticket") or {}).get("number") == event.get("ticket"):
                    st["ticket"] = None
            elif kind == "window_opened":
                st["state"], st["break_kind"] = "open", None
            elif kind == "window_paused":
                st["state"], st["break_kind"], st["ticket"] = "paused", data.get("kind") or data.get("break_kind"), None
            elif kind == "window_closed":
                st["state"], st["break_kind"], st["ticket"] = "closed", None, None
            else:
                return
            self.state = st
        self._publish()

    def _build(self) -> WindowModel:
        st = self.state
        state = st.get("state", "unknown") if st else "unknown"
        ticket_info = st.get("ticket") or {}
        ticket = ""
        if state == "open" and ticket_info.get("state") in ACTIVE_TICKET_STATES:
            ticket = ticket_info.get("number") or ""
        if state == "closed":
            status = text(self.lang, "closed")
        elif state == "paused":
            status = text(self.lang, st.get("break_kind") or "paused")
        else:
            status = ""
        names = self._topic_names()
        codes = st.get("topics") or next((w.get("topics", []) for w in self.config.get("windows", [])
                                          if int(w.get("number", -1)) == self.window), [])
        topics = ", ".join(names.get(c) or c for c in codes)
        operator = (st.get("operator") or {}).get("name") if state == "open" else None
        return WindowModel(
            lang=self.lang, window=self.window, title=text(self.lang, "window_title", window=self.window),
            state=state, ticket=ticket, ticket_state=ticket_info.get("state") or "" if ticket else "",
            status=status, topics=topics,
            operator=text(self.lang, "serving", name=operator) if operator else "",
            clock=self._clock_text(), office=localized(self.config.get("office", {}).get("name"), self.lang),
            connected=self.connected, offline_text=self._offline_text(),
        )
