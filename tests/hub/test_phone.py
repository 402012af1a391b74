"""The visitor's phone through the real hub and real brokers: the ticket page's address in the
kiosk's replies, «Я ухожу», the announcement to everyone waiting, and the hub's listener hook."""
import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from hub.service import Hub
from queue_core.errors import QueueError
from storage import directory, ticket_links
from storage.bookings import Bookings
from storage.queue_db import QueueDatabase
from tests.hub.test_hub import office_clock
from tests.mqtt_fixtures import OFFICE, PASSWORDS, Inbox
from tests.queue_core.helpers import MONDAY_10, make_config

BASE = "http://queue.office.test:8080"


def make_db(path) -> QueueDatabase:
    config = replace(make_config(windows=2), office_id=OFFICE)
    return QueueDatabase(f"sqlite:///{path}", config)


def make_hub(mqtt_broker, db: QueueDatabase) -> Hub:
    h = Hub(db, mqtt_broker.url, username="hub" if mqtt_broker.authenticated else None,
            password=mqtt_broker.password("hub"), refresh_s=0.5, clock=office_clock(), public_url=BASE)
    h.start()
    return h


def board_notices(mqtt_broker, bus) -> Inbox:
    """A board over MQTT watching ``state/notice``: what it is shown."""
    board = mqtt_broker.hub_client("board-1", "board")
    notices = Inbox()
    board.watch_state("notice", notices)
    bus.start(board)
    return notices


@pytest.fixture
def db_path(tmp_path):
    db = make_db(tmp_path / "hub.db")
    with db.sessions() as s, s.begin():
        directory.add_device(s, OFFICE, "kiosk-1", "kiosk", password=PASSWORDS["kiosk-1"])
        directory.add_device(s, OFFICE, "counter-1", "counter", window=1, password=PASSWORDS["counter-1"])
        directory.add_device(s, OFFICE, "board-1", "board", password=PASSWORDS["board-1"])
        Bookings(s, OFFICE).book("A", MONDAY_10 + timedelta(minutes=10), MONDAY_10)
    db.close()
    return tmp_path / "hub.db"


@pytest.fixture
def hub(mqtt_broker, db_path):
    h = make_hub(mqtt_broker, make_db(db_path))
    yield h
    h.stop()
    mqtt_broker.clear_hub_states()


def token_of(ticket: dict) -> str:
    assert ticket["url"].startswith(f"{BASE}/t/")
    return ticket["url"].removeprefix(f"{BASE}/t/")


def link(hub, token):
    with hub.dispatcher.db.sessions() as s:
        return ticket_links.find(s, token)


def test_issue_and_checkin_replies_carry_the_ticket_page(hub, mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mqtt_broker.hub_client("counter-1", "counter"))
    counter.request("open", {"window": 1})
    walk_in = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]
    with hub.dispatcher.db.sessions() as s:
        code = Bookings(s, OFFICE).all()[0].code
    booking = kiosk.request("checkin", {"code": code})["ticket"]
    assert booking["kind"] == "booking"
    tokens = [token_of(walk_in), token_of(booking)]
    assert tokens[0] != tokens[1] and len(tokens[0]) == 22          # 128 bits, URL-safe base64
    for ticket, token in zip((walk_in, booking), tokens):
        stored = link(hub, token)
        assert (stored.number, stored.day, stored.ended) == (ticket["number"], "2026-11-23", False)
    # a retried issue (same command id) gets the same reply: the same page, no second link
    again = kiosk.request("issue", {"topic": "A", "kind": "walk_in"}, request_id="issue-twice")
    assert kiosk.request("issue", {"topic": "A", "kind": "walk_in"}, request_id="issue-twice") == again


def test_the_link_ends_with_its_ticket(hub, mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mqtt_broker.hub_client("counter-1", "counter"))
    counter.request("open", {"window": 1})
    served = token_of(kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"])
    missed = token_of(kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"])
    counter.request("call_next", {"window": 1})
    counter.request("start", {"window": 1})
    assert not link(hub, served).ended                     # called and served: still live
    counter.request("finish", {"window": 1})
    counter.request("call_next", {"window": 1})
    counter.request("no_show", {"window": 1})
    assert (link(hub, served).outcome, link(hub, missed).outcome) == ("done", "no_show")
    assert link(hub, served).ended and not link(hub, served).valid_on("2026-11-23")
    with pytest.raises(QueueError) as info:
        hub.visitor_leave(missed)
    assert info.value.code == "unknown_ticket"


def test_the_visitor_leaves_the_queue_once(hub, mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mqtt_broker.hub_client("counter-1", "counter"))
    board = mqtt_broker.hub_client("board-1", "board")
    events = Inbox()
    board.on_event(events)
    bus.start(board)
    counter.request("open", {"window": 1})
    first = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]
    second = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]

    left = hub.visitor_leave(token_of(first))
    assert (left["number"], left["state"], left["url"]) == (first["number"], "cancelled", first["url"])
    event = events.wait_for(lambda e: e["kind"] == "left")
    assert (event["ticket"], event["topic"]) == (first["number"], "A")
    assert hub.visitor_leave(token_of(first)) == left           # idempotent: the same answer
    assert len([e for e in events.items if e["kind"] == "left"]) == 1
    assert link(hub, token_of(first)).outcome == "left"

    assert counter.request("call_next", {"window": 1})["ticket"]["number"] == second["number"]   # skipped
    with pytest.raises(QueueError) as info:
        hub.visitor_leave(token_of(second))
    assert info.value.code == "illegal_transition" and "окну 1" in info.value.message_ru
    assert not link(hub, token_of(second)).ended
    for bad in ("no-such-token", "", "x" * 100):
        with pytest.raises(QueueError) as info:
            hub.visitor_leave(bad)
        assert info.value.code == "unknown_ticket"


def test_a_link_of_another_day_cannot_leave(hub, mqtt_broker, bus):
    with hub.dispatcher.db.sessions() as s, s.begin():
        token = ticket_links.create(s, OFFICE, "2026-11-22", "А001", MONDAY_10 - timedelta(days=1))
    with pytest.raises(QueueError) as info:
        hub.visitor_leave(token)
    assert info.value.code == "unknown_ticket"


def test_listeners_hear_every_committed_change_and_a_failing_one_harms_nothing(hub, mqtt_broker, bus):
    heard, threads = Inbox(), set()

    def listener(items):
        threads.add(threading.current_thread().name)
        for item in items:
            heard(item)

    hub.add_listener(lambda items: 1 / 0)
    hub.add_listener(listener)
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    counter = bus.start(mqtt_broker.hub_client("counter-1", "counter"))
    counter.request("open", {"window": 1})
    ticket = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]
    called = counter.request("call_next", {"window": 1})["ticket"]
    assert called["number"] == ticket["number"]
    call = heard.wait_for(lambda e: e["kind"] == "called")
    assert (call["ticket"], call["window"], call["data"]["recalls"]) == (ticket["number"], 1, 0)
    seqs = [e["seq"] for e in heard.items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    hub.announce("Окно 3 закрыто до 14:00")
    notice = heard.wait_for(lambda e: e["kind"] == "notice")
    assert notice["text"] == "Окно 3 закрыто до 14:00"
    assert hub.healthy


def test_the_announcement_is_retained_and_survives_a_hub_restart(mqtt_broker, bus, db_path):
    first = make_hub(mqtt_broker, make_db(db_path))
    try:
        notices = board_notices(mqtt_broker, bus)
        assert notices.wait_for()["text"] == ""                     # nothing announced yet
        first.announce("  Окно 3   закрыто до 14:00 ")
        shown = notices.wait_for(lambda n: n["text"])
        assert shown["text"] == "Окно 3 закрыто до 14:00" and shown["at"].startswith("2026-11-23T")
        for bad in ("я" * 201, None, 42):
            with pytest.raises(QueueError) as info:
                first.announce(bad)
            assert info.value.code == "bad_schema"
    finally:
        first.stop()
    mqtt_broker.clear_hub_states()                     # the broker forgot it: the hub must say it again
    second = make_hub(mqtt_broker, make_db(db_path))
    try:
        after = board_notices(mqtt_broker, bus)
        assert after.wait_for(lambda n: n["text"])["text"] == "Окно 3 закрыто до 14:00"
        second.announce("")
        assert after.wait_for(lambda n: n["text"] == "")["seq"] >= 0
        with second.dispatcher.db.sessions() as s:
            assert ticket_links.notice(s, OFFICE) is None
    finally:
        second.stop()
        mqtt_broker.clear_hub_states()


def test_the_web_gets_the_hubs_hooks(hub, mqtt_broker, bus, tmp_path):
    """``server.serve.start_web_server`` hands the in-process web the hub's single-writer
    entry points: ``VISITOR_LEAVE`` and ``ANNOUNCE``."""
    from server.serve import start_web_server

    web = start_web_server(hub.dispatcher.db, "127.0.0.1", 0, hub=hub, data_dir=tmp_path)
    try:
        config = web._server.app.config
        kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
        bus.start(mqtt_broker.hub_client("counter-1", "counter")).request("open", {"window": 1})
        ticket = kiosk.request("issue", {"topic": "A", "kind": "walk_in"})["ticket"]
        assert config["VISITOR_LEAVE"](token_of(ticket))["state"] == "cancelled"
        config["ANNOUNCE"]("Приём до 17:00")
        with hub.dispatcher.db.sessions() as s:
            assert ticket_links.notice(s, OFFICE)[0] == "Приём до 17:00"
    finally:
        web.shutdown()


def test_links_older_than_yesterday_are_purged_at_start_and_once_a_day():
    from hub.local import LocalHub

    now = [MONDAY_10]
    local = LocalHub(clock=lambda: now[0])
    try:
        with local.db.sessions() as s, s.begin():
            old = ticket_links.create(s, "demo", "2026-11-21", "А001", MONDAY_10 - timedelta(days=2))
            recent = ticket_links.create(s, "demo", "2026-11-22", "А001", MONDAY_10 - timedelta(days=1))
        local.dispatcher.refresh()                         # the hub's first refresh
        with local.db.sessions() as s:
            assert ticket_links.find(s, old) is None
            assert ticket_links.find(s, recent) is not None     # yesterday's: kept
        local.dispatcher.refresh()
        with local.db.sessions() as s:
            assert ticket_links.find(s, recent) is not None     # once a day, not at every refresh
        now[0] = MONDAY_10 + timedelta(days=1)
        local.dispatcher.refresh()                         # past midnight: the day's chores
        with local.db.sessions() as s:
            assert ticket_links.find(s, recent) is None
    finally:
        local.close()


def test_the_last_call_of_a_linked_ticket_comes_from_the_event_log():
    """What a restarted notifier reads for a call it did not see (``ticket_links.last_call``)."""
    from hub.local import LocalHub

    local = LocalHub()
    try:
        local.request("counter-1", "sign_in", {"window": 1, "operator": "ivanova", "pin": "1234"})
        ticket = local.request("kiosk-1", "issue", {"topic": "A", "kind": "walk_in"})["ticket"]
        token = ticket["url"].rsplit("/", 1)[1]
        with local.db.sessions() as s:
            created = ticket_links.find(s, token).created_at
            assert ticket_links.last_call(s, "demo", ticket["number"], created) is None
        local.request("counter-1", "call_next", {"window": 1})
        with local.db.sessions() as s:
            seq, window, recall = ticket_links.last_call(s, "demo", ticket["number"], created)
        assert (window, recall) == (1, False)
        local.request("counter-1", "recall", {"window": 1})
        with local.db.sessions() as s:
            again = ticket_links.last_call(s, "demo", ticket["number"], created)
            assert again == (seq + 1, 1, True)
            assert ticket_links.last_call(s, "demo", ticket["number"], created + timedelta(hours=1)) is None
    finally:
        local.close()
