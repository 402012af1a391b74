"""Kivy wiring for the hall board and the per-window display.

All behaviour lives in ``display_board.hall`` and ``display_board.window``; the views
here only copy a model into labels. The presenter runs on the UI thread: each bus
callback is handed over once with ``Clock.schedule_once`` (its ``post``), and its
listener updates the view directly.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics.opengl import glFinish, glFlush
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label

from display_board.hall import BoardModel, BoardPresenter
from display_board.texts import text
from display_board.window import WindowModel, WindowPresenter

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).with_name("board.kv")
BG_RGBA = [0.04, 0.07, 0.14, 1]     # C_BG in board.kv
PANEL_RGBA = [0.07, 0.11, 0.21, 1]
FLASH_RGBA = [0.16, 0.30, 0.62, 1]
FLASH_STEP_S = 0.25


_finish = None


def finish_frame() -> None:
    """Wait until the GPU (or Mesa's render threads) has drawn everything submitted.

    Kivy's ``glFinish`` keeps the GIL while it waits, stalling the announcer for as long as
    a frame takes to render; the same call through ctypes (via SDL's GL loader) releases
    it. Used only to time frames (tracer); falls back to Kivy's."""
    global _finish
    if _finish is None:
        _finish = glFinish
        try:
            import ctypes
            import re

            maps = Path("/proc/self/maps").read_text()
            lib = re.search(r"(/\S*/libSDL2-2[.-]\S*\.so\S*)", maps)
            if lib:
                sdl = ctypes.CDLL(lib.group(1))
                sdl.SDL_GL_GetProcAddress.restype = ctypes.c_void_p
                sdl.SDL_GL_GetProcAddress.argtypes = [ctypes.c_char_p]
                addr = sdl.SDL_GL_GetProcAddress(b"glFinish")
                if addr:
                    _finish = ctypes.CFUNCTYPE(None)(addr)
        except Exception:  # no /proc, no SDL: Kivy's call is still correct
            log.debug("ctypes glFinish unavailable", exc_info=True)
    _finish()


def load_kv() -> None:
    """Load ``board.kv`` once per process. Its rules are applied to every widget once per
    load: a second load builds each label twice, one over the other (a hall board showing
    «Р032 3 Р032 3»). ``BoardApp.load_kv`` comes here too instead of Kivy's own
    ``App.load_kv``, which would load ``board.kv`` by the app's name a second time."""
    if str(KV_FILE) not in Builder.files:
        Builder.load_file(str(KV_FILE))


class FitLabel(Label):
    """A label whose texture is only as big as its text, drawn centred in the widget.

    The usual ``text_size: self.size`` makes every texture as large as its widget: a new
    call then re-renders and uploads several near-window-sized bitmaps and blends them
    over each other every frame, which is most of a frame's cost on a software renderer.
    Text that would not fit the widget's width is still shortened with «…»."""

    def on_texture_size(self, _, size) -> None:
        if self.text_size[0] is None and size[0] > self.width > 1:
            self.text_size = (self.width, None)      # too wide: shorten to the widget

    def _unfit(self, *_) -> None:
        if self.text_size[0] is not None:
            self.text_size = (None, None)            # try the whole text again

    on_text = on_font_size = on_width = _unfit


class TintLabel(FitLabel):
    """Rendered once in white and coloured when drawn (``tint``): a highlight that moves
    from row to row costs no new texture."""

    tint = ColorProperty([1, 1, 1, 1])


class HistoryRow(BoxLayout):
    ticket = StringProperty("")
    window = StringProperty("")
    highlight = BooleanProperty(False)


class GridCell(BoxLayout):
    title = StringProperty("")
    ticket = StringProperty("")
    status = StringProperty("")
    state = StringProperty("open")


MIN_HISTORY_ROWS = 6


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
    paint_background = BooleanProperty(True)   # False when the window is cleared in BG_RGBA

    def __init__(self, **kw):
        load_kv()
        super().__init__(**kw)
        self._rev = 0
        self._rows_key = None
        self._history_rows: list[HistoryRow] = []   # created once, then only re-labelled
        self._grid_cells: list[GridCell] = []
        self.flashes = 0   # how many times the panel started blinking
        self._flash_ev = None

    def update(self, m: BoardModel) -> None:
        """Copy the model into the widgets in place: Kivy properties skip equal values,
        so only labels whose text really changed render a new texture."""
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
        never still busy with the blink when the next number has to appear. The first
        bright step is part of the frame that shows the new number (no extra frame)."""
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
        key = (m.lang, m.grid_mode, m.history, m.history_size, m.grid)
        if key == self._rows_key:
            return
        self._rows_key = key
        if m.grid_mode:
            self._fill_grid(m)
        else:
            self._fill_history(m)

    def _place(self, widgets: list) -> None:
        """Show ``widgets`` top to bottom in the rows grid (re-adding is cheap: no kv rules
        are applied again and no label is re-rendered; only positions change)."""
        rows = self.ids.rows
        if list(reversed(rows.children)) != widgets:
            rows.clear_widgets()
            for w in widgets:
                rows.add_widget(w)

    def _fill_history(self, m: BoardModel) -> None:
        """The «Талон | Окно» list. The rows are made once (as many as the list can hold, so
        their height never changes) and a row keeps the call it shows: a new call moves
        the rows down and re-labels one row, instead of rebuilding or re-labelling all."""
        self._grid_cells = []
        self.ids.rows.cols = 1
        pool = self._history_rows
        slots = max(MIN_HISTORY_ROWS, m.history_size, len(m.history))
        while len(pool) < slots:
            pool.append(HistoryRow())
        del pool[slots:]
        showing = {(r.ticket, r.window): r for r in pool if r.ticket}
        order: list[HistoryRow | None] = [showing.pop((c.ticket, str(c.window)), None) for c in m.history]
        taken = {id(r) for r in order if r is not None}
        free = [r for r in pool if id(r) not in taken]
        for i, call in enumerate(m.history):
            if order[i] is None:   # a new line: prefer a free row that already shows its window
                row = next((r for r in free if r.window == str(call.window)), free[0])
                free.remove(row)
                order[i] = row
        order += free
        for i, row in enumerate(order):
            if i < len(m.history):
                call = m.history[i]
                row.ticket, row.window = call.ticket, str(call.window)
            else:
                row.ticket = row.window = ""
            row.highlight = i == 0 and bool(row.ticket)
        self._place(order)

    def _fill_grid(self, m: BoardModel) -> None:
        cells = self._grid_cells
        while len(cells) < len(m.grid):
            cells.append(GridCell())
        del cells[len(m.grid):]
        self.ids.rows.cols = 2 if len(m.grid) <= 8 else 3
        for cell, wc in zip(cells, m.grid):
            cell.title = f"{text(m.lang, 'window')} {wc.window}"
            cell.ticket, cell.status, cell.state = wc.ticket, wc.status, wc.state
        self._place(list(cells))


class WindowView(FloatLayout):
    title = StringProperty("")
    clock = StringProperty("")
    offline_text = StringProperty("")
    caption = StringProperty("")
    main_text = StringProperty("")
    detail = StringProperty("")
    operator = StringProperty("")
    ticket_shown = BooleanProperty(False)
    paint_background = BooleanProperty(True)

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

    def load_kv(self, filename=None) -> bool:
        """Instead of Kivy's load by the app's name (``board.kv`` again): see ``load_kv``."""
        load_kv()
        return True

    def build(self):
        from host.stopping import stop_on_sigterm
        stop_on_sigterm(Clock.schedule_once, self.stop)   # before the bus starts: systemd stop runs on_stop
        self.title = "Talon"
        self.view = WindowView() if isinstance(self.presenter, WindowPresenter) else BoardView()
        # The presenter lives on this (the UI) thread: its listener draws at once.
        self.presenter.on_change(self._show)
        from kivy.core.window import Window

        # The window is cleared every frame anyway: clearing it in the background colour
        # saves blending one more full-window layer (a screenshot of the view alone still
        # paints its own background).
        Window.clearcolor = BG_RGBA
        self.view.paint_background = False
        Window.bind(on_flip=self._on_flip)
        if self.tracer is not None:
            self.bus.on_connection(lambda up: self.tracer.mark("connected" if up else "disconnected"))
            prerendered = getattr(self.announcer, "prerendered", None)
            if prerendered is not None:
                def wait_prerender() -> None:
                    prerendered.wait()
                    self.tracer.mark("prerendered", getattr(self.announcer, "prerender_count", 0))
                threading.Thread(target=wait_prerender, name="trace-prerender", daemon=True).start()
        # schedule_once(timeout 0) from the bus thread: each callback runs, and its model is
        # shown, in the very next frame (the interrupt clock, see cli.run, wakes the loop at once).
        self.presenter.start(post=lambda fn, *args: Clock.schedule_once(lambda dt: fn(*args)))
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
        """Swap, then make the renderer start on the frame now.

        A swap of an offscreen (pbuffer) surface does not flush: a software renderer then
        queues frame after frame (the clock, each blink step) and renders them all at the
        next texture upload, i.e. inside the frame of the next call. ``glFlush`` hands each
        frame to Mesa's render threads right away. With a tracer, the first frame showing a
        new number is waited for (``glFinish``) so its ``frame`` mark means drawn."""
        window.flip()
        glFlush()
        if self._frame_pending is not None and self.tracer is not None:
            ticket, self._frame_pending = self._frame_pending, None
            finish_frame()
            self.tracer.mark("frame", ticket)
        return True  # flipped already: skip the default flip

    def on_start(self):
        from host.watchdog import start_ui_watchdog
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
    presenter.on_change(view.update)
    presenter.start()
    view.update(presenter.model)
    return view
