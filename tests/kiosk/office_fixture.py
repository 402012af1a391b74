"""A small office as the hub would publish it, and a FakeBus that plays the hub."""
from broker.fake_bus import FakeBus

CONFIG = {
    "v": 1,
    "office": {"id": "mek", "name": {"ru": "Центр обслуживания клиентов", "en": "Customer Service Centre"},
               "timezone": "Asia/Yekaterinburg", "languages": ["ru", "en"],
               "phone": "8 800 000-00-00", "site": "mek.example.ru"},
    "topics": [
        {"code": "A", "prefix": "А", "name": {"ru": "Консультация", "en": "Consultation"}, "segment": "b2c"},
        {"code": "K", "prefix": "К", "name": {"ru": "Кассовая операция", "en": "Payment"}, "segment": "b2c"},
        {"code": "D", "prefix": "Д", "name": {"ru": "Заключение/изменение договора",
                                              "en": "Contracts"}, "segment": "b2b"},
    ],
    "priority": {"mode": "out_of_turn", "categories": [
        {"code": "disabled", "name": {"ru": "Люди с инвалидностью", "en": "People with disabilities"}},
        {"code": "veteran", "name": {"ru": "Ветераны ВОВ", "en": "WWII veterans"}}]},
    "segments": [{"code": "b2c", "name": {"ru": "Частные клиенты", "en": "Private customers"}},
                 {"code": "b2b", "name": {"ru": "Корпоративные клиенты", "en": "Business customers"}}],
}

QUEUE = {"v": 1, "seq": 10, "at": "2025-03-12T10:42:00+05:00", "windows_open": 2, "topics": {
    "A": {"waiting": 3, "eta_min": 11.5, "oldest_wait_min": 7.5, "accepting": True, "reason": None},
    "K": {"waiting": 0, "eta_min": 0.0, "accepting": False, "reason": "cutoff"},
    "D": {"waiting": 0, "eta_min": 0.0, "accepting": True, "reason": None},
}}

BOOKING_REFUSALS = {"0000": "booking_not_found", "1111": "booking_too_early", "2222": "booking_too_late"}


class Hub:
    """Answers ``issue`` and ``checkin`` the way the dispatcher does; with ``page_base`` set
    (the office's web serves the visitors' pages) each ticket has its ``url``."""

    def __init__(self, page_base: str | None = None):
        self.issued: list[dict] = []
        self.slot_start = "2025-03-12T11:00:00+05:00"
        self.page_base = page_base

    def __call__(self, op: str, args: dict) -> dict:
        if op == "issue":
            topic = next(t for t in CONFIG["topics"] if t["code"] == args["topic"])
            return {"ticket": self._ticket(topic, args.get("kind", "walk_in"), args.get("category"))}
        if op == "checkin":
            if args["code"] in BOOKING_REFUSALS:
                raise FakeBus.refuse(BOOKING_REFUSALS[args["code"]], "отказано")
            ticket = self._ticket(CONFIG["topics"][0], "booking", None)
            ticket["slot_start"] = self.slot_start          # the booking's slot (docs/contract.md Ticket)
            return {"ticket": ticket}
        raise FakeBus.refuse("unknown_op")

    def _ticket(self, topic: dict, kind: str, category) -> dict:
        ticket = {"number": f"{topic['prefix']}{len(self.issued) + 15:03d}", "topic": topic["code"],
                  "kind": kind, "state": "waiting", "issued_at": "2025-03-12T10:42:00+05:00",
                  "people_ahead": 3, "eta_min": 11.5, "window": None, "recalls": 0,
                  "priority_category": category}
        if self.page_base:
            ticket["url"] = f"{self.page_base}/t/tok{len(self.issued) + 15}-Xq8mVx2Lr0aZ7eKfN1sYtB"
        self.issued.append(ticket)
        return ticket


PAGE_BASE = "http://talon.mek.example.ru:8080"


def office_bus(page_base: str | None = None) -> FakeBus:
    bus = FakeBus(handler=Hub(page_base))
    bus.set_state("config", CONFIG)
    bus.set_state("queue", QUEUE)
    return bus
