"""The kiosk's Kivy app: wires the presenter to the screen, the bus and the printer.

Threads: every presenter call (taps, bus callbacks, the 1 s tick, printer polls) runs
on one worker thread, so the presenter never needs a lock and a slow hub or printer
never freezes the screen. New views come back to the UI thread with
``Clock.schedule_once``.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.button import Button

from kiosk.presenter import KioskOptions, KioskPresenter, KioskView, Screen

log = logging.getLogger(__name__)
KV_FILE = Path(__file__).with_name("kiosk.kv")
KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0", "submit")
IDLE_SCREENS = (Screen.ATTRACT, Screen.OUT_OF_SERVICE)


class ChoiceButton(Button):
    """A topic, segment or priority-category button (styled in kiosk.kv)."""

    code = StringProperty("")
    enabled = BooleanProperty(True)


class KioskApp(App):
    vm = ObjectProperty(None, rebind=True)

    def __init__(self, bus, printer, *, options: KioskOptions = KioskOptions(),
                 printer_poll_s: float = 10.0, **kwargs):
        super().__init__(**kwargs)
        self.title = "Talon"
        self.bus = bus
        self.printer = printer
        self.printer_poll_s = printer_poll_s
        self.presenter = KioskPresenter(bus, printer, options=options)
        self.vm = self.presenter.view()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk")
        self._stopping = False
        self._shown_choices: dict[str, tuple] = {}
        self.screens = None  # the ScreenManager, once built

    # --- threads -----------------------------------------------------------------------
    def post(self, fn, *args) -> None:
        """Run ``fn(*args)`` on the presenter's worker thread; nothing once the app stops
        (the bus saying "disconnected" as it closes is no job for the presenter then)."""
        if self._stopping:
            return
        try:
            self._worker.submit(self._guarded, fn, *args)
        except RuntimeError:  # the worker was shut down between the check and the submit
            pass

    @staticmethod
    def _guarded(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # one failed action must not stop the kiosk
            log.exception("kiosk action %s failed", getattr(fn, "__name__", fn))

    def do(self, action: str, *args) -> None:
        """KV calls this on a tap: ``app.do("choose_topic", "A")``."""
        self.post(getattr(self.presenter, action), *args)

    # --- Kivy lifecycle --------------------------------------------------------------------
    def build(self):
        Builder.unload_file(str(KV_FILE))  # a second app in one process must not apply the rules twice
        root = self.screens = Builder.load_file(str(KV_FILE))
        self._build_keypad(root.ids.keypad)
        self.presenter.on_change(lambda view: Clock.schedule_once(lambda dt: self.show(view)))
        self.post(self.presenter.start, self.post)
        self.bus.start()
        self._clock_events = [
            Clock.schedule_interval(lambda dt: self.post(self.presenter.tick), 1.0),
            Clock.schedule_interval(lambda dt: self._poll_printer_when_idle(), self.printer_poll_s),
        ]
        Clock.schedule_once(lambda dt: self.show(self.presenter.view()))
        return root

    def on_start(self):
        from host.watchdog import start_ui_watchdog
        start_ui_watchdog(Clock.schedule_interval, "kiosk running")
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (systemd stop) closes the app, so the kiosk says "offline" itself
            signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda dt: self.stop()))
        first_frame_file = os.environ.get("TALON_FIRST_FRAME_FILE")
        if first_frame_file:  # `talon bench kiosk`: when was the first frame on screen
            self._note_first_frame(first_frame_file)

    @staticmethod
    def _note_first_frame(path: str) -> None:
        from kivy.core.window import Window

        def flipped(*_):
            Window.unbind(on_flip=flipped)
            with open(path, "w", encoding="utf-8") as out:
                out.write(f"{time.time():.6f}\n")  # wall clock, comparable across processes
        Window.bind(on_flip=flipped)

    def on_stop(self):
        self._stopping = True
        for event in getattr(self, "_clock_events", ()):
            event.cancel()
        self._worker.shutdown(wait=False, cancel_futures=True)
        self.bus.stop()

    def _poll_printer_when_idle(self) -> None:
        # A printer that came back (paper refilled) or went away is noticed without a visitor.
        if self.vm.screen in IDLE_SCREENS:
            self.post(self.presenter.poll_printer)

    # --- drawing -----------------------------------------------------------------------------
    def show(self, view: KioskView) -> None:
        self.vm = view
        if self.screens is None:
            return
        ids = self.screens.ids
        self._fill(ids.segment_list, "segments", view.segments, "choose_segment")
        self._fill(ids.topic_grid, "topics", view.topics, "choose_topic")
        self._fill(ids.priority_list, "priority", view.priority_categories, "choose_priority_category")
        self.screens.current = view.screen.value

    def _fill(self, container, key: str, choices: tuple, action: str) -> None:
        if self._shown_choices.get(key) == choices:
            return
        self._shown_choices[key] = choices
        container.clear_widgets()
        for choice in choices:
            label = f"[b]{choice.label}[/b]"
            if choice.detail:
                label += f"\n[size=22sp]{choice.detail}[/size]"
            button = ChoiceButton(text=label, code=choice.code, enabled=choice.enabled)
            button.bind(on_release=lambda b, code=choice.code: self.do(action, code))
            container.add_widget(button)

    def _build_keypad(self, keypad) -> None:
        from kivy.factory import Factory

        for key in KEYPAD:
            if key in ("erase", "submit"):
                button = Factory.BigButton() if key == "submit" else Factory.QuietButton()
                label = "checkin_submit" if key == "submit" else "checkin_clear"
                action = "submit_checkin" if key == "submit" else "erase_digit"
                button.text = self.vm.t(label)
                self.bind(vm=lambda app, vm, b=button, label=label: setattr(b, "text", vm.t(label)))
                button.bind(on_release=lambda b, action=action: self.do(action))
            else:
                button = Factory.BigButton(text=key, font_size="44sp")
                button.bind(on_release=lambda b, digit=key: self.do("press_digit", digit))
            button.size_hint_y = 1
            keypad.add_widget(button)
