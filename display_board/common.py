"""What the hall board and the per-window display share (plain Python, no Kivy).

One presenter pattern for the device apps: a presenter is **single-threaded**. Its
``start(post)`` subscribes to the bus and wraps every bus callback in ``post`` once,
so each one runs on the presenter's own thread (the Kivy clock in the app; ``direct``
in tests); ``tick()`` comes from the same thread. Nothing is locked. Each change of the
immutable model goes to the listeners registered with ``on_change(listener)``.

Retained states and events are read through ``broker.views`` and the event ``seq`` is
followed by ``broker.follower.SeqFollower`` (a gap re-reads the retained state).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, Generic, TypeVar

from broker.bus import Bus, Post, direct
from broker.follower import SeqFollower
from broker.views import ConfigState, TicketEvent, ViewError
from display_board.texts import text

log = logging.getLogger(__name__)

M = TypeVar("M")


def zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        from zoneinfo import ZoneInfo
        return ZoneInfo(name)
    except Exception:  # unknown zone or no tzdata: local time is still a fine clock
        log.warning("unknown timezone %r; showing local time", name)
        return None


class DisplayPresenter(Generic[M]):
    """Config, clock, connection badge, seq following and listeners for one display."""

    model: M

    def __init__(self, bus: Bus, *, lang: str, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] | None = None) -> None:
        self.bus = bus
        self.lang = lang
        self.clock = clock
        self._now = now
        self._listeners: list[Callable[[M], Any]] = []
        self.config = ConfigState()
        self._tz: tzinfo | None = None
        self.connected = bool(getattr(bus, "connected", True))
        self._offline_since: datetime | None = None if self.connected else self.now()
        self.follower = SeqFollower(bus, (self.state_name,), on_resync=self._after_resync)
        self._post: Post = direct
        # a subclass ends its __init__ with ``self.model = self._build()``

    # -- what a display defines ---------------------------------------------------------
    state_name: str = ""   # the retained state this display follows ("board", "window/3")

    def _build(self) -> M:
        raise NotImplementedError

    def _on_state(self, payload: dict) -> None:
        raise NotImplementedError

    def _on_ticket_event(self, event: TicketEvent) -> None:
        raise NotImplementedError

    def _config_changed(self) -> None:
        """After a new ``state/config`` was taken."""

    def _after_resync(self, reason: str) -> None:
        """After the follower asked the bus for the retained state again."""

    # -- wiring -------------------------------------------------------------------------
    def on_change(self, listener: Callable[[M], Any]) -> None:
        """``listener(model)`` on the presenter's thread after every change."""
        self._listeners.append(listener)

    def start(self, post: Post = direct) -> DisplayPresenter[M]:
        """Subscribe; every bus callback goes through ``post`` to the presenter's thread."""
        self._post = post
        self.bus.on_connection(lambda connected: post(self._set_connected, connected))
        self.bus.watch_state("config", lambda payload: post(self._on_config, payload))
        self.watch(self.state_name, self._on_state)
        self.bus.on_event(lambda payload: post(self._on_event, payload))
        self._publish()
        return self

    def watch(self, name: str, handler: Callable[[dict], Any]) -> None:
        post = self._post
        self.bus.watch_state(name, lambda payload: post(handler, payload))

    @property
    def resyncs(self) -> int:
        return self.follower.resyncs

    def resync(self, reason: str) -> None:
        self.follower.resync(reason)
        self._publish()

    # -- bus callbacks (on the presenter's thread) -------------------------------------------
    def _on_config(self, payload: dict) -> None:
        try:
            config = ConfigState.from_payload(payload)
        except ViewError as exc:
            log.warning("ignoring malformed state/config: %s", exc)
            return
        self.config = config
        self._tz = zone(config.office.timezone)
        self._config_changed()
        self._publish()

    def _on_event(self, payload: dict) -> None:
        try:
            event = TicketEvent.from_payload(payload)
        except ViewError as exc:
            log.warning("ignoring malformed event: %s", exc)
            return
        if not self.follower.event(event.seq):
            return  # already seen, or covered by a newer retained state
        self._on_ticket_event(event)
        self._publish()

    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        self._offline_since = None if connected else self.now()
        if connected:
            self.follower.resync("reconnect")
        self._publish()

    # -- time and the model ----------------------------------------------------------------
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

    def _publish(self) -> None:
        model = self._build()
        if model == self.model:
            return
        self.model = model
        for listener in list(self._listeners):
            listener(model)

    def tick(self) -> M:
        """Advance time-driven things (clock, display queue); returns the model."""
        self._publish()
        return self.model
