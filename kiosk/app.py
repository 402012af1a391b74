"""The kiosk's Kivy app: wires the presenter to the screen, the bus and the printer.

Threads: every presenter call (taps, bus callbacks, the 1 s tick, printer polls) runs
on one worker thread, so the presenter never needs a lock and a slow hub or printer
never freezes the screen. New views come back to the UI thread with
``Clock.schedule_once``.
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.presenter import KioskOptions, KioskPresenter, KioskView, Screen

log = logging.getLogger(__name__)
KV_FILE = Path(__file__).with_name("kiosk.kv")
KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "erase", "submit")  # 4 columns, 3 rows
DEFAULT_DIAGONAL_IN = 10.1   # the recommended kiosk panel (docs/deploy.md)
TARGET_MM = 16.0             # touch targets: 15 mm and a little margin
QR_MAX_MM = 90.0             # the code on screen: a phone 25–40 cm away reads it whole
LARGE_TEXT = 1.3             # the large-text mode scales all type by this
IDLE_SCREENS = (Screen.ATTRACT, Screen.OUT_OF_SERVICE)


class ChoiceButton(Button):
    """A topic, segment or priority-category button (styled in kiosk.kv)."""

    code = StringProperty("")
    enabled = BooleanProperty(True)


class QrCode(Widget):
    """``url`` as a QR code, square in the widget, each module a whole number of pixels
    (sharp edges scan best), black on white with its quiet zone."""

    url = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.texture = None
        self.modules = 0          # modules per side, quiet zone included
        self.bind(url=self._make_texture, pos=self._draw, size=self._draw)

    def _make_texture(self, *_args) -> None:
        from kivy.graphics.texture import Texture

        from kiosk.qr import qr_matrix, rgba_rows_bottom_up

        self.texture, self.modules = None, 0
        if self.url:
            matrix = qr_matrix(self.url)
            self.modules = len(matrix)
            texture = Texture.create(size=(self.modules, self.modules), colorfmt="rgba")
            texture.blit_buffer(rgba_rows_bottom_up(matrix), colorfmt="rgba", bufferfmt="ubyte")
            texture.mag_filter = texture.min_filter = "nearest"
            self.texture = texture
        self._draw()

    def code_rect(self) -> tuple[float, float, float, float]:
        """(x, y, side, module) of the drawn code in the widget's coordinates."""
        if not self.modules:
            return self.x, self.y, 0, 0
        module = max(1, int(min(self.width, self.height) // self.modules))
        side = module * self.modules
        return int(self.center_x - side / 2), int(self.center_y - side / 2), side, module

    def _draw(self, *_args) -> None:
        from kivy.graphics import Color, Rectangle

        self.canvas.clear()
        if self.texture is None:
            return
        x, y, side, _ = self.code_rect()
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(texture=self.texture, pos=(x, y), size=(side, side))


class KioskApp(App):
    vm = ObjectProperty(None, rebind=True)
    # Sizes the kv file uses, from the window and the screen's real DPI (see _resize).
    dpi = NumericProperty(149.4)
    target = NumericProperty(94)        # a touch target, px (TARGET_MM at dpi)
    k = NumericProperty(1.0)            # type scale
    pad = NumericProperty(16)
    gap = NumericProperty(12)
    number_size = NumericProperty(160)  # the ticket number on screen
    qr_max = NumericProperty(530)       # the largest QR code on screen, px (QR_MAX_MM at dpi)
    wide = BooleanProperty(True)        # landscape: things side by side
    choice_cols = NumericProperty(2)
    choice_h = NumericProperty(1.2)     # a choice button, in touch targets
    contrast = BooleanProperty(False)   # high-contrast large-text mode

    def __init__(self, bus, printer, *, options: KioskOptions = KioskOptions(),
                 printer_poll_s: float = 10.0, screen_diagonal_in: float = DEFAULT_DIAGONAL_IN,
                 speaker=None, **kwargs):
        super().__init__(**kwargs)
        self.screen_diagonal_in = screen_diagonal_in
        self.title = "Talon"
        self.bus = bus
        self.printer = printer
        self.printer_poll_s = printer_poll_s
        self.speaker = speaker            # hardware.speech.Speaker: its thread is stopped with the app
        self.presenter = KioskPresenter(bus, printer, options=options, speaker=speaker)
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
    def load_kv(self, filename=None):
        """``App.run`` would load kiosk.kv by the class name before ``build`` loads it
        again: two sets of rules, every widget built twice. ``build`` loads it, once."""
        return False

    def build(self):
        from kivy.core.window import Window

        from host.stopping import stop_on_sigterm
        stop_on_sigterm(Clock.schedule_once, self.stop)   # before the bus starts: systemd stop runs on_stop
        Builder.unload_file(str(KV_FILE))  # a second app in one process must not apply the rules twice
        Window.bind(size=self._on_window_size)
        self._resize()
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
        if hasattr(self.speaker, "stop"):
            self.speaker.stop()
        from kivy.core.window import Window
        Window.unbind(size=self._on_window_size)
        self._forget_kv_bindings()
        Builder.unload_file(str(KV_FILE))     # another app in this process must not get the kiosk's rules

    def _forget_kv_bindings(self) -> None:
        """Take the kv rules' bindings off the kiosk's widgets: a layout or a view still due
        on Kivy's clock would run them with ``app`` meaning the next app in this process."""
        if self.screens is not None:
            for widget in [self.screens, *(w for screen in self.screens.screens for w in screen.walk())]:
                Builder.unbind_widget(widget.uid)

    def _poll_printer_when_idle(self) -> None:
        # A printer that came back (paper refilled) or went away is noticed without a visitor.
        if self.vm.screen in IDLE_SCREENS:
            self.post(self.presenter.poll_printer)

    # --- sizes -------------------------------------------------------------------------------
    def _on_window_size(self, *_args) -> None:
        self._resize()

    def _resize(self) -> None:
        """Sizes for this window on this screen: touch targets in real millimetres (the
        DPI comes from the configured diagonal), type scaled with the window."""
        from kivy.core.window import Window

        from hardware.layout_check import screen_dpi

        width, height = Window.size
        self.dpi = screen_dpi(self.screen_diagonal_in, width, height)
        wide = width > height
        base = max(0.6, min(1.6, width / 1280, height / 800) if wide else min(1.6, width / 1000))
        self.k = base * (LARGE_TEXT if self.contrast else 1.0)
        self.target = max(TARGET_MM / 25.4 * self.dpi, 60 * self.k)
        self.qr_max = QR_MAX_MM / 25.4 * self.dpi
        self.pad = 12 * base
        self.gap = 10 * base
        self.wide = wide
        self.choice_cols = 2 if wide else 1
        self.choice_h = 1.6 if not wide else 1.0 if height < 700 else 1.2
        self.number_size = min(150 * self.k, height / 6)
        if self.screens is not None:
            self.show(self.vm)

    # --- drawing -----------------------------------------------------------------------------
    def show(self, view: KioskView) -> None:
        if self._stopping:
            return      # a view scheduled before the stop
        self.vm = view
        if view.large_text != self.contrast:
            self.contrast = view.large_text
            self._resize()
        if self.screens is None:
            return
        ids = self.screens.ids
        self._fill(ids.segment_list, "segments", view.segments, "choose_segment")
        self._fill(ids.topic_grid, "topics", view.topics, "choose_topic")
        self._fill(ids.priority_list, "priority", view.priority_categories, "choose_priority_category")
        self.screens.current = view.screen.value

    def _fill(self, container, key: str, choices: tuple, action: str) -> None:
        if self._shown_choices.get(key) == (choices, self.k):
            return
        self._shown_choices[key] = (choices, self.k)
        container.clear_widgets()
        for choice in choices:
            label = f"[b]{choice.label}[/b]"
            if choice.detail:
                label += f"\n[size={round(22 * self.k)}]{choice.detail}[/size]"
            button = ChoiceButton(text=label, code=choice.code, enabled=choice.enabled)
            button.bind(on_release=lambda b, code=choice.code: self.do(action, code))
            container.add_widget(button)

    def _build_keypad(self, keypad) -> None:
        from kivy.factory import Factory

        for key in KEYPAD:
            if key in ("erase", "submit"):
                button = Factory.KioskButton() if key == "submit" else Factory.KioskQuietButton()
                label = "checkin_submit" if key == "submit" else "checkin_clear"
                action = "submit_checkin" if key == "submit" else "erase_digit"
                button.text = self.vm.t(label)
                self.bind(vm=lambda app, vm, b=button, label=label: setattr(b, "text", vm.t(label)))
                button.bind(on_release=lambda b, action=action: self.do(action))
            else:
                button = Factory.KioskButton(text=key)
                self.bind(k=lambda app, k, b=button: setattr(b, "font_size", 40 * k))
                button.font_size = 40 * self.k
                button.bind(on_release=lambda b, digit=key: self.do("press_digit", digit))
            button.size_hint_y = 1
            keypad.add_widget(button)
