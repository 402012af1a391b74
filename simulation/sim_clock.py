"""Office time for ``talon demo``: a discrete-event clock paced by the wall clock.

The demo's simulated people (the kiosk's visitors, each window's operator) are *actors*:
each runs in its own thread, but only one at a time, and office time stands still while
it runs — while its requests travel to the hub and back. When the actor sleeps
(``sleep_until``), the clock moves on to the earliest wake-up of all actors, after
waiting the real time those office seconds take at ``speed`` (or less, when requests
made the office run late). So a day depends on the seed alone — never on how long a
request took, on the machine, or on the speed; the speed only sets how fast it is shown.
Actors due at the same office time run in the order they asked.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

log = logging.getLogger(__name__)
LATE_S = 0.1    # an actor woken this much later than due re-paces the clock from now (no catch-up burst)


class _Actor:
    __slots__ = ("gen", "name", "thread")

    def __init__(self, name: str):
        self.name, self.gen = name, 0
        self.thread: threading.Thread | None = None


class SimClock:
    """Office time (``clock()``) that the demo's actors advance by sleeping in it."""

    def __init__(self, start: datetime, speed: float):
        self.start, self.speed = start, speed
        self._now = start
        self._cv = threading.Condition()
        self._heap: list[tuple[datetime, int, _Actor, int]] = []
        self._order = itertools.count()
        self._running: _Actor | None = None
        self._actors: dict[threading.Thread, _Actor] = {}
        self._parked: list[_Actor] = []
        self._halt: datetime | None = None
        self._halted = False
        self._stopped = False
        self._held = 0                                 # > 0: actors are being started, time waits
        self._anchor = (time.monotonic(), start)     # (wall, office) the pacing counts from
        self._driver = threading.Thread(target=self._drive, name="demo-clock", daemon=True)
        self._driver.start()

    # ------------------------------------------------------------------ reading the time
    def __call__(self) -> datetime:
        """Office time. Exact while an actor runs (every command it sends is stamped with
        the time of its turn); between turns it flows on towards the next one, for the
        dashboard and the status line."""
        with self._cv:
            if self._running is not None or self._halted or self._stopped:
                return self._now
            limit = self._next_due()
            wall0, office0 = self._anchor
            flowing = office0 + timedelta(seconds=(time.monotonic() - wall0) * self.speed)
            return max(self._now, min(flowing, limit) if limit is not None else self._now)

    @property
    def halted(self) -> bool:
        """True once office time reached the ``halt_at`` limit."""
        with self._cv:
            return self._halted

    @property
    def idle(self) -> bool:
        """True when no actor is left: the day's work is over."""
        with self._cv:
            return not self._actors

    # ------------------------------------------------------------------ the main thread
    def spawn(self, name: str, fn: Callable[..., object], *args: object) -> threading.Thread:
        """Start an actor: ``fn(*args)`` in its own thread, its first turn at the current time."""
        actor = _Actor(name)

        def body() -> None:
            try:
                if self._wait_turn(actor):
                    fn(*args)
            except Exception:
                log.exception("demo actor %s failed", name)
            finally:
                with self._cv:
                    self._actors.pop(threading.current_thread(), None)
                    if self._running is actor:
                        self._running = None
                    self._cv.notify_all()

        thread = actor.thread = threading.Thread(target=body, name=f"demo-{name}", daemon=True)
        with self._cv:
            if not self._actors:              # time stood still without actors: it flows from now on
                self._anchor = (time.monotonic(), self._now)
            self._actors[thread] = actor
            self._push(self._now, actor)
        thread.start()
        return thread

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Office time stands still inside: start a day's actors together, so none of them
        can let time run on before the others have taken their first turn's place."""
        with self._cv:
            self._held += 1
        try:
            yield
        finally:
            with self._cv:
                self._held -= 1
                self._cv.notify_all()

    def jump(self, to: datetime) -> None:
        """Skip the night: office time continues from ``to`` (call it when ``idle``)."""
        with self._cv:
            self.start = self._now = max(self._now, to)
            self._anchor = (time.monotonic(), self._now)
            self._cv.notify_all()

    def halt_at(self, when: datetime | None) -> None:
        """Office time stops at ``when``: no actor is woken later than that."""
        with self._cv:
            self._halt = when
            self._cv.notify_all()

    def stop(self) -> None:
        """Every actor's sleep returns False at once (the demo is ending)."""
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    # ------------------------------------------------------------------ the actors
    def sleep_until(self, when: datetime) -> bool:
        """The calling actor sleeps until office time ``when``; False when the demo stops."""
        with self._cv:
            actor = self._me()
            self._push(max(when, self._now), actor)
            return self._yield(actor)

    def sleep(self, minutes: float) -> bool:
        with self._cv:
            until = self._now + timedelta(minutes=minutes)
        return self.sleep_until(until)

    def wait_notice(self, until: datetime) -> bool:
        """Sleep until ``until`` or until another actor calls ``notify`` (the operator sees
        a new visitor on the screen); False when the demo stops."""
        with self._cv:
            actor = self._me()
            self._parked.append(actor)
            self._push(max(until, self._now), actor)
            woke = self._yield(actor)
            if actor in self._parked:
                self._parked.remove(actor)
            return woke

    def notify(self) -> None:
        """Wake every actor in ``wait_notice`` now, in the order they began to wait."""
        with self._cv:
            parked, self._parked = self._parked, []
            for actor in parked:
                actor.gen += 1            # its own wake-up no longer counts
                self._push(self._now, actor)

    # ------------------------------------------------------------------ internals
    def _me(self) -> _Actor:
        actor = self._actors.get(threading.current_thread())
        if actor is None or self._running is not actor:
            raise RuntimeError("only the demo actor whose turn it is may sleep in the office clock")
        return actor

    def _push(self, when: datetime, actor: _Actor) -> None:
        heapq.heappush(self._heap, (when, next(self._order), actor, actor.gen))
        self._cv.notify_all()

    def _yield(self, actor: _Actor) -> bool:
        self._running = None
        self._cv.notify_all()
        return self._wait_turn(actor, locked=True)

    def _wait_turn(self, actor: _Actor, locked: bool = False) -> bool:
        if not locked:
            with self._cv:
                return self._wait_turn(actor, locked=True)
        self._cv.wait_for(lambda: self._running is actor or self._stopped)
        return not self._stopped

    def _next_due(self) -> datetime | None:
        while self._heap and self._heap[0][3] != self._heap[0][2].gen:
            heapq.heappop(self._heap)              # a wake-up that ``notify`` replaced
        if not self._heap:
            return None                            # nobody to wake: office time stands still
        due = self._heap[0][0]
        if self._halt is not None and due > self._halt:
            return max(self._halt, self._now)
        return due

    def _drive(self) -> None:
        with self._cv:
            while not self._stopped:
                due = None if self._running is not None or self._halted or self._held else self._next_due()
                if due is None:
                    self._cv.wait()
                    continue
                wall0, office0 = self._anchor
                delay = wall0 + (due - office0).total_seconds() / self.speed - time.monotonic()
                if delay > 0:
                    self._cv.wait(delay)      # a stop, a jump or a new actor may come meanwhile
                    continue
                if delay < -LATE_S:
                    self._anchor = (time.monotonic(), due)
                self._now = max(self._now, due)
                if self._heap[0][0] > due:      # the halt itself
                    self._halted = True
                else:
                    self._running = heapq.heappop(self._heap)[2]
                self._cv.notify_all()
