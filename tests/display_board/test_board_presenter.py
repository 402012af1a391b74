"""Hall board and per-window presenters on FakeBus, with an injected clock."""
from datetime import datetime, timedelta, timezone

import pytest

from broker.fake_bus import FakeBus
from display_board.hall import BoardPresenter, Call
from display_board.window import WindowPresenter

NOW = datetime(2025, 3, 3, 10, 30, tzinfo=timezone(timedelta(hours=5)))

CONFIG = {
    "v": 1,
    "office": {"id": "mek", "name": {"ru": "Офис-центр", "en": "Office centre"}, "timezone": "Asia/Yekaterinburg"},
    "topics": [{"code": "A", "prefix": "А", "name": {"ru": "Платёжные документы", "en": "Bills"}},
               {"code": "K", "prefix": "К", "name": {"ru": "Консультация", "en": "Advice"}}],
    "windows": [{"number": 1, "topics": ["A"]}, {"number": 2, "topics": ["A", "K"]}, {"number": 3, "topics": ["K"]}],
    "board": {"history": 4, "min_display_s": 10, "notice": {"ru": "Ведётся видео- и аудиозапись", "en": "CCTV"}},
    "sound": {"voice": True, "repeat": 2},
}


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class FakeAnnouncer:
    def __init__(self):
        self.calls = []
        self.config = {}

    def announce(self, ticket, window, recall=False):
        self.calls.append((ticket, window, recall))

    def configure(self, **kw):
        self.config.update(kw)


def called(seq, ticket, window, kind="called", recalls=0, at=None):
    return {"v": 1, "seq": seq, "at": at or NOW.isoformat(), "kind": kind, "ticket": ticket, "topic": "A",
            "window": window, "data": {"recalls": recalls}}


def board_state(seq, calls):
    return {"v": 1, "seq": seq, "calls": [{"ticket": t, "window": w, "topic": "A", "at": NOW.isoformat(),
                                           "recalls": r} for t, w, r in calls]}


@pytest.fixture
def hall():
    bus, clock, announcer = FakeBus(), FakeClock(), FakeAnnouncer()
    bus.set_state("config", CONFIG)
    models = []
    presenter = BoardPresenter(bus, announcer=announcer, clock=clock, now=lambda: NOW)
    presenter.on_change(models.append)
    presenter.start()
    return bus, clock, announcer, presenter, models


def tickets(model):
    return [c.ticket for c in model.history]


def test_board_shows_office_clock_notice_and_headers(hall):
    bus, clock, announcer, p, models = hall
    m = p.model
    assert (m.office, m.clock, m.notice) == ("Офис-центр", "10:30", "Ведётся видео- и аудиозапись")
    assert (m.header_ticket, m.header_window) == ("Талон", "Окно")
    assert m.now_calling is None and m.connected and m.offline_text == ""
    assert announcer.config == {"repeat": 2, "voice": True}


def test_board_call_is_shown_listed_and_announced(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А015", 3))
    m = p.model
    assert m.now_calling == Call("А015", 3, "A", NOW.isoformat(), 0)
    assert m.now_calling_line == "Приглашается талон А015 в окно 3"
    assert tickets(m) == ["А015"]
    assert announcer.calls == [("А015", 3, False)]


def test_board_min_display_time_queues_calls_in_order(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    clock.t += 3
    bus.emit(called(2, "А002", 2))
    bus.emit(called(3, "К001", 3))
    m = p.model
    assert m.now_calling.ticket == "А001"                 # still within its 10 s
    assert tickets(m) == ["К001", "А002", "А001"]         # but everyone is listed at once
    assert m.waiting_to_show == 2
    assert [a[0] for a in announcer.calls] == ["А001", "А002", "К001"]
    clock.t += 6.9
    assert p.tick().now_calling.ticket == "А001"
    clock.t += 0.2
    assert p.tick().now_calling.ticket == "А002"
    clock.t += 9
    assert p.tick().now_calling.ticket == "А002"
    clock.t += 1
    m = p.tick()
    assert m.now_calling.ticket == "К001" and m.waiting_to_show == 0
    revs = sorted({x.now_calling_rev for x in models})
    assert revs == [0, 1, 2, 3]


def test_board_after_min_time_a_new_call_replaces_at_once(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    clock.t += 10
    bus.emit(called(2, "А002", 2))
    assert p.model.now_calling.ticket == "А002"


def test_board_history_keeps_last_n_and_cli_override(hall):
    bus, clock, announcer, p, models = hall
    for i in range(1, 8):
        bus.emit(called(i, f"А{i:03d}", 1 + i % 3))
    assert tickets(p.model) == ["А007", "А006", "А005", "А004"]   # board.history = 4
    p2 = BoardPresenter(bus, history=2, clock=FakeClock(), now=lambda: NOW).start()
    bus.emit(called(8, "А008", 1))
    bus.emit(called(9, "А009", 1))
    assert tickets(p2.model) == ["А009", "А008"]


def test_board_recall_re_announces_and_moves_to_top(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    bus.emit(called(2, "А002", 2))
    clock.t += 10
    p.tick()                                             # А002 takes the big slot
    clock.t += 10
    bus.emit(called(3, "А001", 1, kind="recalled", recalls=1))
    m = p.tick()
    assert announcer.calls[-1] == ("А001", 1, True)
    assert tickets(m) == ["А001", "А002"]                 # not listed twice
    assert m.now_calling == Call("А001", 1, "A", NOW.isoformat(), 1)
    assert m.now_calling_line == "Повторно приглашается талон А001 в окно 1"


def test_board_duplicate_event_is_not_announced_twice(hall):
    bus, clock, announcer, p, models = hall
    ev = called(1, "А001", 1)
    bus.emit(ev)
    bus.emit(ev)                                         # QoS 1 redelivery
    bus.set_state("board", board_state(1, [("А001", 1, 0)]))   # the retained state agrees
    assert announcer.calls == [("А001", 1, False)]


def test_board_initial_retained_state_is_shown_not_announced():
    bus, announcer = FakeBus(), FakeAnnouncer()
    bus.set_state("config", CONFIG)
    bus.set_state("board", board_state(40, [("А010", 2, 0), ("А009", 1, 0)]))
    p = BoardPresenter(bus, announcer=announcer, clock=FakeClock(), now=lambda: NOW).start()
    assert p.model.now_calling.ticket == "А010" and tickets(p.model) == ["А010", "А009"]
    assert announcer.calls == []
    bus.emit(called(41, "А011", 3))
    assert announcer.calls == [("А011", 3, False)] and p.resyncs == 0


def test_board_seq_gap_resyncs_from_retained_state(hall):
    bus, clock, announcer, p, models = hall
    hub_board = board_state(5, [("А005", 3, 0), ("К004", 2, 0), ("А003", 1, 0), ("А002", 2, 0)])
    bus.reread_state = lambda name: bus.set_state(name, hub_board)   # what the hub holds now
    bus.emit(called(1, "А001", 1))
    bus.emit(called(2, "А002", 2))
    # events 3 and 4 are lost on the way; event 5 shows the gap
    bus.emit(called(5, "А005", 3))
    m = p.model
    assert p.resyncs == 1
    assert tickets(m) == ["А005", "К004", "А003", "А002"]
    assert [a[0] for a in announcer.calls] == ["А001", "А002", "А003", "К004", "А005"]  # once each, in order


def test_board_retained_state_ahead_of_events_fills_the_gap(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    bus.set_state("board", board_state(3, [("А003", 1, 0), ("К002", 2, 0), ("А001", 1, 0)]))
    bus.emit(called(3, "А003", 1))                       # already known from the state
    assert tickets(p.model) == ["А003", "К002", "А001"]
    assert [a[0] for a in announcer.calls] == ["А001", "К002", "А003"]


def test_board_seq_gap_asks_the_bus_to_reread(hall):
    bus, clock, announcer, p, models = hall
    asked = []
    bus.reread_state = asked.append
    bus.emit(called(1, "А001", 1))
    bus.emit(called(7, "А007", 1))
    assert asked == ["board"] and p.resyncs == 1


def test_board_stale_missed_calls_are_listed_but_not_announced(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    old = (NOW - timedelta(minutes=30)).isoformat()
    state = board_state(3, [("А003", 2, 0), ("А002", 2, 0), ("А001", 1, 0)])
    state["calls"][1]["at"] = old
    bus.set_state("board", state)
    assert tickets(p.model) == ["А003", "А002", "А001"]
    assert [a[0] for a in announcer.calls] == ["А001", "А003"]


def test_board_disconnect_badge_keeps_last_state_and_reconnect_resyncs(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    bus.set_connected(False)
    m = p.model
    assert not m.connected and m.offline_text == "Нет связи с 10:30"
    assert tickets(m) == ["А001"] and m.now_calling.ticket == "А001"
    bus.set_state("board", board_state(2, [("А002", 2, 0), ("А001", 1, 0)]))   # re-delivered on reconnect
    bus.set_connected(True)
    m = p.model
    assert m.connected and m.offline_text == "" and p.resyncs == 1
    assert tickets(m) == ["А002", "А001"]
    assert announcer.calls[-1] == ("А002", 2, False)


def test_board_grid_mode_shows_each_window(hall):
    bus = FakeBus()
    bus.set_state("config", CONFIG)
    bus.set_state("window/2", {"v": 1, "seq": 1, "window": 2, "state": "paused", "break_kind": "technical",
                               "ticket": None, "topics": ["A", "K"]})
    p = BoardPresenter(bus, grid=True, clock=FakeClock(), now=lambda: NOW).start()
    bus.emit(called(2, "А001", 1))
    bus.emit({"v": 1, "seq": 3, "kind": "window_closed", "window": 3, "data": {}})
    grid = {c.window: c for c in p.model.grid}
    assert grid[1].ticket == "А001" and grid[1].status == ""
    assert grid[2].status == "Технический перерыв" and grid[2].ticket == ""
    assert grid[3].status == "Окно закрыто" and grid[3].state == "closed"
    assert p.model.grid_mode


def test_board_english(hall):
    bus = FakeBus()
    bus.set_state("config", CONFIG)
    p = BoardPresenter(bus, lang="en", clock=FakeClock(), now=lambda: NOW).start()
    bus.emit(called(1, "А001", 2))
    m = p.model
    assert (m.office, m.header_ticket, m.header_window) == ("Office centre", "Ticket", "Window")
    assert m.now_calling_line == "Ticket А001, please go to window 2"


def test_board_no_voice_overrides_config(hall):
    bus, announcer = FakeBus(), FakeAnnouncer()
    BoardPresenter(bus, announcer=announcer, voice=False, clock=FakeClock(), now=lambda: NOW).start()
    bus.set_state("config", CONFIG)
    assert announcer.config["voice"] is False


def test_board_ignores_malformed_state(hall):
    bus, clock, announcer, p, models = hall
    bus.set_state("board", {"v": 1, "seq": 9, "calls": [{"window": 1}]})
    bus.emit({"v": 1, "seq": 10, "kind": "called"})          # no ticket: ignored
    assert p.model.history == ()


# --------------------------------------------------------------------------- one window


def window_state(state="open", ticket=None, break_kind=None, seq=1):
    return {"v": 1, "seq": seq, "window": 2, "state": state, "break_kind": break_kind,
            "operator": {"code": "ivanova", "name": "Иванова Анна"} if state == "open" else None,
            "ticket": {"number": ticket, "topic": "A", "state": "called", "recalls": 0} if ticket else None,
            "topics": ["A", "K"]}


@pytest.fixture
def win():
    bus = FakeBus()
    bus.set_state("config", CONFIG)
    p = WindowPresenter(bus, 2, clock=FakeClock(), now=lambda: NOW).start()
    return bus, p


def test_board_window_idle_lists_topics(win):
    bus, p = win
    bus.set_state("window/2", window_state())
    m = p.model
    assert m.title == "Окно 2" and m.idle and m.ticket == "" and m.status == ""
    assert m.topics == "Платёжные документы, Консультация"
    assert m.operator == "Вас обслуживает: Иванова Анна"


def test_board_window_shows_current_ticket(win):
    bus, p = win
    bus.set_state("window/2", window_state(ticket="А015"))
    assert p.model.ticket == "А015" and not p.model.idle
    bus.emit(called(2, "К003", 2))                         # the event is faster than the state
    assert p.model.ticket == "К003"
    bus.emit(called(3, "А099", 1))                         # another window: no change
    assert p.model.ticket == "К003"
    bus.emit({"v": 1, "seq": 4, "kind": "finished", "ticket": "К003", "window": 2, "data": {}})
    assert p.model.ticket == "" and p.model.idle


@pytest.mark.parametrize("state, kind, text", [
    ("closed", None, "Окно закрыто"), ("paused", "technical", "Технический перерыв"),
    ("paused", "lunch", "Обеденный перерыв"), ("paused", "rest", "Перерыв"),
])
def test_board_window_states(win, state, kind, text):
    bus, p = win
    bus.set_state("window/2", window_state(state, break_kind=kind))
    m = p.model
    assert m.status == text and m.ticket == "" and not m.idle and m.operator == ""


def test_board_window_pause_event_and_disconnect(win):
    bus, p = win
    bus.set_state("window/2", window_state(ticket="А015"))
    bus.emit({"v": 1, "seq": 5, "kind": "window_paused", "window": 2, "data": {"kind": "lunch"}})
    assert p.model.status == "Обеденный перерыв"
    bus.set_connected(False)
    assert p.model.offline_text == "Нет связи с 10:30" and p.model.status == "Обеденный перерыв"
    bus.set_connected(True)
    assert p.model.offline_text == ""


# --------------------------------------------------------------------------- threads and the bus


def test_board_bus_callbacks_hop_once_to_the_presenter_thread():
    bus, queued = FakeBus(), []
    p = BoardPresenter(bus, clock=FakeClock(), now=lambda: NOW)
    p.start(post=lambda fn, *args: queued.append((fn, args)))     # e.g. Kivy's Clock.schedule_once
    bus.set_state("config", CONFIG)
    bus.emit(called(1, "А001", 1))
    assert p.model.now_calling is None and len(queued) == 2      # nothing ran on the bus thread
    for fn, args in queued:
        fn(*args)
    assert p.model.now_calling.ticket == "А001" and p.model.office == "Офис-центр"


def test_board_seq_gap_heals_from_what_the_broker_retains(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А001", 1))
    bus.set_state("board", board_state(2, [("А002", 2, 0), ("А001", 1, 0)]), deliver=False)   # missed
    bus.emit({"v": 1, "seq": 3, "kind": "issued", "ticket": "А003", "topic": "A", "data": {}})
    assert bus.rereads == ["board"] and p.follower.gaps == 1
    assert tickets(p.model) == ["А002", "А001"]
    assert announcer.calls == [("А001", 1, False), ("А002", 2, False)]


def test_board_recall_count_comes_from_the_event():
    bus = FakeBus()
    bus.set_state("config", CONFIG)
    p = BoardPresenter(bus, min_display_s=0, clock=FakeClock(), now=lambda: NOW).start()
    bus.emit(called(1, "А001", 1))
    bus.emit(called(2, "А001", 1, kind="recalled", recalls=3))
    assert p.model.now_calling.recalls == 3 and tickets(p.model) == ["А001"]


def test_window_display_seq_gap_rereads_its_window(win):
    bus, p = win
    bus.set_state("window/2", window_state(seq=1))
    bus.set_state("window/2", window_state(ticket="К007", seq=3), deliver=False)
    bus.emit(called(3, "К007", 1))                           # another window's call shows the gap
    assert bus.rereads == ["window/2"] and p.model.ticket == "К007"


def notice(seq, text, at=None):
    return {"v": 1, "seq": seq, "text": text, "at": at or NOW.isoformat()}


def test_board_shows_the_staff_announcement_in_place_of_the_notice(hall):
    bus, clock, announcer, p, models = hall
    bus.set_state("notice", notice(3, "Окно 3 закрыто до 14:00"))
    assert (p.model.notice, p.model.announcement) == ("Окно 3 закрыто до 14:00", True)
    bus.set_state("notice", {"v": 1, "seq": 4, "text": 42})             # malformed: ignored, kept
    assert p.model.notice == "Окно 3 закрыто до 14:00"
    bus.set_state("notice", notice(5, ""))                               # cleared: the configured one again
    assert (p.model.notice, p.model.announcement) == ("Ведётся видео- и аудиозапись", False)


def test_board_ignores_a_visitor_leaving_the_queue(hall):
    bus, clock, announcer, p, models = hall
    bus.emit(called(1, "А015", 3))
    before = p.model
    bus.emit({"v": 1, "seq": 2, "at": NOW.isoformat(), "kind": "left", "ticket": "А016", "topic": "A",
              "window": None, "data": {}})
    assert p.model == before and announcer.calls == [("А015", 3, False)] and p.resyncs == 0
