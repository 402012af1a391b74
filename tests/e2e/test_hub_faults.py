"""Fault drills for the hub: broker restart under load, hub SIGKILL mid-load."""
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from broker.errors import HubUnreachable
from hub.service import Hub
from queue_core.config import parse_office_toml
from storage import directory
from storage.models import EventRow, TicketRow
from storage.queue_db import QueueDatabase
from tests.mqtt_fixtures import PASSWORDS, BrokerHandle, Inbox, broker_dir, start_mosquitto

from .conftest import office_toml, wait_for

pytestmark = pytest.mark.e2e
KIOSKS = ("kiosk-1", "kiosk-2")


def provision(db: QueueDatabase) -> None:
    with db.sessions() as s, s.begin():
        for k in KIOSKS:
            directory.add_device(s, "office", k, "kiosk", password=PASSWORDS[k])
        directory.add_device(s, "office", "counter-1", "counter", window=1, password=PASSWORDS["counter-1"])
        directory.add_device(s, "office", "board-1", "board", password=PASSWORDS["board-1"])


def issue_loop(client, count: int, results: list, timeout: float = 15.0) -> None:
    for _ in range(count):
        try:
            reply = client.request("issue", {"topic": "A", "kind": "walk_in"}, timeout=timeout)
            results.append(reply["ticket"]["number"])
        except HubUnreachable:
            results.append(None)


def tickets_in(db_url: str) -> list[tuple[str, str]]:
    db = QueueDatabase(db_url, parse_office_toml(office_toml()))
    with db.sessions() as s:
        rows = s.execute(select(TicketRow.day, TicketRow.number)).all()
        seqs = s.execute(select(EventRow.seq).order_by(EventRow.seq)).scalars().all()
    db.close()
    assert seqs == list(range(1, len(seqs) + 1)), "the event log has a gap or a repeat"
    return rows


def test_broker_killed_and_restarted_under_load(tmp_path, bus):
    broker = start_mosquitto(data_dir=broker_dir())
    handle = BrokerHandle("mosquitto", broker, authenticated=True)
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", parse_office_toml(office_toml()))
    provision(db)
    hub = Hub(db, broker.url, username="hub", password=PASSWORDS["hub"])
    hub.start()
    try:
        counter = bus.start(handle.hub_client("counter-1", "counter"))
        counter.request("open", {"window": 1})
        kiosks = [bus.start(handle.hub_client(k, "kiosk")) for k in KIOSKS]
        results: list[list] = [[] for _ in kiosks]
        threads = [threading.Thread(target=issue_loop, args=(k, 40, r)) for k, r in zip(kiosks, results)]
        for t in threads:
            t.start()
        wait_for(lambda: sum(map(len, results)) >= 20, what="load under way")
        broker.kill()                                   # the supervisor restarts it
        for t in threads:
            t.join(120)
        issued = [n for r in results for n in r]
        assert None not in issued, "a command was lost across the broker restart"
        assert broker.restarts >= 1
        assert all(k.connected for k in kiosks), "a client did not reconnect by itself"
        stored = tickets_in(db.url)
        assert len(stored) == len(issued) == 80                     # exactly one effect per command
        assert not [n for n, c in Counter(issued).items() if c > 1]  # no number twice
    finally:
        hub.stop()
        broker.stop()


def test_hub_sigkilled_mid_load_and_restarted(hub_process, mosquitto_broker, bus):
    db_url = f"sqlite:///{Path(hub_process.data) / 'talon.db'}"
    provision(QueueDatabase(db_url, parse_office_toml(office_toml())))
    hub_process.start()
    kiosk = mosquitto_broker.hub_client("kiosk-1", "kiosk")
    board = mosquitto_broker.hub_client("board-1", "board")
    states = Inbox()
    board.watch_state("queue", states)
    bus.start(kiosk)
    bus.start(board)
    counter = bus.start(mosquitto_broker.hub_client("counter-1", "counter"))
    wait_for(lambda: _ping(counter), what="the hub answering")
    counter.request("open", {"window": 1})

    results: list = []
    loop = threading.Thread(target=issue_loop, args=(kiosk, 60, results, 30.0))
    loop.start()
    wait_for(lambda: len(results) >= 15, what="load under way")
    hub_process.kill()                                              # SIGKILL: no cleanup at all
    hub_process.start()
    loop.join(180)

    assert None not in results, "a command got no answer although the hub came back"
    stored = tickets_in(db_url)                                     # also checks the event log
    numbers = sorted(int(n[1:]) for _, n in stored)
    assert numbers == list(range(1, len(numbers) + 1)), "numbers have a gap or a repeat"
    assert len(stored) == len(results) == 60
    seq_after = wait_for(lambda: next((s["seq"] for s in reversed(states.items) if s["seq"] >= 61), None),
                         what="retained queue state rebuilt after the restart")
    assert seq_after >= 61


def _ping(client) -> bool:
    try:
        client.request("ping", timeout=1.0)
        return True
    except HubUnreachable:
        return False
