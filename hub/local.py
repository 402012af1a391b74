"""The real hub in this process, behind in-memory buses: ``talon counter --demo`` and the
device-app tests run against it instead of a stand-in.

:class:`LocalHub` is the real :class:`hub.dispatcher.Dispatcher` over a
:class:`storage.queue_db.QueueDatabase` in in-memory SQLite. :meth:`LocalHub.bus` gives a
device a :class:`broker.fake_bus.FakeBus` whose requests go through
``Dispatcher.handle_command`` (an ``ok: false`` reply raises ``CommandError``, as
``HubClient.request`` does) and whose retained states and events are the dispatcher's
publications. Nothing here knows the rules of the queue: they are the dispatcher's and
``queue_core``'s.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from broker import messages
from broker.errors import CommandError
from broker.fake_bus import FakeBus
from hub.dispatcher import Dispatcher, Publication, default_public_url
from queue_core.config import OfficeConfig, parse_office_config
from storage import directory
from storage.queue_db import QueueDatabase

ALL_DAY = {d: "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
DEMO_OFFICE = {
    "office": {"id": "demo", "name": "Демонстрационный офис", "name_en": "Demo office",
               "timezone": "Europe/Moscow", "profile": "mek", "phone": "8-800-000-00-00"},
    "topics": [
        {"code": "A", "prefix": "А", "form": "oprsn", "name": "Договоры энергоснабжения", "name_en": "Supply contracts"},
        {"code": "K", "prefix": "К", "form": "admin", "name": "Платежные документы", "name_en": "Payment documents"},
        {"code": "P", "prefix": "П", "form": "osir_reports", "name": "Приём показаний", "name_en": "Meter readings"},
    ],
    "windows": [{"number": 1, "topics": ["A", "K"]}, {"number": 2, "topics": ["K", "P"]},
                {"number": 3, "topics": ["A", "K", "P"]}],
    "calendar": {"hours": ALL_DAY},
    "queue": {"policy": "fifo"},
}
DEMO_OPERATORS = {"ivanova": ("Иванова Анна", "1234"), "petrov": ("Петров Олег", "4321")}
KIOSK = "kiosk-1"


def demo_config(**queue) -> OfficeConfig:
    """The demo office (three windows, topics A K P, open round the clock)."""
    data = dict(DEMO_OFFICE, queue={**DEMO_OFFICE["queue"], **queue})
    return parse_office_config(data)


class LocalHub:
    """One office's hub in this process.

    :param config: the office (default :func:`demo_config`).
    :param waiting: tickets to issue at start, per topic code (e.g. ``{"A": 3}``).
    :param operators: ``code -> (name, pin)``.
    :param clock: the dispatcher's clock (aware datetimes).

    Every window gets a counter device ``counter-<n>``, plus a kiosk ``kiosk-1``.
    """

    def __init__(self, config: OfficeConfig | None = None, *, waiting: dict[str, int] | None = None,
                 operators: dict[str, tuple[str, str]] | None = None,
                 clock: Callable[[], datetime] | None = None):
        config = config or demo_config()
        # in memory, one database shared by every connection of this process (SQLite memdb VFS)
        url = f"sqlite:///file:/talon-local-{uuid.uuid4().hex}?vfs=memdb&uri=true"
        self.db = QueueDatabase(url, config)
        with self.db.sessions() as s, s.begin():
            directory.add_device(s, config.office_id, KIOSK, "kiosk", password="local")
            for w in config.windows:
                directory.add_device(s, config.office_id, f"counter-{w.number}", "counter",
                                     window=w.number, password="local")
            for code, (name, pin) in (DEMO_OPERATORS if operators is None else operators).items():
                directory.add_operator(s, config.office_id, code, name, pin)
        self.dispatcher = Dispatcher(self.db, clock=clock, public_url=default_public_url())
        self.states: dict[str, dict] = {}          # the retained states, by name ("window/3")
        self.events: list[dict] = []
        self.buses: list[FakeBus] = []
        now = self.dispatcher.clock()
        for topic, n in (waiting or {}).items():   # visitors already waiting (before any window opened)
            for i in range(n):
                at = now - timedelta(minutes=4 * (n - i))
                self.db.transaction(lambda s, o, topic=topic, at=at: o.issue(topic, at, enforce_hours=False))
        self._publish(self.dispatcher.all_states())

    def bus(self, device: str) -> FakeBus:
        """A device's bus, with the retained states already there (as a broker would have them)."""
        bus = FakeBus(handler=lambda op, args: self.request(device, op, args))
        for name, payload in self.states.items():
            bus.set_state(name, payload)
        self.buses.append(bus)
        return bus

    def request(self, device: str, op: str, args: dict | None = None) -> dict:
        """Send one command as ``device``; the reply's data, or ``CommandError`` for ``ok: false``."""
        publications = list(self.dispatcher.handle_command(device, messages.encode(messages.request(op, args))))
        reply = publications[0].payload
        self._publish(publications[1:] + self.dispatcher.flush())
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise CommandError(error.get("code", "internal"), error.get("message", ""), error.get("message_en", ""))
        return reply.get("data") or {}

    def _publish(self, publications: Iterable[Publication]) -> None:
        for pub in publications:
            kind, name = self.dispatcher.topics.parse(pub.topic)
            if kind == "state":
                self.states[name] = pub.payload
                for bus in self.buses:
                    bus.set_state(name, pub.payload)
            elif kind == "event":
                self.events.append(pub.payload)
                for bus in self.buses:
                    bus.emit(pub.payload)

    def close(self) -> None:
        self.db.close()
