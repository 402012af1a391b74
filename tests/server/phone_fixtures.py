"""An office for the phone page's tests: the real hub's dispatcher (``hub.local.LocalHub``,
in-memory SQLite shared in this process) and the web app on the same database, with the
hooks the composition root gives it (``VISITOR_LEAVE``, ``ANNOUNCE``)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hub.local import LocalHub
from server import create_app

NOW = datetime(2026, 11, 19, 11, 0, tzinfo=ZoneInfo("Europe/Moscow"))     # a Thursday


class PhoneOffice:
    def __init__(self, hooks: bool = True, **config):
        self.now = NOW
        self.hub = LocalHub(clock=lambda: self.now)
        mapping = {"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": self.hub.db.url,
                   "OFFICE_CONFIG": self.hub.db.config, "CLOCK": lambda: self.now, "PHONE_RATE_LIMIT": 10_000,
                   "SSE_MAX_EVENTS": 1, "PHONE_HEARTBEAT_S": 0.2, **config}
        if hooks:
            mapping["VISITOR_LEAVE"] = self.leave
            mapping["ANNOUNCE"] = self.announce
        self.app = create_app(mapping)

    # the hooks, as talon/office.py wires them to the running hub
    def leave(self, token: str) -> dict:
        ticket, publications = self.hub.dispatcher.visitor_leave(token)
        self.hub._publish(publications)
        return ticket

    def announce(self, text: str) -> None:
        self.hub._publish(self.hub.dispatcher.announce(text))

    # the devices
    def issue(self, topic: str = "A") -> dict:
        """A kiosk's ticket: the reply's ticket, with its page's ``url``."""
        return self.hub.request("kiosk-1", "issue", {"topic": topic, "kind": "walk_in"})["ticket"]

    def counter(self, window: int, op: str, **args) -> dict:
        return self.hub.request(f"counter-{window}", op, {"window": window, **args})

    def open_window(self, window: int, operator: str = "ivanova", pin: str = "1234") -> None:
        self.counter(window, "sign_in", operator=operator, pin=pin)

    def close(self) -> None:
        feed = self.app.extensions.get("talon_phone_feed")
        if feed is not None:
            feed.close()
        self.app.extensions["talon"].engine.dispose()
        self.hub.close()


def path_of(ticket: dict) -> str:
    """``/t/<token>`` of a ticket's ``url``."""
    return "/t/" + ticket["url"].rsplit("/t/", 1)[1]
