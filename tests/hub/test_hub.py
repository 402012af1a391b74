"""The hub end to end over real brokers (mosquitto with users + ACL, and embedded amqtt)."""
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from broker.errors import CommandError
from hub.service import Hub
from storage import directory
from storage.queue_db import QueueDatabase
from tests.mqtt_fixtures import OFFICE, PASSWORDS, Inbox, wait_until
from tests.queue_core.helpers import MONDAY_10, make_config


def office_clock():
    """Monday 10:00 office time, running at real speed: tests never depend on today's hour."""
    began = time.monotonic()
    return lambda: MONDAY_10 + timedelta(seconds=time.monotonic() - began)


@pytest.fixture
def hub(mqtt_broker, tmp_path):
    config = replace(make_config(windows=2), office_id=OFFICE)
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", config)
    with db.sessions() as s, s.begin():
        directory.add_device(s, OFFICE, "kiosk-1", "kiosk", password=PASSWORDS["kiosk-1"])
        directory.add_device(s, OFFICE, "counter-1", "counter", window=1, password=PASSWORDS["counter-1"])
        directory.add_device(s, OFFICE, "board-1", "board", password=PASSWORDS["board-1"])
    h = Hub(db, mqtt_broker.url, username="hub" if mqtt_broker.authenticated else None,
            password=mqtt_broker.password("hub"), refresh_s=0.5, clock=office_clock())
    h.start()
    yield h
    h.stop()
    mqtt_broker.clear_hub_states()


def test_kiosk_counter_and_board_through_the_hub(hub, mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mqtt_broker.hub_client("counter-1", "counter"))
    board = mqtt_broker.hub_client("board-1", "board")
    events, boards = Inbox(), Inbox()
    board.on_event(events)
    board.watch_state("board", boards)
    bus.start(board)

    config = Inbox()
    kiosk.watch_state("config", config)
    assert config.wait_for()["office"]["id"] == OFFICE          # retained, published at hub start

    counter.request("open", {"window": 1})
    ticket = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]
    called = counter.request("call_next", {"window": 1})["ticket"]
    assert called["number"] == ticket["number"] == "А001"
    event = events.wait_for(lambda e: e["kind"] == "called")
    assert (event["ticket"], event["window"]) == ("А001", 1)
    assert boards.wait_for(lambda b: b["calls"])["calls"][0]["ticket"] == "А001"


def test_refusals_reach_the_device(hub, mqtt_broker, bus):
    counter = bus.start(mqtt_broker.hub_client("counter-1", "counter"))
    with pytest.raises(CommandError) as info:
        counter.request("finish", {"window": 1})
    assert info.value.code in ("no_ticket", "window_closed")
    with pytest.raises(CommandError) as info:
        counter.request("call_next", {"window": 2})
    assert info.value.code == "forbidden"


def test_hub_keeps_serving_after_garbage(hub, mqtt_broker, bus):
    raw = mqtt_broker.connection("kiosk-1")
    replies = Inbox()
    raw.subscribe(hub.topics.reply("kiosk-1"), lambda t, p, r: replies(p))
    bus.start(raw)
    for junk in (b"", b"\xff\xfe", b"{", b'{"v":1,"id":"x","op":"issue","args":{"topic":"A"}}', b"[1,2]" * 2000):
        raw.publish(hub.topics.cmd("kiosk-1"), junk)
    wait_until(lambda: len(replies.items) >= 5, what="five refusals")
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    assert kiosk.request("ping")["seq"] >= 0


def test_queue_state_refreshes_by_itself(hub, mqtt_broker, bus):
    kiosk = mqtt_broker.hub_client("kiosk-1", "kiosk")
    queue = Inbox()
    kiosk.watch_state("queue", queue)
    bus.start(kiosk)
    first = queue.wait_for()
    queue.wait_for(lambda q: q["at"] != first["at"] or len(queue.items) > 2, timeout=5)
