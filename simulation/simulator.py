"""A discrete-event simulation of office days, driving the real queue and database.

Visitors arrive (``workload``), take tickets through ``Office.issue``/``check_in``;
each operator calls the next visitor as soon as their window is free, walks them
over, serves them and finishes; visitors who left are marked no-show after a short
wait; operators take a staggered lunch break. Every step is one transaction in a
``QueueDatabase``, exactly as the hub would do it.
"""
from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from queue_core import calendar
from queue_core.config import OfficeConfig
from queue_core.errors import QueueError
from queue_core.model import TicketKind, WindowState
from simulation.workload import Arrival, Workload, arrivals_for_day
from storage.queue_db import QueueDatabase

WALK_MIN = 0.5          # from the call to the counter
NO_SHOW_WAIT_MIN = 2.0  # how long an operator waits before «Клиент не явился»
LUNCH_MIN = 30


@dataclass
class SimResult:
    days: list[str] = field(default_factory=list)
    tickets: int = 0
    refused: int = 0


class Simulator:
    def __init__(self, db: QueueDatabase, workload: Workload, seed: int = 1):
        self.db = db
        self.config: OfficeConfig = db.config
        self.workload = workload
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(self.config.timezone)
        self._queue: list = []
        self._order = itertools.count()
        self.service: dict[str, float] = {}      # ticket number -> service minutes it will take
        self.no_show: set[str] = set()
        self.idle: set[int] = set()
        self.result = SimResult()

    def _at(self, when: datetime, action, *args) -> None:
        heapq.heappush(self._queue, (when, next(self._order), action, args))

    def _do(self, operation):
        try:
            return self.db.transaction(operation)[0]
        except QueueError:
            self.result.refused += 1
            return None

    # ------------------------------------------------------------------ a day
    def run_day(self, day: date) -> None:
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        windows = [w.number for w in self.config.windows]
        opening = midnight.replace(hour=8, minute=55)
        for i, n in enumerate(windows):
            self._at(opening, self._open, n)
            lunch = midnight.replace(hour=12) + timedelta(minutes=LUNCH_MIN * (i % 3))
            self._at(lunch, self._lunch, n)
        for a in arrivals_for_day(self.config, midnight, len(windows), self.workload, self.rng):
            self._at(a.at, self._arrive, a)
        self.result.days.append(day.isoformat())
        # windows close once the office's hours are over: the last open one may not close
        # during working hours (004:1130)
        hours = calendar.hours_on(self.config.calendar, day)
        closing = max(midnight.replace(hour=18), datetime.combine(day, hours[1], self.tz) if hours else midnight)
        while self._queue:
            when, _, action, args = heapq.heappop(self._queue)
            action(when, *args)
            closing = max(closing, when)
        for n in windows:
            self._do(lambda s, o, n=n: o.close(n, closing) if o.windows[n].ticket is None else None)
        self.idle.clear()

    def _open(self, now: datetime, window: int) -> None:
        self._do(lambda s, o: o.sign_in(window, f"operator{window}", now))
        self._free(now, window)

    def _lunch(self, now: datetime, window: int) -> None:
        status = self.db.office.windows[window]
        if status.ticket is not None:                 # no break while serving: try again shortly
            self._at(now + timedelta(minutes=2), self._lunch, window)
            return
        if self._do(lambda s, o: o.pause(window, "lunch", now)) is None:
            self._at(now + timedelta(minutes=5), self._lunch, window)   # the last open window waits
            return
        self.idle.discard(window)
        self._at(now + timedelta(minutes=LUNCH_MIN), self._back, window)

    def _back(self, now: datetime, window: int) -> None:
        self._do(lambda s, o: o.open(window, now))
        self._free(now, window)

    def _arrive(self, now: datetime, a: Arrival) -> None:
        if a.kind == "booking":
            code = f"{self.rng.randrange(10 ** 6):06d}"
            t = self._do(lambda s, o: o.check_in(a.topic, a.slot_start, code, now))
        else:
            t = self._do(lambda s, o: o.issue(a.topic, now, TicketKind(a.kind)))
        if t is None:
            return
        self.result.tickets += 1
        self.service[t.number] = a.service_min
        if a.no_show:
            self.no_show.add(t.number)
        for window in sorted(self.idle):
            self._free(now, window)

    def _free(self, now: datetime, window: int) -> None:
        """The window is free: call the next visitor, or wait for one."""
        if self.db.office.windows[window].state is not WindowState.OPEN:
            self.idle.discard(window)
            return
        t = self._do(lambda s, o: o.call_next(window, now))
        if t is None:
            self.idle.add(window)
            return
        self.idle.discard(window)
        if t.number in self.no_show:
            self._at(now + timedelta(minutes=NO_SHOW_WAIT_MIN), self._gone, window)
        else:
            self._at(now + timedelta(minutes=WALK_MIN), self._start, window, t.number)

    def _gone(self, now: datetime, window: int) -> None:
        self._do(lambda s, o: o.no_show(window, now))
        self._free(now, window)

    def _start(self, now: datetime, window: int, number: str) -> None:
        self._do(lambda s, o: o.start(window, now))
        self._at(now + timedelta(minutes=self.service.pop(number)), self._finish, window)

    def _finish(self, now: datetime, window: int) -> None:
        self._do(lambda s, o: o.finish(window, now))
        self._free(now, window)


def simulate(db: QueueDatabase, days: int, start: date, workload: Workload, seed: int = 1) -> SimResult:
    sim = Simulator(db, workload, seed)
    day = start
    while len(sim.result.days) < days:
        if day not in db.config.calendar.holidays and day.weekday() < 5:
            sim.run_day(day)
        day += timedelta(days=1)
    return sim.result
