"""The counter presenter, no Kivy: on a scripted FakeBus for every request and error path,
and on the real dispatcher (``hub.local.LocalHub``) for what the hub allows."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.errors import CommandError, HubUnreachable
from counter_app import view as pm
from counter_app.actions import DONE, OPS
from counter_app.presenter import CounterPresenter
from counter_app.view import format_duration, norm_level
from tests.counter_app.helpers import (
    CONFIG,
    PER_ACCOUNT_CONFIG,
    QUEUE,
    WINDOW,
    FakeClock,
    RealHub,
    ScriptedHub,
    atom_office,
    refuse,
    ticket,
    window,
)

# what a hub lists in state/window.actions (the real lists are checked against the dispatcher below)
FREE = ("call_next", "pause", "close")
CALLED_ACTIONS = ("recall", "start", "no_show", "transfer")
SERVING_ACTIONS = ("finish", "transfer")
CALLED = ticket(state="called")
SERVING = ticket(state="serving", started_ago_s=30)


def make(hub: ScriptedHub, *, state=None, signed_in=True, clock=None, config=CONFIG, **kwargs) -> CounterPresenter:
    clock = clock or FakeClock()
    hub.bus.set_state("config", config)
    hub.bus.set_state("queue", QUEUE)
    if state is not None:
        hub.bus.set_state(f"window/{WINDOW}", state)
    p = CounterPresenter(hub.bus, WINDOW, now=clock.now, monotonic=clock.monotonic, **kwargs).start()
    if signed_in:
        hub.replies.setdefault("sign_in", {})
        assert p.sign_in("ivanova", "1234")
        hub.bus.sent.clear()
    return p


def enabled(p: CounterPresenter) -> set[str]:
    return set(p.view.enabled)


# --- sign-in -------------------------------------------------------------------------------
def test_sign_in_sends_operator_and_pin_and_shows_main_screen():
    hub = ScriptedHub(sign_in={"window": window("closed", actions=["open"])})
    p = make(hub, signed_in=False)
    assert p.view.screen == pm.SIGN_IN
    assert p.sign_in(" ivanova ", "1234")
    assert hub.bus.sent == [("sign_in", {"window": WINDOW, "operator": "ivanova", "pin": "1234"})]
    view = p.view
    assert view.screen == pm.MAIN and view.window_state == "closed" and enabled(p) == {"open"}
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
    assert p.explain("next") == "Нет данных об окне от сервера — подождите, пожалуйста"
    hub.bus.set_state(f"window/{WINDOW}", window("closed", actions=["open"]))
    assert p.view.screen == pm.MAIN
    p.sign_out()
    assert p.view.screen == pm.SIGN_IN


def test_nothing_is_followed_before_start():
    hub = ScriptedHub()
    hub.bus.set_state(f"window/{WINDOW}", window("open", actions=FREE))
    p = CounterPresenter(hub.bus, WINDOW)
    assert p.view.window_state is None
    p.start()
    assert p.view.window_state == "open"


def test_bus_callbacks_go_through_post_once():
    posted = []
    hub = ScriptedHub()
    p = CounterPresenter(hub.bus, WINDOW).start(post=lambda fn, *args: posted.append((fn, args)))
    hub.bus.set_state(f"window/{WINDOW}", window("open", actions=FREE))
    assert p.view.window_state is None           # not applied on the bus's thread
    for fn, args in posted:
        fn(*args)
    assert p.view.window_state == "open"


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


def test_older_foreign_or_malformed_window_state_is_ignored():
    hub = ScriptedHub()
    p = make(hub, state=window("open", ticket(), seq=20))
    hub.bus.set_state(f"window/{WINDOW}", window("closed", seq=19))
    hub.bus.set_state(f"window/{WINDOW}", window("closed", seq=21, n=WINDOW + 1))
    hub.bus.set_state(f"window/{WINDOW}", dict(window("closed", seq=22), state="flying"))
    assert p.view.window_state == "open" and p.view.ticket_number == "А015"


# --- which buttons are enabled: exactly the hub's actions ----------------------------------------
@pytest.mark.parametrize("actions, expected", [
    ((), set()),
    (("open",), {"open"}),
    (("close", "open"), {"open", "close"}),
    (FREE, {"next", "break", "close"}),
    (CALLED_ACTIONS, {"recall", "start", "no_show", "transfer"}),
    (SERVING_ACTIONS, {"done", "transfer"}),
    (("recall", "finish", "no_show", "transfer"), {"recall", "done", "no_show", "transfer"}),  # no Start step
])
def test_buttons_are_the_hubs_actions(actions, expected):
    p = make(ScriptedHub(), state=window("open", CALLED, actions=actions))
    assert enabled(p) == expected


def test_a_disabled_press_says_why_and_sends_nothing():
    hub = ScriptedHub()
    p = make(hub, state=window("open", CALLED, actions=CALLED_ACTIONS))
    reason = "«Перерыв» сейчас недоступно: Окно открыто · Талон А015: Вызван"
    assert p.view.buttons["break"] == pm.ButtonState(False, reason)
    assert not p.pause("lunch")
    assert hub.bus.sent == []
    assert (p.view.message, p.view.message_level) == (reason, "warning")
    assert p.explain("recall") == ""
    p.set_language("en")
    assert p.explain("done") == "«Finish service» is not available now: Window open · Ticket А015: Called"


# --- every action is one request --------------------------------------------------------------
@pytest.mark.parametrize("actions, call, op, args", [
    (FREE, lambda p: p.next(), "call_next", {}),
    (CALLED_ACTIONS, lambda p: p.recall(), "recall", {}),
    (CALLED_ACTIONS, lambda p: p.start_service(), "start", {}),
    (SERVING_ACTIONS, lambda p: p.done(), "finish", {}),
    (SERVING_ACTIONS, lambda p: p.done(outcome="terminated", accounts=2), "finish",
     {"outcome": "terminated", "accounts": 2}),
    (CALLED_ACTIONS, lambda p: p.no_show(), "no_show", {}),
    (SERVING_ACTIONS, lambda p: p.transfer(topic="K"), "transfer", {"topic": "K"}),
    (CALLED_ACTIONS, lambda p: p.transfer(to_window=2), "transfer", {"to_window": 2}),
    (FREE, lambda p: p.pause("technical"), "pause", {"kind": "technical"}),
    (FREE, lambda p: p.pause("lunch"), "pause", {"kind": "lunch"}),
    (FREE, lambda p: p.close(), "close", {}),
    (("open",), lambda p: p.open(), "open", {}),
])
def test_each_action_sends_its_op(actions, call, op, args):
    hub = ScriptedHub()
    p = make(hub, state=window("open", actions=actions))
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
    p = make(ScriptedHub(), state=window("open", SERVING, actions=SERVING_ACTIONS))
    with pytest.raises(ValueError):
        call(p)


def test_choices_lead_to_the_same_requests():
    hub = ScriptedHub()
    p = make(hub, state=window("open", SERVING, actions=SERVING_ACTIONS))
    view = p.view
    assert [c.label for c in view.break_choices] == ["Технический перерыв", "Обеденный перерыв", "Перерыв на отдых"]
    assert [c.key for c in view.outcome_choices] == ["done", "needs_followup", "terminated"]
    assert [c.key for c in view.transfer_choices] == ["topic:K", "topic:P", "window:1", "window:2"]
    assert p.choose("transfer", "window:2")
    assert hub.bus.sent[-1] == ("transfer", {"window": WINDOW, "to_window": 2})


def test_next_says_who_was_called_and_waits_for_the_hubs_window_state():
    clock = FakeClock()
    hub = ScriptedHub(call_next={"ticket": {"number": "К007", "topic": "K", "state": "called"}})
    p = make(hub, state=window("open", actions=FREE), clock=clock)
    assert p.next()
    view = p.view
    assert view.message == "Вызван талон К007"
    assert view.busy and enabled(p) == set()        # debounce until the hub's state arrives
    assert not p.next() and hub.ops() == ["call_next"]
    hub.bus.set_state(f"window/{WINDOW}", window("open", actions=FREE))     # the same state again (seq 10)
    assert p.view.busy
    hub.bus.set_state(f"window/{WINDOW}", window("open", ticket("К007", topic="K", called_ago_s=0, now=clock.now()),
                                                 seq=11, actions=CALLED_ACTIONS))
    view = p.view
    assert (view.ticket_number, view.ticket_topic, view.ticket_text) == ("К007", "К · Платежные документы", "Вызван")
    assert (view.timer_label, view.timer_text, view.timer_level) == ("Ожидание клиента", "00:00", "none")
    assert view.visitor_text == "Посетитель видит: Талон К007" and not view.busy
    clock.advance(42)
    assert p.tick().timer_text == "00:42"


def test_a_window_state_that_never_comes_frees_the_buttons_after_a_while():
    clock = FakeClock()
    hub = ScriptedHub(recall={"ticket": {"number": "А015"}})
    p = make(hub, state=window("open", CALLED, actions=CALLED_ACTIONS), clock=clock)
    assert p.recall()
    assert p.view.busy
    clock.advance(1.9)
    assert p.tick().busy
    clock.advance(0.2)
    assert not p.tick().busy and p.recall()


def test_next_on_an_empty_queue_says_so():
    hub = ScriptedHub(call_next={"ticket": None})
    p = make(hub, state=window("open", actions=FREE))
    assert p.next()
    assert p.view.ticket_number == "" and p.view.message == "Очередь пуста — ожидающих клиентов нет"
    assert not p.view.busy and p.next()


def test_break_and_close_replies_update_the_window():
    hub = ScriptedHub(pause=lambda a: {"window": window("paused", break_kind=a["kind"], seq=11,
                                                        actions=["close", "open"])},
                      close={"window": window("closed", seq=12, actions=["open"])})
    p = make(hub, state=window("open", actions=FREE))
    assert p.pause("lunch")
    assert p.view.state_text == "Обеденный перерыв" and enabled(p) == {"open", "close"}
    assert p.close()
    assert p.view.state_text == "Окно закрыто" and enabled(p) == {"open"}


# --- errors -----------------------------------------------------------------------------------
def test_command_error_is_shown_in_russian_and_english():
    hub = ScriptedHub(call_next=refuse("window_busy", "Окно занято", "The window is busy"))
    p = make(hub, state=window("open", actions=FREE))
    assert p.next()
    assert (p.view.message, p.view.message_level) == ("Окно занято", "error")
    p.toggle_language()
    assert p.view.message == "The window is busy"
    assert p.view.buttons["next"].enabled  # nothing stuck in flight


def test_hub_unreachable_is_shown_at_once_and_the_next_press_works():
    hub = ScriptedHub(call_next=HubUnreachable())
    p = make(hub, state=window("open", actions=FREE))
    assert p.next()
    assert (p.view.message, p.view.message_level) == ("Нет связи с сервером очереди — действие не выполнено", "error")
    hub.replies["call_next"] = {"ticket": None}
    assert p.next()
    assert p.view.message == "Очередь пуста — ожидающих клиентов нет"


def test_unexpected_failure_is_reported_not_raised():
    hub = ScriptedHub(call_next=RuntimeError("boom"))
    p = make(hub, state=window("open", actions=FREE))
    assert p.next()
    assert p.view.message == "Внутренняя ошибка терминала — действие не выполнено"
    assert not p.view.busy


def test_disconnected_refuses_every_action_with_the_reason():
    hub = ScriptedHub()
    p = make(hub, state=window("open", CALLED, actions=CALLED_ACTIONS))
    hub.bus.set_connected(False)
    reason = "Нет связи с сервером очереди — действие не выполнено"
    assert all(b == pm.ButtonState(False, reason) for b in p.view.buttons.values())
    for call in (p.recall, p.start_service, p.no_show, lambda: p.transfer(topic="K")):
        assert call() is False
        assert (p.view.message, p.view.message_level) == (reason, "error")
    assert hub.bus.sent == []
    assert not p.view.connected
    hub.bus.set_connected(True)
    assert p.view.connected and p.view.message == ""
    assert enabled(p) == {"recall", "start", "no_show", "transfer"}
    assert hub.bus.rereads == [f"window/{WINDOW}"]      # the window state is re-read on reconnect


def test_disconnected_sign_in_is_refused_too():
    hub = ScriptedHub()
    p = make(hub, signed_in=False)
    hub.bus.set_connected(False)
    assert not p.sign_in("ivanova", "1234")
    assert p.view.message == "Нет связи с сервером очереди — действие не выполнено"


# --- debounce ---------------------------------------------------------------------------------
def test_second_press_while_in_flight_is_ignored():
    jobs = []
    hub = ScriptedHub(call_next={"ticket": None})
    p = make(hub, state=window("open", actions=FREE), runner=jobs.append)
    jobs.pop()()  # the sign-in
    hub.bus.sent.clear()
    assert p.next() is True
    assert p.next() is False          # double press: ignored
    assert p.close() is False         # any other press too
    assert p.view.busy and not any(b.enabled for b in p.view.buttons.values())
    assert len(jobs) == 1
    jobs.pop()()
    assert hub.ops() == ["call_next"]
    assert not p.view.busy and p.next() is True


def test_press_from_inside_the_request_is_ignored():
    seen = []
    hub = ScriptedHub()
    p = make(hub, state=window("open", actions=FREE))
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
    p = make(hub, state=window("open", SERVING, actions=SERVING_ACTIONS), clock=clock,
             rating_timeout_s=30, thanks_s=5, **kwargs)
    assert p.done()
    hub.bus.set_state(f"window/{WINDOW}", window("open", seq=11, actions=FREE))
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
    assert view.screen == pm.THANKS_SCREEN
    assert (view.text["rate_thanks"], view.text["rate_thanks_2"]) == ("Спасибо за Вашу оценку!", "Рады были помочь")
    assert not p.rate(5)  # one rating per ticket
    clock.advance(4.9)
    assert p.tick().screen == pm.THANKS_SCREEN
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
    assert p.view.screen == pm.THANKS_SCREEN


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


# --- personal accounts per visit (a per-account service norm) ---------------------------------
def serving_per_account(**hub_replies):
    hub = ScriptedHub(**{"finish": {"ticket": {"number": "А015", "state": "done"}}, **hub_replies})
    p = make(hub, state=window("open", SERVING, actions=SERVING_ACTIONS), config=PER_ACCOUNT_CONFIG)
    return hub, p


def test_done_on_a_per_account_topic_asks_how_many_accounts_first():
    hub, p = serving_per_account()
    assert p.asks_accounts() and p.view.norm_text == "норматив 10 мин на лицевой счёт"
    assert p.done()
    view = p.view
    assert hub.bus.sent == [] and view.screen == pm.ACCOUNTS
    assert (view.accounts_phase, view.accounts_count) == ("quick", 1)          # 1 is the default answer
    assert [(c.key, c.label) for c in view.accounts_choices] == [
        ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("more", "5+")]
    assert view.accounts_title == "Талон А015: сколько лицевых счетов обслужено?"
    assert p.choose_accounts("3")
    assert hub.bus.sent == [("finish", {"window": WINDOW, "accounts": 3})]
    assert p.view.screen == pm.RATING and p.view.accounts_phase is None


def test_accounts_keep_the_chosen_outcome():
    hub, p = serving_per_account()
    assert p.choose(DONE, "needs_followup") and p.view.screen == pm.ACCOUNTS
    assert p.choose_accounts("1")
    assert hub.bus.sent == [("finish", {"window": WINDOW, "outcome": "needs_followup", "accounts": 1})]


def test_five_or_more_accounts_on_the_stepper_up_to_99():
    hub, p = serving_per_account()
    assert p.done() and p.choose_accounts("more")
    assert (p.view.screen, p.view.accounts_phase, p.view.accounts_count) == (pm.ACCOUNTS, "stepper", 5)
    for delta in (1, 1, 1, -1):
        p.step_accounts(delta)
    assert p.view.accounts_count == 7 and hub.bus.sent == []
    for _ in range(20):
        p.step_accounts(-1)
    assert p.view.accounts_count == 1
    for _ in range(120):
        p.step_accounts(1)
    assert p.view.accounts_count == 99
    p.step_accounts(-92)
    assert p.finish_accounts()
    assert hub.bus.sent == [("finish", {"window": WINDOW, "accounts": 7})]


def test_cancelled_accounts_prompt_finishes_nothing():
    hub, p = serving_per_account()
    assert p.done() and p.choose_accounts("more")
    p.cancel_accounts()
    assert p.view.screen == pm.MAIN and p.view.accounts_phase is None and hub.bus.sent == []
    assert not p.choose_accounts("2") and not p.finish_accounts()
    assert p.done() and p.view.accounts_phase == "quick"        # asked afresh, from the default 1


def test_done_with_accounts_given_does_not_ask():
    hub, p = serving_per_account()
    assert p.done(accounts=2)
    assert hub.bus.sent == [("finish", {"window": WINDOW, "accounts": 2})] and p.view.screen == pm.RATING


def test_a_failed_finish_keeps_the_accounts_prompt_with_the_reason():
    hub, p = serving_per_account(finish=HubUnreachable())
    assert p.done() and p.choose_accounts("more")
    p.step_accounts(2)
    assert p.finish_accounts()
    view = p.view
    assert (view.screen, view.accounts_count) == (pm.ACCOUNTS, 7)
    assert view.message == "Нет связи с сервером очереди — действие не выполнено"
    hub.replies["finish"] = {"ticket": {"number": "А015", "state": "done"}}
    assert p.finish_accounts() and p.view.screen == pm.RATING
    assert [args.get("accounts") for _op, args in hub.bus.sent] == [7, 7]


def test_the_accounts_prompt_goes_when_the_ticket_does():
    hub, p = serving_per_account()
    assert p.done() and p.view.screen == pm.ACCOUNTS
    hub.bus.set_state(f"window/{WINDOW}", window("open", SERVING, seq=11, actions=SERVING_ACTIONS))
    assert p.view.screen == pm.ACCOUNTS                          # the same ticket, still in service
    hub.bus.set_state(f"window/{WINDOW}", window("open", seq=12, actions=FREE))   # finished elsewhere
    assert p.view.screen == pm.MAIN and not p.choose_accounts("1") and hub.bus.sent == []


def test_a_topic_without_a_per_account_norm_never_asks():
    hub = ScriptedHub(finish={"ticket": {"number": "А015", "state": "done"}})
    p = make(hub, state=window("open", ticket(topic="K", state="serving", started_ago_s=5), actions=SERVING_ACTIONS),
             config=PER_ACCOUNT_CONFIG)
    assert not p.asks_accounts() and p.done()
    assert hub.bus.sent == [("finish", {"window": WINDOW})]


def test_accounts_asked_on_the_real_hub_for_a_per_account_topic_only():
    """АтомЭнергоСбыт: consultation (8 min per personal account) asks, meter readings (per
    visit) does not; the hub stores the accounts with the finished leg."""
    real = RealHub(1, config=atom_office(), waiting={"C": 1, "M": 1})
    p, hub = real.presenter, real.hub
    assert p.sign_in("ivanova", "1234") and p.next() and p.start_service()
    assert p.view.ticket_number == "К001" and p.view.norm_text == "норматив 8 мин на лицевой счёт"
    assert p.done() and p.view.screen == pm.ACCOUNTS
    assert hub.events[-1]["kind"] == "started"                   # nothing finished yet
    assert p.choose_accounts("more")
    p.step_accounts(1)
    assert p.finish_accounts() and p.view.screen == pm.RATING
    finished = hub.events[-1]
    assert (finished["kind"], finished["ticket"], finished["data"]["accounts"]) == ("finished", "К001", 6)
    p.skip_rating()
    assert p.next() and p.start_service() and p.view.ticket_number == "П001"
    assert not p.asks_accounts() and p.done(outcome="done") and p.view.screen == pm.RATING
    assert hub.events[-1]["kind"] == "finished" and hub.events[-1]["data"]["accounts"] == 1


# --- on the real dispatcher ------------------------------------------------------------------
def test_a_day_at_the_counter_on_the_real_hub():
    real = RealHub(1, open_windows=(2, 3))
    p, hub = real.presenter, real.hub
    assert p.view.screen == pm.SIGN_IN
    assert p.sign_in("ivanova", "0000") and p.view.message == "Неверный код оператора или ПИН-код"
    assert p.sign_in("ivanova", "1234")
    assert p.view.window_state == "open" and enabled(p) == {"next", "break", "close"}
    assert p.next() and p.view.ticket_number == "А001" and p.view.message == "Вызван талон А001"
    assert enabled(p) == {"recall", "start", "no_show", "transfer"}
    assert not p.done()                                # Done needs Start (queue.start_step)
    assert p.start_service() and enabled(p) == {"done", "transfer"}
    assert p.view.timer_label == "Время приёма"
    assert p.done(outcome="done") and p.view.screen == pm.RATING
    assert p.rate(5) and p.view.screen == pm.THANKS_SCREEN
    assert hub.events[-1]["kind"] == "rated" and hub.events[-1]["data"] == {"score": 5}
    p.skip_rating()
    assert p.next() and p.transfer(topic="K") and p.view.message == f"Талон {hub.events[-1]['ticket']} перенаправлен"
    assert p.pause("lunch") and p.view.state_text == "Обеденный перерыв" and enabled(p) == {"open", "close"}
    assert p.open() and p.close() and enabled(p) == {"open"}


def test_the_last_open_window_of_three_may_not_take_a_break_on_the_real_hub():
    real = RealHub(1)
    p = real.presenter
    assert p.sign_in("ivanova", "1234")
    assert "break" not in enabled(p)                  # windows 2 and 3 are closed
    assert not p.pause("rest") and p.view.message.startswith("«Перерыв» сейчас недоступно")
    real.hub.request("counter-2", "open", {"window": 2})
    assert "break" in enabled(p)                      # the queue changed: the hub republished window 1
    assert p.pause("rest")


def test_without_the_start_step_done_follows_the_call():
    from hub.local import LocalHub, demo_config
    hub = LocalHub(demo_config(start_step=False), waiting={"A": 1})
    p = CounterPresenter(hub.bus("counter-1"), 1).start()
    assert p.sign_in("ivanova", "1234") and p.next()
    assert enabled(p) == {"recall", "done", "no_show", "transfer"}
    assert p.done()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["next", "recall", "start", "done", "no_show", "transfer", "break",
                                 "close", "open", "rate"]), max_size=30))
def test_the_hub_accepts_exactly_the_enabled_actions(presses):
    """Every enabled button is accepted by the real hub; every disabled one it refuses (or,
    opening an open window, ignores)."""
    real = RealHub(1, waiting={"A": 4, "K": 2, "P": 0}, open_windows=(2, 3))
    p, hub = real.presenter, real.hub
    assert p.sign_in("ivanova", "1234")
    for action in presses:
        view = p.view
        if action == "rate":
            assert p.rate(5) == (view.rating_phase == "ask")
            continue
        options = {"transfer": {"topic": "P"}, "break": {"kind": "lunch"}}.get(action, {})
        if view.buttons[action].enabled:
            assert p.press(action, **options)
            assert p.view.message_level != "error", (action, p.view.message)
        else:
            assert not p.press(action, **options)
            window, seq = hub.states["window/1"], hub.dispatcher.office.seq
            try:        # sent anyway, straight to the hub: refused, or (open/close again) a no-op
                hub.request("counter-1", OPS[action], {"window": 1, **options})
            except CommandError:
                pass
            else:
                assert action in ("open", "close"), f"the hub accepted {action}, which was not enabled"
            assert hub.states["window/1"] == window and hub.dispatcher.office.seq == seq
