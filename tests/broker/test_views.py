"""Typed views of the hub's retained states and events (broker/views.py)."""
import pytest

from broker import views
from broker.views import BoardCall, BoardState, ConfigState, QueueState, TicketEvent, ViewError, WindowState, WindowTicket

CONFIG = {
    "v": 1,
    "office": {"id": "mek", "name": {"ru": "Офис", "en": "Office"}, "timezone": "Asia/Yekaterinburg",
               "languages": ["ru", "en"], "phone": "8 800", "site": "mek.ru", "new_field": 1},
    "topics": [{"code": "A", "prefix": "А", "name": {"ru": "Счета", "en": "Bills"}, "segment": "b2c",
                "wait_norm_min": 15, "service_norm_min": 10, "aggregation": "mean", "cutoff": "17:30"}],
    "windows": [{"number": 1, "zone": "b2c", "topics": ["A"]}],
    "priority": {"mode": "out_of_turn", "categories": [{"code": "disabled", "name": {"ru": "Инвалиды"}}]},
    "segments": [{"code": "b2c", "name": {"ru": "Частные клиенты", "en": "Private customers"}}],
    "board": {"history": 8, "min_display_s": 10, "notice": {"ru": "Запись", "en": "CCTV"}},
    "sound": {"voice": True, "repeat": 2},
}


def test_config_is_read_whole_and_extra_keys_are_ignored():
    c = ConfigState.from_payload(CONFIG)
    assert c.office.name.get("en") == "Office" and c.office.name.get("de") == "Офис"
    assert c.office.languages == ("ru", "en") and c.office.timezone == "Asia/Yekaterinburg"
    assert c.topic("A").prefix == "А" and c.topic("A").wait_norm_min == 15.0 and c.topic("Z") is None
    assert c.topic_label("A", "en") == "Bills" and c.topic_label("Z", "en") == "Z"
    assert c.window(1).topics == ("A",) and c.window_numbers == (1,)
    assert c.priority.categories[0].label("en") == "Инвалиды"
    assert c.segments[0].label("en") == "Private customers"
    assert (c.board.history, c.board.min_display_s, c.board.notice.get("ru")) == (8, 10.0, "Запись")
    assert (c.sound.voice, c.sound.repeat) == (True, 2)


def test_an_empty_config_has_defaults():
    c = ConfigState.from_payload({"v": 1})
    assert c == ConfigState() and c.board.history is None and c.sound.repeat == 1
    assert c.office.name.get("ru") == "" and not c.office.name


@pytest.mark.parametrize("payload, path", [
    ([], "config"),
    ({"topics": {"A": 1}}, "config.topics"),
    ({"topics": [{"prefix": "А"}]}, "config.topics[0].code"),
    ({"windows": [{"number": "1"}]}, "config.windows[0].number"),
    ({"windows": [{"number": True}]}, "config.windows[0].number"),
    ({"board": {"history": 0}}, "config.board.history"),
    ({"sound": {"voice": "yes"}}, "config.sound.voice"),
    ({"office": "mek"}, "config.office"),
])
def test_garbage_config_is_refused_with_the_field(payload, path):
    with pytest.raises(ViewError) as exc:
        ConfigState.from_payload(payload)
    assert exc.value.path == path and isinstance(exc.value, ValueError)


@pytest.mark.parametrize("office, public_url", [
    ({}, None),                                              # a hub older than the field
    ({"public_url": None}, None), ({"public_url": ""}, None),  # the office serves no phone pages
    ({"public_url": "http://hub:8080"}, "http://hub:8080")])
def test_config_office_public_url_says_whether_tickets_have_phone_pages(office, public_url):
    c = ConfigState.from_payload({**CONFIG, "office": {**CONFIG["office"], **office}})
    assert c.office.public_url == public_url and c.office.phone_pages is bool(public_url)


def test_config_office_public_url_must_be_a_string():
    with pytest.raises(ViewError) as exc:
        ConfigState.from_payload({"office": {"public_url": True}})
    assert exc.value.path == "config.office.public_url"


def test_queue_topics():
    q = QueueState.from_payload({"v": 1, "seq": 4, "at": "x", "windows_open": 2, "topics": {
        "A": {"waiting": 3, "eta_min": 12, "oldest_wait_min": 7.5, "accepting": True, "reason": None},
        "K": {"waiting": 0, "accepting": False, "reason": "cutoff"}}})
    assert q.seq == 4 and q.windows_open == 2
    assert q.topic("A").eta_min == 12.0 and q.topic("K").reason == "cutoff" and not q.topic("K").accepting
    assert q.topic("Z").accepting and q.topic("Z").waiting is None
    with pytest.raises(ViewError):
        QueueState.from_payload({"topics": {"A": {"waiting": -1}}})
    with pytest.raises(ViewError):
        QueueState.from_payload({"topics": {"A": {"eta_min": "soon"}}})


def test_board_calls():
    b = BoardState.from_payload({"v": 1, "seq": 9, "calls": [
        {"ticket": "А015", "window": 3, "topic": "A", "at": "t", "recalls": 1, "extra": 0},
        {"ticket": "К001", "window": 1}]})
    assert b.seq == 9 and b.calls == (BoardCall("А015", 3, "A", "t", 1), BoardCall("К001", 1))
    assert b.calls[0].key == ("А015", 3, 1)
    for bad in ({"calls": [{"window": 1}]}, {"calls": [{"ticket": "", "window": 1}]},
                {"calls": [{"ticket": "А1", "window": None}]}, {"seq": "9"}):
        with pytest.raises(ViewError):
            BoardState.from_payload(bad)


def test_window_state_with_actions():
    w = WindowState.from_payload({
        "v": 1, "seq": 5, "window": 3, "state": "open", "break_kind": None,
        "operator": {"code": "ivanova", "name": "Иванова Анна"},
        "ticket": {"number": "А015", "topic": "A", "state": "called", "called_at": "t", "started_at": None,
                   "recalls": 0},
        "topics": ["A", "K"], "actions": ["recall", "start"]})
    assert w.window == 3 and w.state == "open" and w.operator.name == "Иванова Анна"
    assert w.ticket == WindowTicket("А015", "A", "called", "t", None, 0)
    assert w.topics == ("A", "K") and w.actions == ("recall", "start")
    older = WindowState.from_payload({"window": 2, "state": "paused", "break_kind": "lunch"})
    assert older.actions == () and older.ticket is None and older.operator is None
    for bad in ({"window": 2, "state": "asleep"}, {"state": "open"}, {"window": 2, "state": "open", "actions": "x"},
                {"window": 2, "state": "open", "ticket": {"topic": "A"}}):
        with pytest.raises(ViewError):
            WindowState.from_payload(bad)


def test_ticket_events():
    e = TicketEvent.from_payload({"v": 1, "seq": 1042, "at": "t", "kind": "recalled", "ticket": "А015",
                                  "topic": "A", "window": 3, "data": {"recalls": 2}})
    assert e.is_call and e.recalls == 2 and e.call() == BoardCall("А015", 3, "A", "t", 2)
    old_hub = TicketEvent.from_payload({"seq": 7, "kind": "recalled", "ticket": "А015", "window": 3})
    assert old_hub.recalls is None and old_hub.call().recalls == 1
    paused = TicketEvent.from_payload({"seq": 8, "kind": "window_paused", "window": 3, "data": {"break_kind": "lunch"}})
    assert not paused.is_call and paused.call() is None and paused.break_kind == "lunch"
    assert not TicketEvent.from_payload({"seq": 9, "kind": "called"}).is_call   # no ticket: not a call
    for bad in ({"kind": "called"}, {"seq": 0, "kind": "called"}, {"seq": 1}, {"seq": 1, "kind": "x", "data": [1]},
                {"seq": 1, "kind": "called", "window": "3"}, "event"):
        with pytest.raises(ViewError):
            TicketEvent.from_payload(bad)


def test_parse_by_state_name():
    assert isinstance(views.parse("config", CONFIG), ConfigState)
    assert isinstance(views.parse("queue", {}), QueueState)
    assert isinstance(views.parse("board", {}), BoardState)
    assert isinstance(views.parse("window/3", {"window": 3, "state": "closed"}), WindowState)
    with pytest.raises(ViewError):
        views.parse("nope", {})


def test_reply_ticket():
    t = views.Ticket.from_payload({"number": "А015", "topic": "A", "kind": "walk_in", "state": "waiting",
                                   "issued_at": "2025-03-03T10:30:00+05:00", "people_ahead": 3, "eta_min": 12.5,
                                   "window": None, "recalls": 0, "priority_category": None, "more": 1})
    assert (t.number, t.people_ahead, t.eta_min, t.window) == ("А015", 3, 12.5, None)
    for bad in (None, {}, {"number": ""}, {"number": "А1", "people_ahead": "3"}):
        with pytest.raises(ViewError):
            views.Ticket.from_payload(bad)
