"""Kivy wiring for the counter terminal: draws the presenter's view and forwards touches.

All behaviour is in :mod:`counter_app.presenter`; this module only turns a
:class:`~counter_app.view.CounterView` into widgets (``counter.kv``), opens the
small choice dialogs (break kind, outcome, transfer target, confirmations) and starts
the presenter with Kivy's clock as its ``post`` (every bus callback and request
outcome reaches it on the Kivy thread, once). Views are drawn once per frame at most.
"""
from __future__ import annotations

import os

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.modalview import ModalView

from counter_app.actions import BREAK, CLOSE, DONE, NO_SHOW, OPEN, TRANSFER
from counter_app.presenter import CounterPresenter
from counter_app.requests import RequestWorker, run_inline
from counter_app.view import CounterView

KV_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "counter.kv")


class CounterRoot(FloatLayout):
    pass


class BigButton(Button):
    """A big, high-contrast touch button; dimmed (``available`` False) but still pressable."""
    available = BooleanProperty(True)
    tint = ListProperty([0.2, 0.4, 0.8, 1])


class CounterButton(BigButton):
    """An operator action. When the action is unavailable a press still reaches the
    presenter, so the operator is told why instead of nothing happening."""
    action = StringProperty("")

    def on_press(self):
        if self.action:
            App.get_running_app().press(self.action)


class OperatorButton(BigButton):
    """One operator of the sign-in list: pressing it selects them for the PIN keypad."""
    code = StringProperty("")
    selected = BooleanProperty(False)

    def on_press(self):
        App.get_running_app().select_operator(self.code, self.text)


class RateButton(BigButton):
    score = NumericProperty(0)


class AccountsButton(BigButton):
    """A quick answer of the accounts prompt (the view's ``accounts_choices[index]``)."""
    index = NumericProperty(0)


class QueueRow(BoxLayout):
    label = StringProperty("")
    detail = StringProperty("")
    over = BooleanProperty(False)


class QueueList(BoxLayout):
    def show(self, rows) -> None:
        if getattr(self, "_rows", None) == rows:
            return
        self._rows = rows
        self.clear_widgets()
        for row in rows:
            self.add_widget(QueueRow(label=row.label, detail=row.text, over=row.over_norm))
        self.add_widget(Factory.Widget())  # keep rows at the top


class ChoicePopup(ModalView):
    title = StringProperty("")

    def __init__(self, title: str, choices, on_choice, cancel_text: str, **kwargs):
        super().__init__(title=title, **kwargs)
        for key, label, tint in choices:
            self.ids.choices.add_widget(self._button(label, tint, lambda k=key: self._pick(on_choice, k)))
        self.ids.choices.add_widget(self._button(cancel_text, (0.30, 0.32, 0.36, 1), self.dismiss))

    def _button(self, text, tint, callback):
        button = BigButton(text=text, tint=tint)
        button.bind(on_release=lambda *_: callback())
        return button

    def _pick(self, on_choice, key):
        self.dismiss()
        on_choice(key)


class CounterApp(App):
    """The counter terminal window. ``presenter`` holds the behaviour; ``closing`` are
    extra things (GPIO panels, the bus) to close when the app stops."""

    view = ObjectProperty(None, allownone=True)
    selected_operator = StringProperty("")     # code picked in the sign-in list
    selected_name = StringProperty("")

    def __init__(self, presenter: CounterPresenter, closing=(), screen_inches: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.presenter = presenter
        self.screen_inches = screen_inches   # the panel's diagonal: touch targets sized in real mm
        self.closing = list(closing)
        self.popup: ChoicePopup | None = None
        self._pending: CounterView | None = None
        self._apply_trigger = Clock.create_trigger(self._apply_view, -1)
        self._ticking = None     # the periodic tick: timers read the presenter's own clock (``now``)

    def build(self):
        self.title = f"Talon — {presenter_title(self.presenter)}"
        self._use_real_dpi()
        Builder.unload_file(KV_FILE)
        Builder.load_file(KV_FILE)
        root = CounterRoot()
        self.presenter.start(post=kivy_post)
        self.presenter.subscribe(self._on_view)
        self._ticking = Clock.schedule_interval(lambda dt: self.presenter.tick(), 0.5)
        return root

    def _use_real_dpi(self) -> None:
        """Kivy's ``mm()`` (the kv's 15 mm ``TOUCH``) at the panel's real DPI, computed from
        its diagonal and the window size, not Kivy's default 96 dpi (a 64 px button is
        12 mm on a 7″ 800×480 panel)."""
        if not self.screen_inches:
            return
        from kivy.core.window import Window
        from kivy.metrics import Metrics

        from hardware.layout_check import screen_dpi

        Metrics.dpi = screen_dpi(self.screen_inches, *Window.size)

    def on_start(self):
        from host.watchdog import start_ui_watchdog
        self._apply_view()
        start_ui_watchdog(Clock.schedule_interval, "counter running")

    def on_stop(self):
        if self._ticking is not None:
            self._ticking.cancel()      # the Kivy clock outlives the app (tests, ``talon screens``)
            self._ticking = None
        self.close_parts()
        Builder.unload_file(KV_FILE)

    def close_parts(self) -> None:
        """Close ``closing`` (request worker, GPIO panels, the bus); one that fails does
        not keep the others open."""
        for thing in self.closing:
            try:
                thing.close() if hasattr(thing, "close") else thing.stop()
            except Exception:  # closing must not hide the app's own shutdown
                pass

    # --- presenter → widgets (on the Kivy thread; coalesced to one redraw per frame) ---
    def _on_view(self, view: CounterView) -> None:
        self._pending = view
        self._apply_trigger()

    def _apply_view(self, *_):
        view = self._pending
        if view is None or self.root is None or App.get_running_app() is not self:
            return      # (not running: a trigger left over after the app stopped)
        self.view = view
        ids = self.root.ids
        if ids.sm.current != view.screen:
            ids.sm.current = view.screen
            if view.screen == "sign_in":
                ids.pin.text = ""
        if view.screen != "main" and self.popup is not None:
            self.popup.dismiss()
        ids.queue.show(view.queue)
        self._show_operators(view)

    def _show_operators(self, view: CounterView) -> None:
        box = self.root.ids.operators
        if getattr(box, "_shown", None) == view.operators:
            return
        box._shown = view.operators
        box.clear_widgets()
        if self.selected_operator not in {o.key for o in view.operators}:
            self.selected_operator = self.selected_name = ""
        for o in view.operators:
            box.add_widget(OperatorButton(code=o.key, text=o.label, selected=o.key == self.selected_operator))

    def select_operator(self, code: str, name: str) -> None:
        self.selected_operator, self.selected_name = code, name
        for button in self.root.ids.operators.children:
            button.selected = button.code == code

    # --- widgets → presenter ------------------------------------------------------------
    def press(self, action: str) -> None:
        view = self.presenter.view
        if not view.buttons[action].enabled:
            self.presenter.explain(action)
            return
        t = view.text
        if action == BREAK:
            self._choose(t["choose_break"], [(c.key, c.label, (0.55, 0.45, 0.12, 1)) for c in view.break_choices],
                         lambda key: self.presenter.pause(key))
        elif action == DONE:
            self._choose(t["choose_outcome"], [(c.key, c.label, (0.10, 0.50, 0.50, 1)) for c in view.outcome_choices],
                         lambda key: self.presenter.done(outcome=key))
        elif action == TRANSFER:
            self._choose(t["choose_transfer"], [(c.key, c.label, (0.40, 0.30, 0.60, 1)) for c in view.transfer_choices],
                         lambda key: self.presenter.choose(TRANSFER, key))
        elif action == CLOSE:
            self._choose(t["confirm_close"], [("yes", t["yes_close"], (0.60, 0.18, 0.20, 1))],
                         lambda key: self.presenter.close())
        elif action == NO_SHOW:
            self._choose(t["confirm_no_show"], [("yes", t["yes_no_show"], (0.62, 0.30, 0.16, 1))],
                         lambda key: self.presenter.no_show())
        elif action == OPEN:
            self.presenter.open()
        else:
            self.presenter.press(action)

    def _choose(self, title, choices, on_choice) -> None:
        if self.popup is not None:
            self.popup.dismiss()
        self.popup = ChoicePopup(title, choices, on_choice, self.presenter.t("cancel"))
        self.popup.bind(on_dismiss=lambda *_: setattr(self, "popup", None))
        self.popup.open()

    def sign_in(self, operator: str, pin: str) -> None:
        self.presenter.sign_in(operator, pin)
        if self.root is not None:
            self.root.ids.pin.text = ""

    def rate(self, score) -> None:
        self.presenter.rate(int(score))


def presenter_title(presenter: CounterPresenter) -> str:
    return presenter.t("window_n", n=presenter.window)


def kivy_post(fn, *args) -> None:
    """The presenter's ``post``: run ``fn(*args)`` on the Kivy thread (from any thread)."""
    Clock.schedule_once(lambda dt: fn(*args), -1)


def build_app(bus, window: int, *, lang: str = "ru", rating: str = "screen", threaded: bool = True,
              closing=(), screen_inches: float | None = None, **presenter_options) -> CounterApp:
    """The counter app on ``bus`` (a HubClient or FakeBus) for ``window``; requests run on one
    worker thread (``threaded``) so the Kivy thread never waits for the hub."""
    closing = closing if isinstance(closing, list) else list(closing)
    runner = RequestWorker() if threaded else run_inline
    if threaded:
        closing.append(runner)
    presenter = CounterPresenter(bus, window, lang=lang, rating=rating, runner=runner, **presenter_options)
    return CounterApp(presenter, closing=closing, screen_inches=screen_inches)
