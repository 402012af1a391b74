"""A tiny stand-in hub behind a :class:`broker.fake_bus.FakeBus`.

It answers the counter's ops well enough to click through the terminal by hand
(``talon counter --window 1 --demo``), to drive the Kivy test and the benchmark.
It is not the real dispatcher: one FIFO per topic, no database, no events.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from broker.fake_bus import FakeBus
from counter_app.presenter import local_now

DEMO_CONFIG = {
    "v": 1,
    "office": {"id": "demo", "name": {"ru": "Демонстрационный офис", "en": "Demo office"},
               "timezone": "Europe/Moscow", "languages": ["ru", "en"], "phone": "8-800-000-00-00"},
    "topics": [
        {"code": "A", "prefix": "А", "name": {"ru": "Договоры энергоснабжения", "en": "Supply contracts"},
         "segment": "b2c", "wait_norm_min": 10, "service_norm_min": 15},
        {"code": "K", "prefix": "К", "name": {"ru": "Платежные документы", "en": "Payment documents"},
         "segment": "b2c", "wait_norm_min": 5, "service_norm_min": 5},
        {"code": "P", "prefix": "П", "name": {"ru": "Приём показаний", "en": "Meter readings"},
         "segment": "b2c", "wait_norm_min": 15, "service_norm_min": None},
    ],
    "windows": [{"number": 1, "zone": "b2c", "topics": ["A", "K"]},
                {"number": 2, "zone": "b2c", "topics": ["K", "P"]},
                {"number": 3, "zone": "b2c", "topics": ["A", "K", "P"]}],
}
DEMO_OPERATORS = {"ivanova": ("1234", "Иванова Анна"), "petrov": ("4321", "Петров Олег")}


class DemoHub:
    """Plays the hub for one office on an in-memory bus (``hub.bus``)."""

    def __init__(self, *, waiting: dict[str, int] | None = None,
                 now: Callable[[], datetime] = local_now):
        self.now = now
        self.bus = FakeBus(handler=self.handle)
        self.seq = 0
        self.ratings: list[dict] = []
        self.topics = {t["code"]: t for t in DEMO_CONFIG["topics"]}
        self.counters = {code: 0 for code in self.topics}
        self.queues: dict[str, list[dict]] = {code: [] for code in self.topics}
        start = now() - timedelta(minutes=12)
        for code, n in (waiting if waiting is not None else {"A": 3, "K": 2, "P": 1}).items():
            for i in range(n):
                self._issue(code, start + timedelta(minutes=4 * i))
        self.windows = {w["number"]: {"v": 1, "window": w["number"], "state": "closed", "break_kind": None,
                                      "operator": None, "ticket": None, "topics": list(w["topics"])}
                        for w in DEMO_CONFIG["windows"]}
        self.bus.set_state("config", DEMO_CONFIG)
        for n in self.windows:
            self._publish_window(n)
        self._publish_queue()

    def _issue(self, code: str, at: datetime) -> dict:
        self.counters[code] += 1
        ticket = {"number": f"{self.topics[code]['prefix']}{self.counters[code]:03d}", "topic": code,
                  "issued_at": at.isoformat(), "recalls": 0}
        self.queues[code].append(ticket)
        return ticket

    # --- the hub's side of the contract --------------------------------------------------
    def handle(self, op: str, args: dict) -> dict:
        n = args.get("window")
        if n not in self.windows:
            raise FakeBus.refuse("unknown_window", "Неизвестное окно")
        w = self.windows[n]
        handler = getattr(self, f"_op_{op}", None)
        if handler is None:
            raise FakeBus.refuse("unknown_op", f"Неизвестная команда {op}")
        data = handler(w, args)
        self._publish_window(n)
        self._publish_queue()
        return data

    def _op_sign_in(self, w, args):
        pin, name = DEMO_OPERATORS.get(args.get("operator"), (None, None))
        if pin is None or pin != args.get("pin"):
            raise FakeBus.refuse("bad_pin", "Неверный код оператора или PIN-код")
        w["operator"] = {"code": args["operator"], "name": name}
        return {"window": dict(w)}

    def _op_open(self, w, args):
        w.update(state="open", break_kind=None)
        return {"window": dict(w)}

    def _op_pause(self, w, args):
        others_open = [x for x in self.windows.values() if x is not w and x["state"] == "open"]
        if w["ticket"] or (len(self.windows) > 2 and not others_open):
            raise FakeBus.refuse("break_not_allowed", "Перерыв недоступен")
        w.update(state="paused", break_kind=args.get("kind", "technical"))
        return {"window": dict(w)}

    def _op_close(self, w, args):
        if w["ticket"]:
            raise FakeBus.refuse("window_busy", "Окно занято: идёт приём")
        w.update(state="closed", break_kind=None)
        return {"window": dict(w)}

    def _op_call_next(self, w, args):
        if w["state"] != "open":
            raise FakeBus.refuse("window_closed", "Окно закрыто")
        if w["ticket"]:
            raise FakeBus.refuse("window_busy", "В окне уже есть клиент")
        candidates = [self.queues[c][0] for c in w["topics"] if self.queues[c]]
        if not candidates:
            return {"ticket": None}
        ticket = min(candidates, key=lambda t: t["issued_at"])
        self.queues[ticket["topic"]].remove(ticket)
        w["ticket"] = {"number": ticket["number"], "topic": ticket["topic"], "state": "called",
                       "called_at": self.now().isoformat(), "started_at": None, "recalls": 0}
        return {"ticket": dict(w["ticket"])}

    def _current(self, w, *states):
        t = w["ticket"]
        if not t or t["state"] not in states:
            raise FakeBus.refuse("illegal_transition", "Недопустимое действие для текущего талона")
        return t

    def _op_recall(self, w, args):
        t = self._current(w, "called")
        t["recalls"] += 1
        return {"ticket": dict(t)}

    def _op_start(self, w, args):
        t = self._current(w, "called")
        t.update(state="serving", started_at=self.now().isoformat())
        return {"ticket": dict(t)}

    def _op_finish(self, w, args):
        t = self._current(w, "serving")
        w["ticket"] = None
        return {"ticket": dict(t, state="done")}

    def _op_no_show(self, w, args):
        t = self._current(w, "called")
        w["ticket"] = None
        return {"ticket": dict(t, state="no_show")}

    def _op_transfer(self, w, args):
        t = self._current(w, "called", "serving")
        topic = args.get("topic") or t["topic"]
        if topic not in self.topics:
            raise FakeBus.refuse("unknown_topic", "Неизвестная тема")
        w["ticket"] = None
        self.queues[topic].insert(0, {"number": t["number"], "topic": topic,
                                      "issued_at": self.now().isoformat(), "recalls": 0})
        return {"ticket": dict(t, state="waiting", topic=topic)}

    def _op_rate(self, w, args):
        self.ratings.append(dict(args))
        return {}

    # --- retained state --------------------------------------------------------------------
    def _publish_window(self, n: int) -> None:
        self.seq += 1
        self.bus.set_state(f"window/{n}", dict(self.windows[n], seq=self.seq))

    def _publish_queue(self) -> None:
        now = self.now()
        topics = {}
        for code, q in self.queues.items():
            oldest = (now - datetime.fromisoformat(q[0]["issued_at"])).total_seconds() / 60 if q else None
            topics[code] = {"waiting": len(q), "eta_min": None,
                            "oldest_wait_min": round(oldest, 1) if oldest is not None else None,
                            "accepting": True, "reason": None}
        self.bus.set_state("queue", {"v": 1, "seq": self.seq, "at": now.isoformat(), "topics": topics,
                                     "windows_open": sum(w["state"] == "open" for w in self.windows.values())})
