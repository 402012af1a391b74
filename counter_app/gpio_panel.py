"""The counter's physical buttons, LEDs and buzzer, and the visitor's rating panel.

Both panels drive the same :class:`counter_app.presenter.CounterPresenter` as the
touchscreen: a button press is handed to the presenter's thread (``presenter.post``),
and every LED follows the presenter's view — an action LED is lit exactly when the
hub allows that action now (``state/window.actions``). Pins are BCM numbers.

Default wiring (each button between the pin and GND, internal pull-up; each LED
through a 330 Ω resistor to GND; an active buzzer between the pin and GND):

==========  =====  =======================================================
name        BCM    what it does
==========  =====  =======================================================
next          5    «Вызвать следующего» (when the window is closed or on a
                   break it opens the window instead)
recall        6    «Повторный вызов»
start        13    «Начать приём»
done         19    «Завершить приём» (outcome: done)
no_show      26    «Клиент не явился» — hold ``hold_time`` s to confirm
break        20    «Перерыв» (kind ``break_kind``, technical by default)
close        21    «Закрыть окно» — hold ``hold_time`` s to confirm
led_connected 17   on while the hub is reachable
led_serving  27    on while a ticket is called or in service
led_error    22    on after a refused or failed action, until the next success
buzzer       18    two short beeps on every error
led_<action>  —    optional, one per button (``led_next`` … ``led_close``): lit
                   while that button's action is allowed
rating     23 24 25 8 7   the visitor's rating buttons, scores 5 4 3 2 1
rating_thanks 12   lit while «Спасибо за Вашу оценку!» is shown
accounts      —    optional: the number of personal accounts (below)
accounts_leds —    optional, 1 to 5 LEDs showing that number as a bar
==========  =====  =======================================================

*Transfer* needs a target and is left to the touchscreen.

**Personal accounts.** When the current ticket's topic has a per-account service norm
(``state/config`` ``topics[].per_account``, АтомЭнергоСбыт), *Done* on this panel sends
``finish`` with ``accounts``: 1, unless an ``accounts`` button is fitted — each press of
it before *Done* steps the number 1 → 2 → 3 → 4 → 5 → 1 (shown on the counter screen,
and on ``accounts_leds`` if fitted: the first N lit); a new ticket starts again at 1.
More than 5 accounts are entered on the touchscreen (its *Done* asks, with a stepper up
to 99). On a topic without a per-account norm the button does nothing but say so.

A pin map may be given as TOML (``talon counter --gpio --pin-map pins.toml``)::

    hold_time = 2.0
    break_kind = "technical"
    [pins]
    next = 5
    close = 21
    led_error = 22
    led_next = 16
    rating = [23, 24, 25]      # three buttons: scores 5, 3, 1
    rating_thanks = 12
    accounts = 15
    accounts_leds = [4, 9, 10, 11, 14]
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from gpiozero import LED, Button, Buzzer

from counter_app.actions import OPEN
from hardware.gpio import PinMapError, bcm, check_distinct, load_toml, optional_bcm, set_output

log = logging.getLogger(__name__)

ACTION_PINS = ("next", "recall", "start", "done", "no_show", "break", "close")
ACTION_LEDS = tuple(f"led_{name}" for name in ACTION_PINS)
OUTPUT_PINS = ("led_connected", "led_serving", "led_error", "buzzer", "rating_thanks")
HOLD_TO_CONFIRM = frozenset({"no_show", "close"})
SCORES_FOR = {3: (5, 3, 1), 4: (5, 4, 2, 1), 5: (5, 4, 3, 2, 1)}
ACCOUNTS_CYCLE = 5      # the accounts button steps 1..5, then back to 1

__all__ = ["CounterPanel", "PinMap", "PinMapError", "RatingPanel", "load_pin_map"]


@dataclass(frozen=True)
class PinMap:
    """BCM pin numbers for the counter panel and the rating panel (``None`` = not fitted)."""
    next: int | None = 5
    recall: int | None = 6
    start: int | None = 13
    done: int | None = 19
    no_show: int | None = 26
    break_: int | None = 20
    close: int | None = 21
    led_connected: int | None = 17
    led_serving: int | None = 27
    led_error: int | None = 22
    buzzer: int | None = 18
    rating: tuple[int, ...] = (23, 24, 25, 8, 7)
    rating_thanks: int | None = 12
    accounts: int | None = None          # the personal-accounts button (not fitted by default)
    accounts_leds: tuple[int, ...] = ()  # 1..5 LEDs showing the number of accounts as a bar
    action_leds: Mapping[str, int] = field(default_factory=dict)   # "next" -> BCM (led_next)
    hold_time: float = 2.0
    break_kind: str = "technical"

    def pin(self, name: str) -> int | None:
        if name in ACTION_LEDS:
            return self.action_leds.get(name[4:])
        return getattr(self, "break_" if name == "break" else name)

    @classmethod
    def from_mapping(cls, data: Mapping) -> PinMap:
        """Build from a dict shaped like the TOML file (top-level options + ``[pins]``)."""
        known = {"hold_time", "break_kind", "pins"}
        unknown = set(data) - known
        if unknown:
            raise PinMapError(f"unknown pin map keys: {sorted(unknown)}")
        return cls().with_pins(data.get("pins") or {}, hold_time=data.get("hold_time"),
                               break_kind=data.get("break_kind"))

    def with_pins(self, pins: Mapping, *, hold_time=None, break_kind=None) -> PinMap:
        """A copy with some pins replaced (``{"next": 5, "rating": [23, 24, 25]}``)."""
        names = ({f.name.rstrip("_") for f in fields(self)} - {"hold_time", "break_kind", "action_leds"}
                 | set(ACTION_LEDS))
        changes: dict = {}
        leds = dict(self.action_leds)
        for name, value in pins.items():
            if name not in names:
                raise PinMapError(f"unknown pin name {name!r}; known: {sorted(names)}")
            if name in ("rating", "accounts_leds"):
                changes[name] = _pin_list(name, value)
            elif name in ACTION_LEDS:
                value = optional_bcm(value, name)
                if value is None:
                    leds.pop(name[4:], None)
                else:
                    leds[name[4:]] = value
            else:
                changes["break_" if name == "break" else name] = optional_bcm(value, name)
        changes["action_leds"] = leds
        if hold_time is not None:
            changes["hold_time"] = float(hold_time)
            if changes["hold_time"] <= 0:
                raise PinMapError("hold_time must be positive")
        if break_kind is not None:
            changes["break_kind"] = str(break_kind)
        result = replace(self, **changes)
        result.check()
        return result

    def check(self) -> None:
        check_distinct([(name, self.pin(name)) for name in ACTION_PINS + OUTPUT_PINS + ACTION_LEDS]
                       + [("rating", pin) for pin in self.rating] + [("accounts", self.accounts)]
                       + [("accounts_leds", pin) for pin in self.accounts_leds])


def _pin_list(name: str, value) -> tuple[int, ...]:
    """``rating`` (3, 4 or 5 buttons) or ``accounts_leds`` (up to 5 LEDs; none: not fitted)."""
    pins = tuple(bcm(v, name) for v in (value if isinstance(value, (list, tuple)) else [value]))
    if name == "rating" and len(pins) not in SCORES_FOR:
        raise PinMapError("rating needs 3, 4 or 5 buttons")
    if name == "accounts_leds" and len(pins) > ACCOUNTS_CYCLE:
        raise PinMapError(f"accounts_leds: at most {ACCOUNTS_CYCLE} LEDs")
    return pins


def load_pin_map(path: str | Path) -> PinMap:
    return PinMap.from_mapping(load_toml(path))


class CounterPanel:
    """The operator's hardware buttons, status LEDs and error buzzer for one window.

    :param presenter: the window's :class:`~counter_app.presenter.CounterPresenter`.
    :param pins: a :class:`PinMap` (defaults in the module docstring).
    :param beep_background: False makes the error beep block (tests).
    :param pin_factory: gpiozero pin factory (``None``: gpiozero's default).

    Short presses of *No-show* and *Close* do nothing but show «Удерживайте кнопку…»;
    holding them ``pins.hold_time`` seconds performs the action.
    """

    def __init__(self, presenter, pins: PinMap | None = None, *, beep_background: bool = True,
                 bounce_time: float | None = None, pin_factory=None):
        self.presenter = presenter
        self.pins = pins or PinMap()
        self.beep_background = beep_background
        self.buttons: dict[str, Button] = {}
        self.action_leds: dict[str, LED] = {}
        self.accounts_leds: list[LED] = []
        self.accounts = 1                 # personal accounts Done sends on a per-account topic
        self._accounts_ticket = ""        # the ticket that number is for (a new one starts at 1)
        self._held: set[str] = set()
        self._last_error = ""
        self._devices = []
        try:
            for name in ACTION_PINS:
                pin = self.pins.pin(name)
                if pin is None:
                    continue
                button = Button(pin, hold_time=self.pins.hold_time, bounce_time=bounce_time,
                                pin_factory=pin_factory)
                if name in HOLD_TO_CONFIRM:       # gpiozero's threads → the presenter's thread
                    button.when_held = lambda n=name: self._post(self._on_held, n)
                    button.when_released = lambda n=name: self._post(self._on_released, n)
                else:
                    button.when_pressed = lambda n=name: self._post(self.press, n)
                self.buttons[name] = button
                self._devices.append(button)
            if self.pins.accounts is not None:
                button = Button(self.pins.accounts, bounce_time=bounce_time, pin_factory=pin_factory)
                button.when_pressed = lambda: self._post(self.press, "accounts")
                self.buttons["accounts"] = button
                self._devices.append(button)
            for action, pin in self.pins.action_leds.items():
                self.action_leds[action] = self._output(LED, pin, pin_factory)
            self.accounts_leds = [self._output(LED, pin, pin_factory) for pin in self.pins.accounts_leds]
            self.led_connected = self._output(LED, self.pins.led_connected, pin_factory)
            self.led_serving = self._output(LED, self.pins.led_serving, pin_factory)
            self.led_error = self._output(LED, self.pins.led_error, pin_factory)
            self.buzzer = self._output(Buzzer, self.pins.buzzer, pin_factory)
        except Exception:
            self.close()
            raise
        presenter.subscribe(self._on_view)

    def _post(self, fn, *args) -> None:
        self.presenter.post(fn, *args)

    def _output(self, cls, pin, pin_factory):
        if pin is None:
            return None
        device = cls(pin, pin_factory=pin_factory)
        self._devices.append(device)
        return device

    # --- buttons → presenter (on the presenter's thread) -------------------------------
    def press(self, name: str) -> bool:
        view = self.presenter.view
        if name == "next" and view.window_state in ("closed", "paused"):
            return self.presenter.open()
        if name == "break":
            return self.presenter.pause(self.pins.break_kind)
        if name == "accounts":
            return self._step_accounts()
        if name == "done" and self.presenter.asks_accounts():
            return self.presenter.done(accounts=self.accounts)     # never a prompt: no screen needed
        return self.presenter.press(name)

    def _step_accounts(self) -> bool:
        if not self.presenter.asks_accounts():
            self.presenter.notify_hint("accounts_not_asked")
            return False
        self.accounts = self.accounts % ACCOUNTS_CYCLE + 1
        self.presenter.notify_hint("accounts_count", n=self.accounts)
        self._show_accounts()
        return True

    def _show_accounts(self) -> None:
        shown = self.accounts if self.presenter.asks_accounts() else 0
        for i, led in enumerate(self.accounts_leds):
            set_output(led, i < shown)

    def _on_held(self, name: str) -> None:
        self._held.add(name)
        self.press(name)

    def _on_released(self, name: str) -> None:
        if name in self._held:
            self._held.discard(name)
        else:
            self.presenter.notify_hint("hold_to_confirm", action=self.presenter.t(name))

    # --- presenter → LEDs and buzzer ----------------------------------------------------
    def _on_view(self, view) -> None:
        if view.ticket_number != self._accounts_ticket:      # a new ticket (or none): one account again
            self._accounts_ticket, self.accounts = view.ticket_number, 1
        self._show_accounts()
        set_output(self.led_connected, view.connected)
        set_output(self.led_serving, view.serving)
        enabled = view.enabled
        for action, led in self.action_leds.items():
            lit = action in enabled or (action == "next" and OPEN in enabled)   # Next opens a closed window
            set_output(led, lit)
        error = view.message if view.message_level in ("error", "warning") else ""
        set_output(self.led_error, bool(error))
        if error and error != self._last_error:
            self.beep()
        self._last_error = error

    def beep(self) -> None:
        if self.buzzer is not None:
            self.buzzer.beep(on_time=0.08, off_time=0.08, n=2, background=self.beep_background)

    def close(self) -> None:
        for device in self._devices:
            device.close()
        self._devices = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RatingPanel:
    """The visitor's 3–5 rating buttons and a thank-you LED.

    A press records a score for the ticket just finished (``presenter.rate``); presses
    while no rating is being asked for are ignored. The LED is lit while the presenter
    shows its thank-you. Use with ``CounterPresenter(..., rating="external")`` when the
    counter screen faces the operator, or beside ``rating="screen"``.

    :param pins: BCM pins, best score first.
    :param scores: the score of each button (default 5 4 3 2 1, 5 3 1 for three buttons).
    """

    def __init__(self, presenter, pins=(23, 24, 25, 8, 7), *, thanks_led: int | None = 12,
                 scores: tuple[int, ...] | None = None, bounce_time: float | None = None,
                 pin_factory=None):
        pins = tuple(pins)
        if len(pins) not in SCORES_FOR:
            raise PinMapError("a rating panel has 3, 4 or 5 buttons")
        self.scores = tuple(scores) if scores is not None else SCORES_FOR[len(pins)]
        if len(self.scores) != len(pins) or not all(1 <= s <= 5 for s in self.scores):
            raise PinMapError("one score 1..5 per rating button")
        self.presenter = presenter
        self.buttons: list[Button] = []
        self.thanks_led = None
        try:
            for pin, score in zip(pins, self.scores):
                button = Button(pin, bounce_time=bounce_time, pin_factory=pin_factory)
                button.when_pressed = lambda s=score: presenter.post(self.press, s)
                self.buttons.append(button)
            if thanks_led is not None:
                self.thanks_led = LED(thanks_led, pin_factory=pin_factory)
        except Exception:
            self.close()
            raise
        presenter.subscribe(self._on_view)

    def press(self, score: int) -> bool:
        return self.presenter.rate(score)

    def _on_view(self, view) -> None:
        set_output(self.thanks_led, view.rating_phase == "thanks")

    def close(self) -> None:
        for device in [*self.buttons, self.thanks_led]:
            if device is not None:
                device.close()
        self.buttons = []
        self.thanks_led = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
