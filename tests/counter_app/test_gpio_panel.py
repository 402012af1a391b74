"""The counter's GPIO buttons, LEDs, buzzer and the rating panel on gpiozero's MockFactory."""
from __future__ import annotations

import argparse
import threading

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from counter_app.cli import add_arguments, pin_map_from_args
from counter_app.gpio_panel import CounterPanel, PinMap, PinMapError, RatingPanel, load_pin_map
from counter_app.presenter import CounterPresenter
from tests.counter_app.helpers import CONFIG, PER_ACCOUNT_CONFIG, QUEUE, WINDOW, ScriptedHub, ticket, window

FREE = ("call_next", "pause", "close")
CALLED_ACTIONS = ("recall", "start", "no_show", "transfer")
SERVING_ACTIONS = ("finish", "transfer")

PINS = PinMap()


@pytest.fixture
def mock_factory():
    save = Device.pin_factory
    Device.pin_factory = MockFactory()
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = save


def presenter_on(hub, state, config=CONFIG, **kwargs) -> CounterPresenter:
    hub.bus.set_state("config", config)
    hub.bus.set_state("queue", QUEUE)
    hub.bus.set_state(f"window/{WINDOW}", state)
    p = CounterPresenter(hub.bus, WINDOW, **kwargs).start()
    assert p.sign_in("ivanova", "1234")
    hub.bus.sent.clear()
    return p


def tap(pin):
    pin.drive_low()
    pin.drive_high()


@pytest.mark.parametrize("name, state, op, args", [
    ("next", window("open", actions=FREE), "call_next", {}),
    ("next", window("closed", actions=["open"]), "open", {}),
    ("next", window("paused", break_kind="lunch", actions=["close", "open"]), "open", {}),
    ("recall", window("open", ticket(), actions=CALLED_ACTIONS), "recall", {}),
    ("start", window("open", ticket(), actions=CALLED_ACTIONS), "start", {}),
    ("done", window("open", ticket(state="serving", started_ago_s=9), actions=SERVING_ACTIONS), "finish", {}),
    ("break", window("open", actions=FREE), "pause", {"kind": "technical"}),
])
def test_gpio_short_press_calls_the_action(mock_factory, name, state, op, args):
    hub = ScriptedHub()
    p = presenter_on(hub, state)
    with CounterPanel(p, PINS, pin_factory=mock_factory):
        tap(mock_factory.pin(PINS.pin(name)))
    assert hub.bus.sent == [(op, {"window": WINDOW, **args})]


def test_gpio_break_kind_comes_from_the_pin_map(mock_factory):
    hub = ScriptedHub()
    p = presenter_on(hub, window("open", actions=FREE))
    with CounterPanel(p, PINS.with_pins({}, break_kind="lunch"), pin_factory=mock_factory):
        tap(mock_factory.pin(PINS.break_))
    assert hub.bus.sent == [("pause", {"window": WINDOW, "kind": "lunch"})]


@pytest.mark.parametrize("name, state, op", [
    ("no_show", window("open", ticket(), actions=CALLED_ACTIONS), "no_show"),
    ("close", window("open", actions=FREE), "close"),
])
def test_gpio_destructive_buttons_need_a_hold(mock_factory, name, state, op):
    hub = ScriptedHub()
    sent = threading.Event()
    hub.replies[op] = lambda args: sent.set() or {}
    p = presenter_on(hub, state)
    # a short press only explains
    with CounterPanel(p, PINS.with_pins({}, hold_time=60), pin_factory=mock_factory):
        tap(mock_factory.pin(PINS.pin(name)))
    assert hub.bus.sent == []
    assert p.view.message.startswith("Удерживайте кнопку, чтобы подтвердить: ")
    # a hold performs it (gpiozero's hold thread fires after hold_time)
    with CounterPanel(p, PINS.with_pins({}, hold_time=0.05), pin_factory=mock_factory):
        pin = mock_factory.pin(PINS.pin(name))
        pin.drive_low()
        assert sent.wait(10), "the held button did not trigger the action"
        pin.drive_high()
    assert hub.bus.sent == [(op, {"window": WINDOW})]


def test_gpio_leds_follow_connection_serving_and_errors(mock_factory):
    hub = ScriptedHub(call_next={"ticket": {"number": "А001", "topic": "A"}})
    p = presenter_on(hub, window("open", actions=FREE))
    with CounterPanel(p, PINS, beep_background=False, pin_factory=mock_factory) as panel:
        assert panel.led_connected.is_lit and not panel.led_serving.is_lit and not panel.led_error.is_lit
        tap(mock_factory.pin(PINS.next))
        hub.bus.set_state(f"window/{WINDOW}", window("open", ticket("А001"), seq=11, actions=CALLED_ACTIONS))
        assert panel.led_serving.is_lit and not panel.led_error.is_lit
        # Break while a client is called: refused, the error LED lights and the buzzer beeps
        buzzer = mock_factory.pin(PINS.buzzer)
        buzzer.clear_states()
        tap(mock_factory.pin(PINS.break_))
        assert panel.led_error.is_lit
        assert [s.state for s in buzzer.states] == [False, True, False, True, False]
        # the connection drops: LED off, a press is refused with a beep, never dropped silently
        hub.bus.set_connected(False)
        assert not panel.led_connected.is_lit
        tap(mock_factory.pin(PINS.start))
        assert p.view.message == "Нет связи с сервером очереди — действие не выполнено"
        hub.bus.set_connected(True)
        tap(mock_factory.pin(PINS.start))
        assert panel.led_connected.is_lit and not panel.led_error.is_lit
    assert hub.ops() == ["call_next", "start"]


ACTION_LED_PINS = {"led_next": 2, "led_recall": 3, "led_start": 4, "led_done": 9, "led_no_show": 10,
                   "led_break": 11, "led_close": 16}


@pytest.mark.parametrize("state, lit", [
    (window("open", actions=FREE), {"next", "break", "close"}),
    (window("closed", actions=["open"]), {"next"}),                  # Next opens a closed window
    (window("open", ticket(), actions=CALLED_ACTIONS), {"recall", "start", "no_show"}),
    (window("open", ticket(state="serving"), actions=SERVING_ACTIONS), {"done"}),
    (window("open", ticket(), actions=()), set()),
])
def test_gpio_action_leds_light_exactly_the_hubs_actions(mock_factory, state, lit):
    hub = ScriptedHub()
    p = presenter_on(hub, state)
    with CounterPanel(p, PINS.with_pins(ACTION_LED_PINS), pin_factory=mock_factory) as panel:
        assert {a for a, led in panel.action_leds.items() if led.is_lit} == lit
        hub.bus.set_connected(False)                                      # nothing may be pressed
        assert not any(led.is_lit for led in panel.action_leds.values())


def test_gpio_presses_reach_the_presenter_through_its_post(mock_factory):
    posted = []
    hub = ScriptedHub()
    hub.bus.set_state(f"window/{WINDOW}", window("open", actions=FREE))
    p = CounterPresenter(hub.bus, WINDOW).start()
    p.post = lambda fn, *args: posted.append((fn, args))                 # the UI thread's queue
    with CounterPanel(p, PINS, pin_factory=mock_factory):
        tap(mock_factory.pin(PINS.next))
        assert hub.bus.sent == [] and len(posted) == 1                    # not on gpiozero's thread
        fn, args = posted.pop()
        fn(*args)
    assert hub.ops() == ["call_next"]


def test_gpio_panel_on_pwm_capable_pins(mock_factory):
    factory = MockFactory(pin_class=MockPWMPin)
    hub = ScriptedHub()
    p = presenter_on(hub, window("open", ticket(), actions=CALLED_ACTIONS))
    with CounterPanel(p, PINS, pin_factory=factory) as panel:
        assert panel.led_serving.is_lit
        tap(factory.pin(PINS.recall))
    assert hub.ops() == ["recall"]
    factory.reset()


def test_rating_panel_records_the_score_and_lights_thanks(mock_factory):
    hub = ScriptedHub(finish={"ticket": {"number": "А015", "state": "done"}})
    p = presenter_on(hub, window("open", ticket(state="serving", started_ago_s=5), actions=SERVING_ACTIONS),
                     rating="external")
    with RatingPanel(p, PINS.rating, thanks_led=PINS.rating_thanks, pin_factory=mock_factory) as panel:
        tap(mock_factory.pin(PINS.rating[1]))          # no rating asked yet: ignored
        assert hub.bus.sent == [] and not panel.thanks_led.is_lit
        assert p.done()
        tap(mock_factory.pin(PINS.rating[1]))          # second button: «Хорошо»
        assert hub.bus.sent[-1] == ("rate", {"window": WINDOW, "ticket": "А015", "score": 4})
        assert panel.thanks_led.is_lit
        tap(mock_factory.pin(PINS.rating[0]))          # one rating per ticket
        assert hub.ops() == ["finish", "rate"]
        p.skip_rating()
        assert not panel.thanks_led.is_lit


def test_three_button_rating_panel_scores(mock_factory):
    panel_pins = (23, 24, 25)
    hub = ScriptedHub(finish={"ticket": {"number": "А015"}})
    p = presenter_on(hub, window("open", ticket(state="serving", started_ago_s=5), actions=SERVING_ACTIONS),
                     rating="external")
    with RatingPanel(p, panel_pins, thanks_led=None, pin_factory=mock_factory) as panel:
        assert panel.scores == (5, 3, 1)
        assert p.done()
        tap(mock_factory.pin(25))
    assert hub.bus.sent[-1][1]["score"] == 1
    with pytest.raises(PinMapError):
        RatingPanel(p, (1, 2), pin_factory=mock_factory)


# --- personal accounts (a per-account service norm) -------------------------------------------
ACCOUNT_PINS = PINS.with_pins({"accounts": 16, "accounts_leds": [4, 9, 10, 11, 14]})
SERVING_A = window("open", ticket(state="serving", started_ago_s=9), actions=SERVING_ACTIONS)


def test_gpio_done_on_a_per_account_topic_sends_one_account_without_an_accounts_button(mock_factory):
    hub = ScriptedHub()
    p = presenter_on(hub, SERVING_A, config=PER_ACCOUNT_CONFIG)
    with CounterPanel(p, PINS, pin_factory=mock_factory):
        tap(mock_factory.pin(PINS.done))
    assert hub.bus.sent == [("finish", {"window": WINDOW, "accounts": 1})]
    assert p.view.screen != "accounts"                       # no prompt: a GPIO-only counter has no screen


def test_gpio_accounts_button_cycles_one_to_five_before_done(mock_factory):
    hub = ScriptedHub()
    p = presenter_on(hub, SERVING_A, config=PER_ACCOUNT_CONFIG)
    with CounterPanel(p, ACCOUNT_PINS, pin_factory=mock_factory) as panel:
        def lit():
            return [led.is_lit for led in panel.accounts_leds]
        assert lit() == [True, False, False, False, False]   # 1, the default
        button = mock_factory.pin(16)
        tap(button)
        tap(button)
        assert panel.accounts == 3 and lit() == [True, True, True, False, False]
        assert p.view.message == "Лицевых счетов: 3"
        for _ in range(3):
            tap(button)
        assert panel.accounts == 1 and lit() == [True, False, False, False, False]   # 4, 5, then 1 again
        for _ in range(3):
            tap(button)
        tap(mock_factory.pin(PINS.done))
        assert hub.bus.sent == [("finish", {"window": WINDOW, "accounts": 4})]
        # the next ticket starts again at one account
        hub.bus.set_state(f"window/{WINDOW}", window("open", ticket("А016", state="serving", started_ago_s=1),
                                                     seq=11, actions=SERVING_ACTIONS))
        assert panel.accounts == 1 and lit() == [True, False, False, False, False]
        # no ticket: nothing to show
        hub.bus.set_state(f"window/{WINDOW}", window("open", seq=12, actions=FREE))
        assert lit() == [False] * 5


def test_gpio_accounts_button_on_a_topic_without_a_per_account_norm(mock_factory):
    hub = ScriptedHub()
    p = presenter_on(hub, SERVING_A)                          # topic A: service norm per visit
    with CounterPanel(p, ACCOUNT_PINS, pin_factory=mock_factory) as panel:
        tap(mock_factory.pin(16))
        assert panel.accounts == 1 and p.view.message == "Лицевые счета по этой теме не считаются"
        assert not any(led.is_lit for led in panel.accounts_leds)
        tap(mock_factory.pin(PINS.done))
    assert hub.bus.sent == [("finish", {"window": WINDOW})]


def test_pin_map_from_toml_and_command_line(tmp_path):
    path = tmp_path / "pins.toml"
    path.write_text('hold_time = 1.5\nbreak_kind = "rest"\n[pins]\nnext = 4\nbuzzer = "none"\n'
                    'rating = [23, 24, 25]\n', encoding="utf-8")
    pins = load_pin_map(path)
    assert (pins.next, pins.buzzer, pins.rating, pins.hold_time, pins.break_kind) == (4, None, (23, 24, 25), 1.5, "rest")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--window", "3", "--gpio", "--pin-map", str(path), "--pin", "recall=16",
                              "--hold-time", "3"])
    pins = pin_map_from_args(args)
    assert (pins.next, pins.recall, pins.hold_time) == (4, 16, 3.0)
    args = parser.parse_args(["--window", "3", "--gpio", "--pin", "accounts=16", "--pin", "accounts_leds=9,10,11"])
    pins = pin_map_from_args(args)
    assert (pins.accounts, pins.accounts_leds) == (16, (9, 10, 11))


@pytest.mark.parametrize("data, message", [
    ({"pins": {"next": 6}}, "BCM 6 is used by both"),
    ({"pins": {"nexxt": 5}}, "unknown pin name"),
    ({"pins": {"next": 40}}, "outside 0..27"),
    ({"pins": {"next": "five"}}, "not a BCM pin number"),
    ({"pins": {"rating": [1, 2]}}, "3, 4 or 5 buttons"),
    ({"pins": {"accounts_leds": [2, 3, 4, 9, 10, 11]}}, "at most 5 LEDs"),
    ({"pins": {"accounts": 19}}, "BCM 19 is used by both"),
    ({"pins": {"accounts_leds": [2, 23]}}, "BCM 23 is used by both"),
    ({"hold_time": 0}, "hold_time must be positive"),
    ({"colour": "red"}, "unknown pin map keys"),
])
def test_bad_pin_maps_name_the_problem(data, message):
    with pytest.raises(PinMapError, match=message):
        PinMap.from_mapping(data)


def test_cli_requires_a_window_and_refuses_a_bad_pin_map(tmp_path):
    from counter_app.cli import run
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--gpio"])
    args = parser.parse_args(["--window", "1", "--gpio", "--demo", "--pin", "next=99"])
    assert run(args) == 2
    args = parser.parse_args(["--window", "1", "--demo", "--pin-map", str(tmp_path / "missing.toml"), "--gpio"])
    assert run(args) == 2
