"""Office drills over a real mosquitto: a counter off the network, midnight with people
waiting, a flood of malformed commands. After each: every ticket accounted for once,
no number repeated, the event log in order, the board agrees with the database."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bench.netcut import CuttableProxy
from broker.client import HubClient
from broker.errors import HubUnreachable
from hub.service import Hub
from queue_core.config import parse_office_toml
from storage import directory
from storage.models import EventRow, TicketRow
from storage.queue_db import QueueDatabase
from tests.mqtt_fixtures import PASSWORDS, Inbox, wait_until
from tests.queue_core.helpers import MONDAY_10

from .conftest import office_toml

pytestmark = pytest.mark.e2e


class SettableClock:
    def __init__(self, start):
        self.now = start
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return self.now

    def set(self, when):
        with self.lock:
            self.now = when


@pytest.fixture
def office(tmp_path, mosquitto_broker, bus):
    clock = SettableClock(MONDAY_10)
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", parse_office_toml(office_toml(windows=2)))
    with db.sessions() as s, s.begin():
        directory.add_device(s, "office", "kiosk-1", "kiosk", password=PASSWORDS["kiosk-1"])
        directory.add_device(s, "office", "counter-1", "counter", window=1, password=PASSWORDS["counter-1"])
        directory.add_device(s, "office", "board-1", "board", password=PASSWORDS["board-1"])
    hub = Hub(db, mosquitto_broker.url, username="hub", password=PASSWORDS["hub"], clock=clock, refresh_s=60)
    hub.start()
    board = mosquitto_broker.hub_client("board-1", "board")
    boards = Inbox()
    board.watch_state("board", boards)
    bus.start(board)
    yield hub, db, clock, boards
    hub.stop()


def check_the_books(db: QueueDatabase, issued: list[tuple[str, str]]) -> None:
    with db.sessions() as s:
        rows = s.execute(select(TicketRow.day, TicketRow.number, TicketRow.state)).all()
        seqs = s.execute(select(EventRow.seq).order_by(EventRow.id)).scalars().all()
    keys = [(d, n) for d, n, _ in rows]
    assert len(keys) == len(set(keys)), "a number repeats within a day"
    assert sorted(issued) == sorted(keys), "a ticket was lost or appeared from nowhere"
    assert seqs == list(range(1, len(seqs) + 1)), "the event log has a gap or is out of order"


def board_matches_db(db: QueueDatabase, boards: Inbox) -> None:
    with db.sessions() as s:
        last_call = s.execute(select(EventRow.ticket).where(EventRow.kind.in_(("called", "recalled")))
                              .order_by(EventRow.seq.desc()).limit(1)).scalar()
    wait_until(lambda: boards.items and boards.items[-1]["calls"] and boards.items[-1]["calls"][0]["ticket"] == last_call,
               what="the board showing the database's last call")


def test_counter_off_the_network_and_back(office, mosquitto_broker, bus):
    hub, db, clock, boards = office
    host, port = mosquitto_broker.url.rsplit("/", 1)[1].split(":")
    proxy = CuttableProxy(host, int(port))
    kiosk = bus.start(mosquitto_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(HubClient(proxy.url, "office", "counter-1", "counter", password=PASSWORDS["counter-1"]))
    counter.request("open", {"window": 1})
    issued = [("2026-11-23", kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]["number"])
              for _ in range(4)]
    counter.request("call_next", {"window": 1})
    counter.request("start", {"window": 1})

    proxy.cut()
    wait_until(lambda: not counter.connected, what="the counter noticing the cut")
    with pytest.raises(HubUnreachable):                 # the operator sees «Нет связи», nothing happens
        counter.request("finish", {"window": 1}, timeout=1.5)
    issued.append(("2026-11-23", kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]["number"]))
    proxy.restore()
    wait_until(lambda: counter.connected, timeout=20, what="the counter reconnecting by itself")
    counter.request("finish", {"window": 1})
    assert counter.request("call_next", {"window": 1})["ticket"]["number"] == "А002"
    check_the_books(db, issued)
    board_matches_db(db, boards)
    proxy.close()


def test_midnight_with_visitors_still_waiting(office, mosquitto_broker, bus):
    hub, db, clock, boards = office
    kiosk = bus.start(mosquitto_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mosquitto_broker.hub_client("counter-1", "counter"))
    counter.request("open", {"window": 1})
    clock.set(MONDAY_10.replace(hour=23, minute=50))
    issued = [("2026-11-23", kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]["number"])
              for _ in range(3)]                                   # А001..А003 wait past midnight
    clock.set(MONDAY_10.replace(hour=0, minute=5) + timedelta(days=1))
    tuesday = [kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]["number"] for _ in range(3)]
    assert tuesday == ["А004", "А005", "А006"]      # a new day, but no live number is handed out twice
    issued += [("2026-11-24", n) for n in tuesday]
    called = counter.request("call_next", {"window": 1})["ticket"]["number"]
    assert called == "А001"                         # yesterday's visitor is still first in line
    check_the_books(db, issued)
    board_matches_db(db, boards)


def test_flood_of_malformed_commands(office, mosquitto_broker, bus):
    hub, db, clock, boards = office
    raw = mosquitto_broker.connection("kiosk-1")
    replies = Inbox()
    raw.subscribe(hub.topics.reply("kiosk-1"), lambda t, p, r: replies(p))
    bus.start(raw)
    junk = [b"", b"\x00" * 50, b"{", b"null", b'{"v":1}', b'{"v":1,"id":"x","op":"issue","args":{"topic":"Z","kind":"?"}}']
    for i in range(2000):
        raw.publish(hub.topics.cmd("kiosk-1"), junk[i % len(junk)], qos=0)
    wait_until(lambda: len(replies.items) >= 2000, timeout=60, what="a refusal for every malformed command")
    kiosk = bus.start(mosquitto_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mosquitto_broker.hub_client("counter-1", "counter"))
    counter.request("open", {"window": 1})
    ticket = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]["number"]
    check_the_books(db, [("2026-11-23", ticket)])          # the flood left nothing behind
