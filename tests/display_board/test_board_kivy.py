"""Real Kivy windows (offscreen): the board's labels show the model; screenshots are kept
in $TALON_SCREENSHOTS (or a temp dir) for a person to look at."""
import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from kivy.tests.common import GraphicUnitTest

from broker.fake_bus import FakeBus
from tests.display_board.test_board_presenter import CONFIG, board_state, called, window_state

NOW = datetime(2025, 3, 3, 10, 30, tzinfo=timezone(timedelta(hours=5)))
SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-board-"))


@pytest.mark.kivy
class BoardKivyTest(GraphicUnitTest):
    def show(self, view, name):
        from kivy.base import EventLoop

        self.Window.size = (1280, 720)
        if view.parent is None:
            self.Window.add_widget(view)
        for _ in range(4):
            EventLoop.idle()
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        view.export_to_png(str(path))
        assert path.stat().st_size > 10_000
        return view

    def test_board_hall_view_labels(self):
        from display_board.app import HistoryRow, make_view
        from display_board.hall import BoardPresenter

        bus = FakeBus()
        bus.set_state("config", CONFIG)
        bus.set_state("board", board_state(3, [("К007", 1, 0), ("А014", 2, 0)]))
        presenter = BoardPresenter(bus, min_display_s=0, now=lambda: NOW)
        view = make_view(presenter)
        bus.emit(called(4, "А015", 3))
        view = self.show(view, "board-hall")
        ids = view.ids
        assert ids.now_ticket.text == "А015"
        assert ids.now_window.text == "Окно 3"
        assert ids.now_line.text == "Приглашается талон А015 в окно 3"
        assert ids.office.text == "Офис-центр" and ids.clock.text == "10:30"
        assert (ids.header_ticket.text, ids.header_window.text) == ("Талон", "Окно")
        assert ids.notice.text == "Ведётся видео- и аудиозапись"
        rows = [w for w in reversed(ids.rows.children) if isinstance(w, HistoryRow) and w.ticket]
        assert [(r.ticket, r.window) for r in rows] == [("А015", "3"), ("К007", "1"), ("А014", "2")]
        assert rows[0].highlight and not rows[1].highlight
        assert ids.offline.opacity == 0
        # the bus drops: the badge appears, the calls stay
        bus.set_connected(False)
        self.show(view, "board-hall-offline")
        assert ids.offline.text == "Нет связи с 10:30" and ids.offline.opacity == 1
        assert ids.now_ticket.text == "А015"

    def test_board_grid_and_window_views(self):
        from display_board.app import GridCell, make_view
        from display_board.hall import BoardPresenter
        from display_board.window import WindowPresenter

        bus = FakeBus()
        bus.set_state("config", CONFIG)
        bus.set_state("window/3", {**window_state("closed"), "window": 3})
        view = make_view(BoardPresenter(bus, grid=True, now=lambda: NOW))
        bus.emit(called(1, "А001", 1))
        self.show(view, "board-grid")
        cells = {c.title: c for c in view.ids.rows.children if isinstance(c, GridCell)}
        assert cells["Окно 1"].ticket == "А001" and cells["Окно 3"].status == "Окно закрыто"
        self.Window.remove_widget(view)

        bus.set_state("window/2", window_state(ticket="А015"))
        wview = make_view(WindowPresenter(bus, 2, now=lambda: NOW))
        self.show(wview, "window-ticket")
        assert (wview.ids.title.text, wview.ids.main.text) == ("Окно 2", "А015")
        assert wview.ids.operator.text == "Вас обслуживает: Иванова Анна"
        bus.set_state("window/2", window_state("paused", break_kind="lunch"))
        self.show(wview, "window-lunch")
        assert wview.ids.main.text == "Обеденный перерыв"
        bus.set_state("window/2", window_state())
        self.show(wview, "window-idle")
        assert wview.ids.main.text == "Окно свободно"
        assert wview.ids.topics.text == "Платёжные документы, Консультация"

    def test_board_new_call_updates_widgets_in_place(self):
        """A new call re-labels widgets, it does not rebuild them: the history rows are the
        same objects (moved down one place), unchanged labels keep their textures, and the
        highlight is a tint, not a re-rendered label."""
        from display_board.app import HistoryRow, make_view
        from display_board.hall import BoardPresenter

        bus = FakeBus()
        bus.set_state("config", CONFIG)
        bus.set_state("board", board_state(3, [("К007", 1, 0), ("А014", 2, 0)]))
        view = make_view(BoardPresenter(bus, min_display_s=0, now=lambda: NOW))
        self.show(view, "board-before-call")
        rows_before = list(reversed(view.ids.rows.children))
        top = rows_before[0]
        top_texture = top.children[-1].texture     # the ticket label of the К007 row
        title_texture = view.ids.now_title.texture
        bus.emit(called(4, "А015", 3))
        self.show(view, "board-after-call")
        rows = list(reversed(view.ids.rows.children))
        assert all(isinstance(r, HistoryRow) for r in rows)
        assert {id(r) for r in rows} == {id(r) for r in rows_before}   # reused, not rebuilt
        assert [(r.ticket, r.window, r.highlight) for r in rows[:3]] == [
            ("А015", "3", True), ("К007", "1", False), ("А014", "2", False)]
        assert rows[1] is top and top.children[-1].texture is top_texture   # moved, not re-rendered
        assert view.ids.now_title.texture is title_texture                   # unchanged label untouched
        assert view.ids.now_ticket.texture_size[0] < view.ids.now_ticket.width  # sized to its text
