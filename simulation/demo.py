"""``talon demo``: a whole office on this machine, on the production path.

A real hub (broker, dispatcher, durable SQLite, web dashboard) runs on an accelerated
office clock; simulated kiosks, counters and a board are real MQTT clients that
speak the contract, so the demo exercises exactly what production runs. The simulated
people live in office time only (``simulation.sim_clock``): the same seed gives the same
day at any speed. When it ends it checks the database: every ticket issued is found
exactly once, no number repeats, no command was lost.
"""
from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.client import HubClient
from broker.errors import CommandError, HubUnreachable
from hub.runtime import OfficeRuntime, RuntimeSettings
from queue_core.config import OfficeConfig
from server.serve import start_office_web
from simulation.sim_clock import SimClock
from simulation.simulator import LUNCH_MIN, NO_SHOW_WAIT_MIN, WALK_MIN
from simulation.workload import Arrival, Workload, arrivals_for_day, load_for_utilisation
from storage import directory, tickets
from storage.bookings import Bookings

log = logging.getLogger(__name__)
OPEN_AT = (8, 55)
LOAD = 0.75                  # the windows serve 75 % of their open time: busy, mostly within the norms
                             # (at 0.8 a day near capacity swings from 30 % to 95 % within the wait norm)
LUNCH_SLOTS = 4              # lunches from 12:00 in half-hour turns: at most a quarter of the windows away
IDLE_LOOK_MIN = 10.0         # an idle operator looks at the queue at least this often (office minutes)
REQUEST_TIMEOUT_S = 5.0      # real seconds: office time stands still while a request is out


@dataclass
class DemoStats:
    issued: list[tuple[str, str]] = field(default_factory=list)    # (day, number) the kiosk got back
    lost: int = 0                                      # commands that got no answer at all
    refused: dict[str, int] = field(default_factory=dict)
    served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, code: str) -> None:
        with self.lock:
            self.refused[code] = self.refused.get(code, 0) + 1


class Demo:
    def __init__(self, config: OfficeConfig, data_dir: Path, database_url: str, *, speed: float = 60.0,
                 load: float = LOAD, seed: int = 1, broker_kind: str = "auto", port: int = 1883,
                 web_port: int | None = 8080, day: date | None = None):
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        day = day or _next_workday(datetime.now(self.tz).date())
        self.clock = SimClock(datetime(day.year, day.month, day.day, *OPEN_AT, tzinfo=self.tz), speed)
        self.first_day = self.day = day
        self.day_index = 0
        self.load = load      # the share of their open time the windows spend serving, over the day
        self.workload = Workload(load=load_for_utilisation(load, LUNCH_MIN))
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.stats = DemoStats()
        self.passwords: dict[str, str] = {}
        self.runtime = OfficeRuntime(RuntimeSettings(
            config=config, data_dir=data_dir, database_url=database_url, broker_kind=broker_kind, port=port,
            web_port=web_port, clock=self.clock), start_web=start_office_web)
        self.no_shows: set[str] = set()
        self.services: dict[str, float] = {}
        self.clients: list[HubClient] = []
        self.threads: list[threading.Thread] = []
        self.counters: dict[int, HubClient] = {}
        self.arrivals_done = False

    # ------------------------------------------------------------------ set-up
    def _provision(self) -> None:
        db = self.runtime.db
        office = self.config.office_id
        with db.sessions() as s, s.begin():
            wanted = [("kiosk-1", "kiosk", None), ("board-1", "board", None)]
            wanted += [(f"counter-{w.number}", "counter", w.number) for w in self.config.windows]
            self.passwords.update(directory.add_devices(s, office, wanted, replace=True))
            if not directory.list_operators(s, office):
                for w in self.config.windows:
                    directory.add_operator(s, office, f"operator{w.number}", f"Оператор {w.number}", "0000")

    def _client(self, device: str, role: str) -> HubClient:
        url = self.runtime.broker_url
        password = self.passwords[device] if "Embedded" not in type(self.runtime.broker).__name__ else None
        c = HubClient(url, self.config.office_id, device, role, password=password)
        self.clients.append(c)
        c.start()
        return c

    def start(self) -> None:
        self._provision()
        self.runtime.start()
        self.kiosk = self._client("kiosk-1", "kiosk")
        for w in self.config.windows:
            self.counters[w.number] = self._client(f"counter-{w.number}", "counter")
        for c in self.clients:
            if not c.wait_ready(10.0):
                log.warning("%s is not connected yet; it keeps trying", c.device)
        self._start_day()

    def _start_day(self) -> None:
        """The day's actors: the kiosk's visitors first, then each window's operator."""
        arrivals = arrivals_for_day(self.config, self.clock.start.replace(hour=0, minute=0), len(self.config.windows),
                                    self.workload, self.rng)
        self._book(arrivals)
        self.arrivals_done = False
        with self.clock.holding():
            self._spawn("kiosk", self._kiosk, self.kiosk, arrivals)
            for number, client in self.counters.items():
                self._spawn(f"counter-{number}", self._counter, client, number)

    def next_day(self) -> None:
        """Jump office time to the next working morning and start its visitors."""
        self.day = _next_workday(self.day + timedelta(days=1))
        self.day_index += 1
        self.clock.jump(datetime(self.day.year, self.day.month, self.day.day, *OPEN_AT, tzinfo=self.tz))
        self.threads = [t for t in self.threads if t.is_alive()]
        self._start_day()

    def _spawn(self, name: str, target, *args) -> None:
        self.threads.append(self.clock.spawn(name, target, *args))

    def _book(self, arrivals: list[Arrival]) -> None:
        """Bookings made earlier (as the web page would), checked in at the kiosk."""
        with self.runtime.db.sessions() as s, s.begin():
            bookings = Bookings(s, self.config.office_id)
            for a in arrivals:
                if a.kind == "booking":
                    booking = bookings.book(a.topic, a.slot_start, self.clock.start - timedelta(days=1), rng=self.rng)
                    object.__setattr__(a, "topic", booking.code)   # the kiosk only needs the code

    # ------------------------------------------------------------------ devices
    def _request(self, client: HubClient, op: str, args: dict) -> dict | None:
        try:
            return client.request(op, args, timeout=REQUEST_TIMEOUT_S)
        except HubUnreachable:
            with self.stats.lock:
                self.stats.lost += 1
            log.warning("%s %s got no answer", client.device, op)
        except CommandError as exc:
            self.stats.refuse(exc.code)
        return None

    def _kiosk(self, kiosk: HubClient, arrivals: list[Arrival]) -> None:
        for a in arrivals:
            if not self.clock.sleep_until(a.at):
                return
            if a.kind == "booking":
                data = self._request(kiosk, "checkin", {"code": a.topic})
            else:
                data = self._request(kiosk, "issue", {"topic": a.topic, "kind": a.kind})
            if data:
                number = data["ticket"]["number"]
                with self.stats.lock:
                    self.stats.issued.append((self.day.isoformat(), number))
                    self.services[number] = a.service_min
                    if a.no_show:
                        self.no_shows.add(number)
            self.clock.notify()              # idle operators see the new visitor on their screens
        self.arrivals_done = True
        self.clock.notify()

    def _counter(self, counter: HubClient, window: int) -> None:
        """One operator's day: sign in, a lunch break, call, serve and finish; once the
        kiosk has had its last visitor and nobody is left for this window, the day's work
        is done (the window stays open: the office's hours run on)."""
        self._request(counter, "sign_in", {"window": window, "operator": f"operator{window}", "pin": "0000"})
        lunch_at: datetime | None = (self.clock.start.replace(hour=12, minute=0)
                                     + timedelta(minutes=LUNCH_MIN * ((window - 1) % LUNCH_SLOTS)))
        while True:
            if lunch_at and self.clock() >= lunch_at:
                lunch_at = self._lunch(counter, window)
                if self.stop.is_set():
                    return
            data = self._request(counter, "call_next", {"window": window})
            ticket = data and data.get("ticket")
            if ticket:
                if not self._serve(counter, window, ticket["number"]):
                    return
                continue
            if self.arrivals_done:
                return
            look = self.clock() + timedelta(minutes=IDLE_LOOK_MIN)
            if not self.clock.wait_notice(min(look, lunch_at) if lunch_at else look):
                return

    def _lunch(self, counter: HubClient, window: int) -> datetime | None:
        """Go to lunch: None when back, or the time to try again when the window may not
        close yet (the last open window waits for a colleague)."""
        if self._request(counter, "pause", {"window": window, "kind": "lunch"}) is None:
            return self.clock() + timedelta(minutes=5)
        if self._sleep(LUNCH_MIN):
            self._request(counter, "open", {"window": window})
        return None

    def _sleep(self, minutes: float) -> bool:
        """Sleep ``minutes`` of office time; False when the demo stops meanwhile."""
        return self.clock.sleep(minutes)

    def _serve(self, counter: HubClient, window: int, number: str) -> bool:
        """The called visitor: a no-show, or walk, service, finish and maybe a rating. False when stopping."""
        if number in self.no_shows:
            if not self._sleep(NO_SHOW_WAIT_MIN):
                return False
            self._request(counter, "no_show", {"window": window})
            return True
        if not self._sleep(WALK_MIN):
            return False
        self._request(counter, "start", {"window": window})
        if not self._sleep(self.services.get(number, 10.0)):
            return False
        if self._request(counter, "finish", {"window": window}) is not None:
            with self.stats.lock:
                self.stats.served += 1
            if self.rng.random() < 0.4:
                score = self.rng.choices([5, 4, 3, 2, 1], [55, 25, 10, 6, 4])[0]
                self._request(counter, "rate", {"window": window, "ticket": number, "score": score})
        return True

    # ------------------------------------------------------------------ status and report
    def status_line(self) -> str:
        office = self.runtime.db.office
        now = self.clock()
        return (f"{now:%H:%M} office time | issued {len(self.stats.issued)} | waiting {len(office.waiting())} | "
                f"served {self.stats.served} | lost {self.stats.lost}")

    def finished(self) -> bool:
        """The day is over: the kiosk closed, every operator served the last visitor and went home."""
        return self.clock.idle

    def stop_people(self) -> None:
        """The simulated visitors and operators stop (office time stops with them); the
        hub, the web and the broker stay."""
        self.stop.set()
        self.clock.stop()
        for t in self.threads:
            t.join(REQUEST_TIMEOUT_S + 1)

    def shutdown(self) -> None:
        """A quiet stop: the simulated people first, then their devices say goodbye and
        disconnect, then the hub, the web and the broker stop (``OfficeRuntime.stop``)."""
        self.stop_people()
        for c in self.clients:
            c.stop()
        self.runtime.stop()

    def report(self) -> dict:
        from simulation.report import build_report

        db = self.runtime.db
        start = datetime(self.first_day.year, self.first_day.month, self.first_day.day, tzinfo=self.tz)
        end = datetime(self.day.year, self.day.month, self.day.day, tzinfo=self.tz) + timedelta(days=2)
        sim = build_report(db, start, end, self.config.policy, self.workload.load)
        with db.sessions() as s:
            rows = tickets.numbers(s, self.config.office_id, since_day=self.first_day.isoformat())
            dup = tickets.duplicate_numbers(s, self.config.office_id)
        stored: dict[tuple[str, str], list[str]] = {}
        for day, number, state in rows:
            stored.setdefault((day, number), []).append(state)
        accounted = sum(1 for key in self.stats.issued if len(stored.get(key, [])) == 1)
        return {
            "tickets_issued": len(self.stats.issued),
            "tickets_accounted": accounted,
            "duplicate_numbers": dup + len(self.stats.issued) - len(set(self.stats.issued)),
            "lost_commands": self.stats.lost,
            "refused": self.stats.refused,
            "served": self.stats.served,
            "within_wait_norm_share": sim["within_wait_norm_share"],
            "eta_mae_min": sim["eta_mae_min"],
            "topics": sim["topics"],
            "office_time": self.clock().isoformat(timespec="minutes"),
            "days": self.day_index + 1,
        }


def _next_workday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
