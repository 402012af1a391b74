"""Head office's tests: an office's real dispatcher (``hub.local.LocalHub``) makes the events,
head office's ingest takes them; SQLite always, PostgreSQL when TALON_TEST_POSTGRES_URL is set
(``db_url``, tests/conftest.py)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench import harness
from broker import messages
from hq.ingest import Message
from hub.local import LocalHub
from queue_core.config import parse_office_toml

TZ = ZoneInfo("Asia/Yekaterinburg")


def office_toml(office: str, windows: int = 3) -> str:
    return harness.office_toml(windows, office, name=f"Офис {office}", timezone="Asia/Yekaterinburg")


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class SimOffice:
    """One office: its real dispatcher on an in-memory database, driven by a clock of its own;
    ``events`` are the payloads it published on ``event/ticket``."""

    def __init__(self, office: str, start: datetime = datetime(2026, 10, 5, 9, 0, tzinfo=TZ), windows: int = 3):
        self.id = office
        self.toml = office_toml(office, windows)
        self.clock = Clock(start)
        self.hub = LocalHub(parse_office_toml(self.toml), clock=self.clock)

    @property
    def events(self) -> list[dict]:
        return self.hub.events

    def config_message(self, version: str = "v1", toml: str | None = None, at: datetime | None = None) -> Message:
        payload = {"v": 1, "office": self.id, "version": version, "at": (at or self.clock.now).isoformat(),
                   "toml": toml or self.toml}
        return Message(f"talon/{self.id}/hq/config", messages.encode(payload), retained=True)

    def event_messages(self, events: list[dict] | None = None) -> list[Message]:
        return [Message(f"talon/{self.id}/event/ticket", messages.encode(e)) for e in (events or self.events)]

    def work(self, visitors: int = 6, windows: int = 2) -> None:
        """A stretch of a day: windows open, visitors issued, called, served, rated, one
        transferred and one not showing up."""
        h, c = self.hub, self.clock
        operators = [("ivanova", "1234"), ("petrov", "4321")]
        for n in range(1, windows + 1):
            code, pin = operators[(n - 1) % 2]
            if h.states.get(f"window/{n}", {}).get("state") != "open":
                h.request(f"counter-{n}", "sign_in", {"window": n, "operator": code, "pin": pin})
        for i in range(visitors):
            h.request("kiosk-1", "issue", {"topic": "A" if i % 2 else "R", "kind": "walk_in"})
            c.advance(seconds=37.25)
        for i in range(visitors):
            n = 1 + i % windows
            counter = f"counter-{n}"
            ticket = h.request(counter, "call_next", {"window": n})["ticket"]
            if ticket is None:
                break
            c.advance(seconds=20.5)
            if i == 2:
                h.request(counter, "no_show", {"window": n})
                continue
            h.request(counter, "start", {"window": n})
            c.advance(minutes=3, seconds=11.125)
            if i == 3:
                h.request(counter, "transfer", {"window": n, "topic": "A" if ticket["topic"] == "R" else "R"})
                continue
            h.request(counter, "finish", {"window": n})
            if i % 2 == 0:
                h.request(counter, "rate", {"window": n, "ticket": ticket["number"], "score": 4 + i % 2})
            c.advance(seconds=5)

    def close(self) -> None:
        self.hub.close()
