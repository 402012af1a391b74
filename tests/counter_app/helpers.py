"""Shared builders for the counter tests: retained-state payloads and a controllable clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from broker.errors import CommandError
from broker.fake_bus import FakeBus

WINDOW = 3
NOW = datetime(2025, 3, 3, 10, 30, tzinfo=timezone(timedelta(hours=5)))

CONFIG = {
    "v": 1,
    "office": {"id": "mek", "name": {"ru": "Офис", "en": "Office"}, "phone": "8-800-100-00-00"},
    "topics": [
        {"code": "A", "prefix": "А", "name": {"ru": "Договоры", "en": "Contracts"},
         "wait_norm_min": 15, "service_norm_min": 10},
        {"code": "K", "prefix": "К", "name": {"ru": "Платежные документы", "en": "Payment documents"},
         "wait_norm_min": 5, "service_norm_min": None},
        {"code": "P", "prefix": "П", "name": {"ru": "Показания", "en": "Readings"},
         "wait_norm_min": 10, "service_norm_min": 5},
    ],
    "windows": [{"number": 1, "topics": ["P"]}, {"number": 2, "topics": ["A"]},
                {"number": WINDOW, "topics": ["A", "K"]}],
}
# the same office with topic A's service norm per personal account (АтомЭнергоСбыт): Done asks how many
PER_ACCOUNT_CONFIG = {**CONFIG, "topics": [{**CONFIG["topics"][0], "per_account": True}, *CONFIG["topics"][1:]]}

QUEUE = {"v": 1, "seq": 1, "topics": {
    "A": {"waiting": 3, "eta_min": 12.0, "oldest_wait_min": 7.5, "accepting": True, "reason": None},
    "K": {"waiting": 1, "eta_min": 3.0, "oldest_wait_min": 6.0, "accepting": True, "reason": None},
    "P": {"waiting": 9, "eta_min": 3.0, "oldest_wait_min": 30.0, "accepting": True, "reason": None},
}, "windows_open": 2}


class FakeClock:
    """Wall clock (aware datetime) and monotonic seconds that only move when told."""

    def __init__(self, now: datetime = NOW):
        self.wall = now
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


def ticket(number="А015", state="called", topic="A", called_ago_s=0, started_ago_s=None, now=NOW):
    return {"number": number, "topic": topic, "state": state,
            "called_at": (now - timedelta(seconds=called_ago_s)).isoformat(),
            "started_at": None if started_ago_s is None else (now - timedelta(seconds=started_ago_s)).isoformat(),
            "recalls": 0}


def window(state="open", tk=None, seq=10, break_kind=None, n=WINDOW, actions=()):
    """A ``state/window/<n>`` payload; ``actions`` as the hub would list them (contract op names)."""
    return {"v": 1, "seq": seq, "window": n, "state": state, "break_kind": break_kind,
            "operator": {"code": "ivanova", "name": "Иванова Анна"}, "ticket": tk, "topics": ["A", "K"],
            "actions": list(actions)}


class RealHub:
    """The real dispatcher in this process (``hub.local.LocalHub``) on the demo office, with a
    FakeClock, and a signed-in presenter for one of its counters."""

    def __init__(self, window: int = 1, *, waiting=None, clock=None, open_windows=(), config=None,
                 **presenter_options):
        from counter_app.presenter import CounterPresenter
        from hub.local import LocalHub

        self.clock = clock or FakeClock()
        self.hub = LocalHub(config, waiting={"A": 3, "K": 2, "P": 1} if waiting is None else waiting,
                            clock=self.clock.now)
        for n in open_windows:
            self.hub.request(f"counter-{n}", "open", {"window": n})
        self.bus = self.hub.bus(f"counter-{window}")
        self.presenter = CounterPresenter(self.bus, window, now=self.clock.now, monotonic=self.clock.monotonic,
                                          **presenter_options).start()


def atom_office():
    """An АтомЭнергоСбыт office for the real hub: topic C (consultation, service norm 8 min per
    personal account) and M (meter readings, 15 min per visit); windows 1 and 2 serve both."""
    from hub.local import ALL_DAY
    from queue_core.config import parse_office_config

    return parse_office_config({
        "office": {"id": "atom", "name": "Офис АтомЭнергоСбыт", "timezone": "Europe/Moscow", "profile": "atom"},
        "topics": [{"code": "C", "prefix": "К", "form": "consult", "name": "Консультация", "name_en": "Consultation"},
                   {"code": "M", "prefix": "П", "form": "meter_readings", "name": "Приём показаний",
                    "name_en": "Meter readings"}],
        "windows": [{"number": 1, "topics": ["C", "M"]}, {"number": 2, "topics": ["C", "M"]}],
        "calendar": {"hours": ALL_DAY},
        "queue": {"policy": "fifo"},
    })


class ScriptedHub:
    """A FakeBus handler answering from ``replies`` (op → data dict, exception, or callable)."""

    def __init__(self, **replies):
        self.replies = replies
        self.bus = FakeBus(handler=self)

    def __call__(self, op: str, args: dict) -> dict:
        reply = self.replies.get(op, {})
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(args)
        return reply

    def ops(self) -> list[str]:
        return [op for op, _ in self.bus.sent]


def refuse(code: str, ru: str, en: str) -> CommandError:
    return CommandError(code, ru, en)
