"""``talon demo``: a whole office on this machine, on the production path.

A real hub (broker, dispatcher, durable SQLite, web dashboard) runs on an accelerated
office clock; simulated kiosks, counters and a board are real MQTT clients that
speak the contract, so the demo exercises exactly what production runs. When it
ends it checks the database: every ticket issued is found exactly once, no number
repeats, no command was lost.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.client import HubClient
from broker.errors import CommandError, HubUnreachable
from hub.runtime import OfficeRuntime, RuntimeSettings
from queue_core.config import OfficeConfig
from server.serve import start_office_web
from simulation.simulator import LUNCH_MIN, NO_SHOW_WAIT_MIN, WALK_MIN
from simulation.workload import Arrival, Workload, arrivals_for_day
from storage import directory, tickets
from storage.bookings import Bookings

log = logging.getLogger(__name__)
OPEN_AT = (8, 55)


class SimClock:
    """Office time running ``speed`` times faster than real time."""

    def __init__(self, start: datetime, speed: float):
        self.start, self.speed = start, speed
        self._t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def jump(self, to: datetime) -> None:
        """Skip the night: office time continues from ``to``."""
        self.start, self._t0 = to, time.monotonic()

    def sleep_until(self, when: datetime, stop: threading.Event) -> bool:
        """Sleep until office time ``when``; False if the demo is stopping."""
        real = (when - self()).total_seconds() / self.speed
        return not stop.wait(max(0.0, real))


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
                 load: float = 0.85, seed: int = 1, broker_kind: str = "auto", port: int = 1883,
                 web_port: int | None = 8080, day: date | None = None):
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        day = day or _next_workday(datetime.now(self.tz).date())
        self.clock = SimClock(datetime(day.year, day.month, day.day, *OPEN_AT, tzinfo=self.tz), speed)
        self.first_day = self.day = day
        self.day_index = 0
        self.workload = Workload(load=load)
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
        self._start_day()
        for w in self.config.windows:
            self._spawn(self._counter, self._client(f"counter-{w.number}", "counter"), w.number)

    def _start_day(self) -> None:
        arrivals = arrivals_for_day(self.config, self.clock.start.replace(hour=0, minute=0), len(self.config.windows),
                                    self.workload, self.rng)
        self._book(arrivals)
        self._spawn(self._kiosk, self.kiosk, arrivals)

    def next_day(self) -> None:
        """Jump office time to the next working morning and start its visitors."""
        self.day = _next_workday(self.day + timedelta(days=1))
        self.day_index += 1
        self.clock.jump(datetime(self.day.year, self.day.month, self.day.day, *OPEN_AT, tzinfo=self.tz))
        self.threads = [t for t in self.threads if t.is_alive()]
        self._start_day()

    def _spawn(self, target, *args) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name=f"demo-{target.__name__}")
        self.threads.append(t)
        t.start()

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
            return client.request(op, args, timeout=5.0)
        except HubUnreachable:
            with self.stats.lock:
                self.stats.lost += 1
            log.warning("%s %s got no answer", client.device, op)
        except CommandError as exc:
            self.stats.refuse(exc.code)
        return None

    def _kiosk(self, kiosk: HubClient, arrivals: list[Arrival]) -> None:
        for a in arrivals:
            if not self.clock.sleep_until(a.at, self.stop):
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

    def _counter(self, counter: HubClient, window: int) -> None:
        """One operator's day: sign in, a lunch break, and call, serve, finish until the demo stops."""
        minute = timedelta(minutes=1)
        day = lunch_at = None
        while not self.stop.is_set():
            if day != self.day_index:        # a new office day: sign in, plan the lunch break
                day = self.day_index
                self._request(counter, "sign_in", {"window": window, "operator": f"operator{window}", "pin": "0000"})
                lunch_at = self.clock.start.replace(hour=12, minute=0) + timedelta(minutes=LUNCH_MIN * (window % 3))
            now = self.clock()
            if lunch_at and now >= lunch_at:
                if self._request(counter, "pause", {"window": window, "kind": "lunch"}) is None:
                    lunch_at = now + 5 * minute   # the last open window waits for a colleague
                else:
                    lunch_at = None
                    if not self._sleep(LUNCH_MIN):
                        return
                    self._request(counter, "open", {"window": window})
            data = self._request(counter, "call_next", {"window": window})
            ticket = data and data.get("ticket")
            if not (self._serve(counter, window, ticket["number"]) if ticket else self._sleep(1)):
                return

    def _sleep(self, minutes: float) -> bool:
        """Sleep ``minutes`` of office time; False when the demo stops meanwhile."""
        return self.clock.sleep_until(self.clock() + timedelta(minutes=minutes), self.stop)

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
        """The day is over: no more arrivals and nobody waiting or being served."""
        office = self.runtime.db.office
        return (self.clock() >= self.clock.start.replace(hour=17, minute=35) and not office.tickets)

    def shutdown(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5)
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
