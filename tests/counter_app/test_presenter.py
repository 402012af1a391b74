"""The counter presenter on a FakeBus: every action, rule and error path, no Kivy."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.errors import HubUnreachable
from counter_app import presenter as pm
from counter_app.demo import DemoHub
from counter_app.presenter import CounterPresenter, format_duration, norm_level
from tests.counter_app.helpers import CONFIG, QUEUE, WINDOW, FakeClock, ScriptedHub, refuse, ticket, window


def make(hub: ScriptedHub, *, state=None, signed_in=True, clock=None, **kwargs) -> CounterPresenter:
    clock = clock or FakeClock()
    hub.bus.set_state("config", CONFIG)
    hub.bus.set_state("queue", QUEUE)
    if state is not None:
        hub.bus.set_state(f"window/{WINDOW}", state)
    p = CounterPresenter(hub.bus, WINDOW, now=clock.now, monotonic=clock.monotonic, **kwargs)
    if signed_in:
        hub.replies.setdefault("sign_in", {})
        assert p.sign_in("ivanova", "1234")
        hub.bus.sent.clear()
    return p


def enabled(p: CounterPresenter) -> set[str]:
    return {a for a, b in p.view.buttons.items() if b.enabled}


# --- sign-in -------------------------------------------------------------------------------
def test_sign_in_sends_operator_and_pin_and_shows_main_screen():
    hub = ScriptedHub(sign_in={"window": window("closed")})
    p = make(hub, signed_in=False)
    assert p.view.screen == pm.SIGN_IN
    assert p.sign_in(" ivanova ", "1234")
    assert hub.bus.sent == [("sign_in", {"window": WINDOW, "operator": "ivanova", "pin": "1234"})]
    view = p.view
    assert view.screen == pm.MAIN
    assert view.operator == "Оператор: Иванова Анна"
    assert view.message == "Вход выполнен"


def test_sign_in_refused_shows_hub_message_in_both_languages():
    hub = ScriptedHub(sign_in=refuse("bad_pin", "Неверный PIN-код", "Wrong PIN"))
    p = make(hub, signed_in=False)
    assert p.sign_in("ivanova", "0000")
    assert p.view.screen == pm.SIGN_IN
    assert (p.view.message, p.view.message_level) == ("Неверный PIN-код", "error")
    p.set_language("en")
    assert p.view.message == "Wrong PIN"
    assert p.view.text["sign_in"] == "Sign in"


def test_sign_in_without_code_or_pin_sends_nothing():
    hub = ScriptedHub()
    p = make(hub, signed_in=False)
    assert not p.sign_in("", "1234")
    assert not p.sign_in("ivanova", "  ")
    assert hub.bus.sent == []
    assert p.view.message == "Введите код оператора и PIN-код"


def test_signed_in_without_window_state_waits_for_it_then_sign_out():
    hub = ScriptedHub()
    p = make(hub)
    assert p.view.screen == pm.LOADING
    assert enabled(p) == set()
    hub.bus.set_state(f"window/{WINDOW}", window("closed"))
    assert p.view.screen == pm.MAIN
    p.sign_out()
    assert p.view.screen == pm.SIGN_IN


# --- window state and what the visitor sees ---------------------------------------------------
@pytest.mark.parametrize("state, kind, tk, state_text, visitor", [
    ("closed", None, None, "Окно закрыто", "Посетитель видит: Окно закрыто"),
    ("paused", "technical", None, "Технический перерыв", "Посетитель видит: Технический перерыв"),
    ("paused", "lunch", None, "Обеденный перерыв", "Посетитель видит: Обеденный перерыв"),
    ("paused", "rest", None, "Перерыв на отдых", "Посетитель видит: Перерыв на отдых"),
    ("open", None, None, "Окно открыто", "Посетитель видит: Окно 3"),
    ("open", None, ticket(), "Окно открыто", "Посетитель видит: Талон А015"),
])
def test_window_state_and_visitor_text(state, kind, tk, state_text, visitor):
    p = make(ScriptedHub(), state=window(state, tk, break_kind=kind))
    assert (p.view.state_text, p.view.visitor_text) == (state_text, visitor)


def test_older_or_foreign_window_state_is_ignored():
    hub = ScriptedHub()
    p = make(hub, state=window("open", ticket(), seq=20))
    hub.bus.set_state(f"window/{WINDOW}", window("closed", seq=19))
    hub.bus.set_state(f"window/{WINDOW}", window("closed", seq=21, n=WINDOW + 1))
    assert p.view.window_state == "open" and p.view.ticket_number == "А015"


# --- which buttons are enabled ------------------------------------------------------------------
@pytest.mark.parametrize("state, tk, expected", [
    ("closed", None, {"open"}),
    ("paused", None, {"open", "close"}),
    ("open", None, {"next", "break", "close"}),
    ("open", ticket(state="called"), {"recall", "start", "no_show", "transfer"}),
    ("open", ticket(state="serving", started_ago_s=5), {"done", "transfer"}),
])
def test_buttons_follow_the_state(state, tk, expected):
    p = make(ScriptedHub(), state=window(state, tk))
    assert enabled(p) == expected


def test_break_while_serving_is_refused_with_the_reason(caplog):
    hub = ScriptedHub()
    p = make(hub, state=window("open", ticket(state="serving", started_ago_s=60)))
    assert p.view.buttons["break"] == pm.ButtonState(False, "Перерыв недоступен во время обслуживания клиента")
    assert not p.pause("lunch")
    assert hub.bus.sent == []
    assert (p.view.message, p.view.message_level) == ("Перерыв недоступен во время обслуживания клиента", "warning")
    assert not p.close()
    assert p.view.message == "Нельзя закрыть окно во время обслуживания клиента"


def test_last_open_window_of_three_may_not_take_a_break():
    hub = ScriptedHub()
    p = make(hub, state=window("open"))
    hub.bus.set_state("queue", dict(QUEUE, windows_open=1))
    assert not p.pause("rest")
    assert hub.bus.sent == []
    assert p.view.message == "Перерыв недоступен: в ЦОК более двух окон, все остальные операторы на перерыве"
    # with two windows configured the rule does not apply
    hub.bus.set_state("config", dict(CONFIG, windows=CONFIG["windows"][1:]))
    assert p.pause("rest")
    assert hub.bus.sent == [("pause", {"window": WINDOW, "kind": "rest"})]


def test_explain_says_why_without_sending():
    hub = ScriptedHub()
    p = make(hub, state=window("closed"))
    assert p.explain("next") == "Окно не открыто"
    assert p.view.message == "Окно не открыто"
    assert p.explain("open") == ""
    assert hub.bus.sent == []


# --- every action is one request --------------------------------------------------------------
CALLED = ticket(state="called")
SERVING = ticket(state="serving", started_ago_s=30)


@pytest.mark.parametrize("state, tk, call, op, args", [
    ("open", None, lambda p: p.next(), "call_next", {}),
    ("open", CALLED, lambda p: p.recall(), "recall", {}),
    ("open", CALLED, lambda p: p.start(), "start", {}),
    ("open", SERVING, lambda p: p.done(), "finish", {}),
    ("open", SERVING, lambda p: p.done(outcome="terminated", accounts=2), "finish",
     {"outcome": "terminated", "accounts": 2}),
    ("open", CALLED, lambda p: p.no_show(), "no_show", {}),
    ("open", SERVING, lambda p: p.transfer(topic="K"), "transfer", {"topic": "K"}),
    ("open", CALLED, lambda p: p.transfer(to_window=2), "transfer", {"to_window": 2}),
    ("open", None, lambda p: p.pause("technical"), "pause", {"kind": "technical"}),
    ("open", None, lambda p: p.pause("lunch"), "pause", {"kind": "lunch"}),
    ("open", None, lambda p: p.close(), "close", {}),
    ("paused", None, lambda p: p.close(), "close", {}),
    ("closed", None, lambda p: p.open(), "open", {}),
    ("paused", None, lambda p: p.open(), "open", {}),
])
def test_each_action_sends_its_op(state, tk, call, op, args):
    hub = ScriptedHub()
    p = make(hub, state=window(state, tk))
    assert call(p)
    assert hub.bus.sent == [(op, {"window": WINDOW, **args})]


@pytest.mark.parametrize("call", [
    lambda p: p.transfer(),
    lambda p: p.transfer(topic="K", to_window=2),
    lambda p: p.pause("nap"),
    lambda p: p.done(outcome="perfect"),
    lambda p: p.done(accounts=0),
    lambda p: p.press("dance"),
])
def test_bad_action_arguments_are_programming_errors(call):
    p = make(ScriptedHub(), state=window("open", SERVING))
    with pytest.raises(ValueError):
        call(p)


def test_choices_lead_to_the_same_requests():
    hub = ScriptedHub()
    p = make(hub, state=window("open", SERVING))
    view = p.view
    assert [c.label for c in view.break_choices] == ["Технический перерыв", "Обеденный перерыв", "Перерыв на отдых"]
    assert [c.key for c in view.outcome_choices] == ["done", "needs_followup", "terminated"]
    assert [c.key for c in view.transfer_choices] == ["topic:K", "topic:P", "window:1", "window:2"]
    assert p.choose("transfer", "window:2")
    assert hub.bus.sent[-1] == ("transfer", {"window": WINDOW, "to_window": 2})


def test_next_updates_the_ticket_at_once_and_the_state_confirms():
    clock = FakeClock()
    hub = ScriptedHub(call_next={"ticket": {"number": "К007", "topic": "K", "state": "called"}})
    p = make(hub, state=window("open"), clock=clock)
    assert p.next()
    view = p.view
    assert (view.ticket_number, view.ticket_topic, view.ticket_text) == ("К007", "К · Платежные документы", "Вызван")
    assert view.message == "Вызван талон К007"
    assert (view.timer_label, view.timer_text, view.timer_level) == ("Ожидание клиента", "00:00", "none")
    assert view.visitor_text == "Посетитель видит: Талон К007"
    clock.advance(42)
    assert p.tick().timer_text == "00:42"
    hub.bus.set_state(f"window/{WINDOW}", window("open", ticket("К007", topic="K", called_ago_s=50, now=clock.now()), seq=11))
    assert p.view.timer_text == "00:50"


def test_next_on_an_empty_queue_says_so():
    hub = ScriptedHub(call_next={"ticket": None})
    p = make(hub, state=window("open"))
    assert p.next()
    assert p.view.ticket_number == "" and p.view.message == "Очередь пуста — ожидающих клиентов нет"


def test_start_then_done_clear_the_ticket():
    hub = ScriptedHub(start={"ticket": {"number": "А015"}}, finish={"ticket": {"number": "А015", "state": "done"}})
    p = make(hub, state=window("open", CALLED), rating="off")
    assert p.start()
    assert p.view.ticket_state == "serving" and p.view.timer_label == "Время приёма"
    assert p.done()
    assert p.view.ticket_number == "" and p.view.rating_phase is None
    assert enabled(p) == {"next", "break", "close"}


def test_transfer_and_no_show_clear_the_ticket():
    hub = ScriptedHub(transfer={"ticket": {"number": "А015", "state": "waiting"}})
    p = make(hub, state=window("open", CALLED))
    assert p.transfer(topic="K")
    assert p.view.ticket_number == "" and p.view.message == "Талон А015 перенаправлен"
    hub.bus.set_state(f"window/{WINDOW}", window("open", ticket("А016"), seq=30))
    assert p.no_show()
    assert p.view.ticket_number == "" and p.view.rating_phase is None


def test_break_and_close_replies_update_the_window():
    hub = ScriptedHub(pause=lambda a: {"window": window("paused", break_kind=a["kind"])},
                      close={"window": window("closed")})
    p = make(hub, state=window("open"))
    assert p.pause("lunch")
    assert p.view.state_text == "Обеденный перерыв" and enabled(p) == {"open", "close"}
    assert p.close()
    assert p.view.state_text == "Окно закрыто" and enabled(p) == {"open"}


# --- errors -----------------------------------------------------------------------------------
def test_command_error_is_shown_in_russian_and_english():
    hub = ScriptedHub(call_next=refuse("window_busy", "Окно занято", "The window is busy"))
    p = make(hub, state=window("open"))
    assert p.next()
    assert (p.view.message, p.view.message_level) == ("Окно занято", "error")
    p.toggle_language()
    assert p.view.message == "The window is busy"
    assert p.view.buttons["next"].enabled  # nothing stuck in flight


def test_hub_unreachable_is_shown_at_once_and_the_next_press_works():
    hub = ScriptedHub(call_next=HubUnreachable())
    p = make(hub, state=window("open"))
    assert p.next()
    assert (p.view.message, p.view.message_level) == ("Нет связи с сервером очереди — действие не выполнено", "error")
    hub.replies["call_next"] = {"ticket": {"number": "А001", "topic": "A"}}
    assert p.next()
    assert p.view.ticket_number == "А001"


def test_unexpected_failure_is_reported_not_raised():
    hub = ScriptedHub(call_next=RuntimeError("boom"))
    p = make(hub, state=window("open"))
    assert p.next()
    assert p.view.message == "Внутренняя ошибка терминала — действие не выполнено"
    assert not p.view.busy


def test_disconnected_refuses_every_action_with_the_reason():
    hub = ScriptedHub()
    p = make(hub, state=window("open", CALLED))
    hub.bus.set_connected(False)
    reason = "Нет связи с сервером очереди — действие не выполнено"
    assert all(b == pm.ButtonState(False, reason) for b in p.view.buttons.values())
    for call in (p.recall, p.start, p.no_show, lambda: p.transfer(topic="K")):
        assert call() is False
        assert (p.view.message, p.view.message_level) == (reason, "error")
    assert hub.bus.sent == []
    assert not p.view.connected
    hub.bus.set_connected(True)
    assert p.view.connected and p.view.message == ""
    assert enabled(p) == {"recall", "start", "no_show", "transfer"}


def test_disconnected_sign_in_is_refused_too():
    hub = ScriptedHub()
    p = make(hub, signed_in=False)
    hub.bus.set_connected(False)
    assert not p.sign_in("ivanova", "1234")
    assert p.view.message == "Нет связи с сервером очереди — действие не выполнено"


# --- debounce ---------------------------------------------------------------------------------
def test_second_press_while_in_flight_is_ignored():
    jobs = []
    hub = ScriptedHub(call_next={"ticket": {"number": "А001", "topic": "A"}})
    p = make(hub, state=window("open"), runner=jobs.append)
    jobs.pop()()  # the sign-in
    hub.bus.sent.clear()
    assert p.next() is True
    assert p.next() is False          # double press: ignored
    assert p.recall() is False        # any other press too
    assert p.view.busy and not any(b.enabled for b in p.view.buttons.values())
    assert len(jobs) == 1
    jobs.pop()()
    assert hub.ops() == ["call_next"]
    assert not p.view.busy and p.view.ticket_number == "А001"
    assert p.start() is True


def test_press_from_inside_the_request_is_ignored():
    seen = []
    hub = ScriptedHub()
    p = make(hub, state=window("open"))
    hub.replies["call_next"] = lambda args: seen.append(p.next()) or {"ticket": None}
    assert p.next()
    assert seen == [False] and hub.ops() == ["call_next"]


# --- timer colours ----------------------------------------------------------------------------
@pytest.mark.parametrize("elapsed_s, level", [
    (0, "within"), (479, "within"), (480, "near"), (599, "near"), (600, "near"), (601, "over"), (3600, "over"),
])
def test_service_timer_colour_against_the_topic_norm(elapsed_s, level):
    clock = FakeClock()
    hub = ScriptedHub()
    p = make(hub, state=window("open", ticket(state="serving", started_ago_s=0)), clock=clock)  # A: 10 min norm
    clock.advance(elapsed_s)
    view = p.tick()
    assert view.timer_level == level
    assert view.timer_text == format_duration(elapsed_s)
    assert view.norm_text == "норматив 10 мин"


def test_topic_without_service_norm_is_never_coloured():
    clock = FakeClock()
    p = make(ScriptedHub(), state=window("open", ticket("К001", "serving", "K", started_ago_s=0)), clock=clock)
    clock.advance(10_000)
    view = p.tick()
    assert (view.timer_level, view.norm_text) == ("none", "норматив не задан")


def test_norm_level_and_duration_format():
    assert norm_level(7.9, 10) == "within" and norm_level(8, 10) == "near" and norm_level(10.01, 10) == "over"
    assert norm_level(100, None) == "none" and norm_level(1, 0) == "none"
    assert format_duration(-5) == "00:00" and format_duration(462) == "07:42" and format_duration(3725) == "1:02:05"


def test_queue_rows_for_this_windows_topics():
    p = make(ScriptedHub(), state=window("open"))
    rows = p.view.queue
    assert [r.code for r in rows] == ["A", "K"]  # not P: another window's topic
    assert (rows[0].label, rows[0].waiting, rows[0].text, rows[0].over_norm) == (
        "А · Договоры", 3, "ожидают: 3 · дольше всех: 8 мин", False)
    assert (rows[1].waiting, rows[1].over_norm) == (1, True)  # 6 min against a 5 min wait norm


# --- rating -----------------------------------------------------------------------------------
def finished(hub_kwargs=None, **kwargs):
    hub = ScriptedHub(finish={"ticket": {"number": "А015", "state": "done"}}, **(hub_kwargs or {}))
    clock = kwargs.pop("clock", FakeClock())
    p = make(hub, state=window("open", SERVING), clock=clock, rating_timeout_s=30, thanks_s=5, **kwargs)
    assert p.done()
    hub.bus.sent.clear()
    return hub, p, clock


def test_rating_after_done_then_thanks_then_back():
    hub, p, clock = finished()
    view = p.view
    assert (view.screen, view.rating_ticket, view.rating_phase) == (pm.RATING, "А015", "ask")
    assert view.text["rate_prompt"] == "Оцените, пожалуйста, качество обслуживания"
    assert [c.label for c in view.rating_choices] == ["Отлично", "Хорошо", "Удовлетворительно", "Плохо", "Очень плохо"]
    assert "8-800-100-00-00" in view.rating_footer
    assert p.rate(4)
    assert hub.bus.sent == [("rate", {"window": WINDOW, "ticket": "А015", "score": 4})]
    view = p.view
    assert view.screen == pm.THANKS
    assert (view.text["rate_thanks"], view.text["rate_thanks_2"]) == ("Спасибо за Вашу оценку!", "Рады были помочь")
    assert not p.rate(5)  # one rating per ticket
    clock.advance(4.9)
    assert p.tick().screen == pm.THANKS
    clock.advance(0.2)
    assert p.tick().screen == pm.MAIN
    assert len(hub.bus.sent) == 1


def test_rating_is_skipped_gracefully_on_timeout():
    hub, p, clock = finished()
    clock.advance(29)
    assert p.tick().screen == pm.RATING
    clock.advance(1)
    view = p.tick()
    assert (view.screen, view.rating_phase, view.message_level) == (pm.MAIN, None, "")
    assert hub.bus.sent == []
    assert not p.rate(5)


def test_rating_failure_is_shown_and_the_prompt_stays():
    hub, p, clock = finished({"rate": HubUnreachable()})
    assert p.rate(2)
    view = p.view
    assert view.screen == pm.RATING
    assert view.message == "Оценка не сохранена: Нет связи с сервером очереди — действие не выполнено"
    hub.replies["rate"] = {}
    assert p.rate(2)
    assert p.view.screen == pm.THANKS


def test_rating_handed_to_an_external_panel_keeps_the_operator_screen():
    hub, p, clock = finished(rating="external")
    view = p.view
    assert (view.screen, view.rating_phase, view.rating_ticket) == (pm.MAIN, "ask", "А015")
    assert p.rate(5)
    assert p.view.rating_phase == "thanks" and p.view.screen == pm.MAIN


def test_rating_off_and_rate_without_prompt():
    hub, p, clock = finished(rating="off")
    assert p.view.rating_phase is None
    with pytest.raises(ValueError):
        p.rate(6)
    assert not p.rate(5)
    assert hub.bus.sent == []


def test_operator_can_skip_the_rating():
    hub, p, clock = finished()
    p.skip_rating()
    assert p.view.screen == pm.MAIN


# --- against the demo hub: the presenter's rules never ask for an illegal transition ----------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["next", "recall", "start", "done", "no_show", "transfer", "break",
                                 "close", "open", "rate"]), max_size=40))
def test_enabled_actions_are_accepted_by_the_hub(presses):
    hub = DemoHub(waiting={"A": 4, "K": 2, "P": 0})
    hub.handle("open", {"window": 2})
    hub.handle("open", {"window": 3})
    p = CounterPresenter(hub.bus, 1)
    assert p.sign_in("ivanova", "1234")
    for action in presses:
        view = p.view
        if action == "rate":
            sent = p.rate(5)
            assert sent == (view.rating_phase == "ask")
            continue
        options = {"transfer": {"topic": "K"}, "break": {"kind": "lunch"}}.get(action, {})
        sent = p.press(action, **options)
        assert sent == view.buttons[action].enabled
        if sent:
            assert p.view.message_level != "error", (action, p.view.message)
