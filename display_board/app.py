"""Kivy wiring for the hall board and the per-window display.

All behaviour lives in ``display_board.presenter``; the views here only copy a
model into labels. Bus callbacks come from the bus thread, so each model is
handed to the UI thread with ``Clock.schedule_once``.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from display_board.presenter import BoardModel, BoardPresenter, WindowModel, WindowPresenter
from display_board.texts import text

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).with_name("board.kv")
PANEL_RGBA = [0.07, 0.11, 0.21, 1]
FLASH_RGBA = [0.16, 0.30, 0.62, 1]
FLASH_STEP_S = 0.25
_kv_loaded = False


def load_kv() -> None:
    global _kv_loaded
    if not _kv_loaded:
        Builder.load_file(str(KV_FILE))
        _kv_loaded = True


class HistoryRow(BoxLayout):
    ticket = StringProperty("")
    window = StringProperty("")
    highlight = BooleanProperty(False)


class GridCell(BoxLayout):
    title = StringProperty("")
    ticket = StringProperty("")
    status = StringProperty("")
    state = StringProperty("open")


class BoardView(FloatLayout):
    office = StringProperty("")
    clock = StringProperty("")
    notice = StringProperty("")
    offline_text = StringProperty("")
    now_title = StringProperty("")
    now_ticket = StringProperty("")
    now_window = StringProperty("")
    now_line = StringProperty("")
    header_ticket = StringProperty("Талон")
    header_window = StringProperty("Окно")
    grid_mode = BooleanProperty(False)
    flash_rgba = ListProperty(PANEL_RGBA)
    history_rows = NumericProperty(8)

    def __init__(self, **kw):
        load_kv()
        super().__init__(**kw)
        self._rev = 0
        self._rows_key = None
        self.flashes = 0   # how many times the panel started blinking
        self._flash_ev = None

    def update(self, m: BoardModel) -> None:
        self.office, self.clock, self.notice = m.office, m.clock, m.notice
        self.offline_text = m.offline_text
        self.header_ticket, self.header_window = m.header_ticket, m.header_window
        self.grid_mode = m.grid_mode
        c = m.now_calling
        if c is None:
            self.now_title, self.now_ticket, self.now_window, self.now_line = text(m.lang, "no_calls"), "", "", ""
        else:
            self.now_title = text(m.lang, "now_calling")
            self.now_ticket = c.ticket
            self.now_window = f"{text(m.lang, 'window')} {c.window}"
            self.now_line = m.now_calling_line
        if m.now_calling_rev != self._rev:
            self._rev = m.now_calling_rev
            if c is not None:
                self.flash()
        self._fill_rows(m)

    def flash(self, times: int = 3, step_s: float = FLASH_STEP_S) -> None:
        """The visual cue that goes with the chime (REQ-V-8): the panel blinks three times.

        A stepped blink (bright / normal every ``step_s``) rather than a smooth fade: as
        visible across a hall, and 6 redraws instead of ~90, so a software renderer is
        never still busy with the blink when the next number has to appear."""
        if self._flash_ev is not None:
            self._flash_ev.cancel()
        self.flashes += 1
        self.flash_rgba = FLASH_RGBA
        steps = [2 * times - 1]

        def step(dt) -> bool:
            steps[0] -= 1
            self.flash_rgba = FLASH_RGBA if steps[0] % 2 == 0 and steps[0] > 0 else PANEL_RGBA
            if steps[0] <= 0:
                self._flash_ev = None
                return False
            return True

        self._flash_ev = Clock.schedule_interval(step, step_s)

    @property
    def flashing(self) -> bool:
        return self._flash_ev is not None

    def _fill_rows(self, m: BoardModel) -> None:
        key = (m.grid_mode, m.history, m.grid, m.history and m.history[0])
        if key == self._rows_key:
            return
        self._rows_key = key
        rows = self.ids.rows
        rows.clear_widgets()
        if m.grid_mode:
            rows.cols = 2 if len(m.grid) <= 8 else 3
            for cell in m.grid:
                rows.add_widget(GridCell(title=f"{text(m.lang, 'window')} {cell.window}", ticket=cell.ticket,
                                         status=cell.status, state=cell.state))
            return
        rows.cols = 1
        shown = list(m.history[: max(1, len(m.history))])
        slots = max(len(shown), 6)
        for i, call in enumerate(shown):
            rows.add_widget(HistoryRow(ticket=call.ticket, window=str(call.window), highlight=i == 0))
        for _ in range(slots - len(shown)):  # keep row height constant while the list fills up
            rows.add_widget(HistoryRow())


class WindowView(FloatLayout):
    title = StringProperty("")
    clock = StringProperty("")
    offline_text = StringProperty("")
    caption = StringProperty("")
    main_text = StringProperty("")
    detail = StringProperty("")
    operator = StringProperty("")
    ticket_shown = BooleanProperty(False)

    def __init__(self, **kw):
        load_kv()
        super().__init__(**kw)

    def update(self, m: WindowModel) -> None:
        self.title, self.clock, self.offline_text = m.title, m.clock, m.offline_text
        self.ticket_shown = bool(m.ticket)
        if m.ticket:
            self.caption, self.main_text, self.detail = text(m.lang, "ticket"), m.ticket, ""
        elif m.status:
            self.caption, self.main_text, self.detail = "", m.status, ""
        else:
            self.caption = ""
            self.main_text = text(m.lang, "idle") if m.state == "open" else ""
            self.detail = m.topics
        self.operator = m.operator


class BoardApp(App):
    """``presenter`` is a BoardPresenter or a WindowPresenter not yet started."""

    def __init__(self, bus, presenter, *, announcer=None, tick_s: float = 0.5, tracer=None, **kw):
        super().__init__(**kw)
        self.bus = bus
        self.presenter = presenter
        self.announcer = announcer
        self.tick_s = tick_s
        self.tracer = tracer          # display_board.trace.Tracer: timing marks (benchmarks, drills)
        self.view = None
        self._shown: str = ""         # the number on screen, for the frame mark
        self._frame_pending: str | None = None
        self._offline: str = ""

    def build(self):
        self.title = "Talon"
        self.view = WindowView() if isinstance(self.presenter, WindowPresenter) else BoardView()
        self.presenter.on_change = lambda model: Clock.schedule_once(lambda dt: self._show(model))
        if self.tracer is not None:
            from kivy.core.window import Window

            Window.bind(on_flip=self._on_flip)
            self.bus.on_connection(lambda up: self.tracer.mark("connected" if up else "disconnected"))
            prerendered = getattr(self.announcer, "prerendered", None)
            if prerendered is not None:
                def wait_prerender() -> None:
                    prerendered.wait()
                    self.tracer.mark("prerendered", getattr(self.announcer, "prerender_count", 0))
                threading.Thread(target=wait_prerender, name="trace-prerender", daemon=True).start()
        self.presenter.start()
        self._show(self.presenter.model)
        Clock.schedule_interval(lambda dt: self.presenter.tick(), self.tick_s)
        self.bus.start()
        return self.view

    def _show(self, model) -> None:
        flashes = getattr(self.view, "flashes", 0)
        self.view.update(model)
        if self.tracer is None:
            return
        if getattr(self.view, "flashes", 0) != flashes and model.now_calling is not None:
            self.tracer.mark("flash", model.now_calling.ticket)
        if model.offline_text != self._offline:
            self._offline = model.offline_text
            self.tracer.mark("offline_shown" if model.offline_text else "online_shown")
        if isinstance(model, WindowModel):
            shown = model.ticket
        else:
            shown = f"{model.now_calling.ticket}#{model.now_calling_rev}" if model.now_calling else ""
        if shown != self._shown:
            self._shown = shown
            if shown:
                self._frame_pending = shown.split("#")[0]

    def _on_flip(self, window):
        """Mark the first frame that shows a new number, right after it reached the screen."""
        if self._frame_pending is None:
            return None
        ticket, self._frame_pending = self._frame_pending, None
        window.flip()
        self.tracer.mark("frame", ticket)
        return True  # flipped already: skip the default flip

    def on_start(self):
        from deploy.watchdog import start_ui_watchdog
        start_ui_watchdog(Clock.schedule_interval, "board running")

    def on_stop(self):
        try:
            self.bus.stop()
        finally:
            if self.announcer is not None:
                self.announcer.stop(timeout=2.0)
            if self.tracer is not None:
                self.tracer.close()


def make_view(presenter: BoardPresenter | WindowPresenter):
    """A view bound synchronously to ``presenter`` (for tests and screenshots)."""
    view = WindowView() if isinstance(presenter, WindowPresenter) else BoardView()
    presenter.on_change = view.update
    presenter.start()
    view.update(presenter.model)
    return view
