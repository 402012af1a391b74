"""The real Kivy kiosk (offscreen) on FakeBus and FakePrinter: a tap prints a ticket.

Screenshots of every screen go to $TALON_SCREENSHOTS (or a temp dir) for a person to
look at.
"""
import os
import tempfile
import time
from pathlib import Path

import pytest
from kivy.tests.common import GraphicUnitTest, UnitTestTouch

from hardware.printer_fake import FakePrinter
from hardware.printer_status import PrinterState
from tests.kiosk.office_fixture import office_bus

SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-kiosk-"))
MAX_FRAMES = 2000  # a bound on waiting for the worker thread, not a timing assertion


@pytest.mark.kivy
class KioskKivyTest(GraphicUnitTest):
    def setUp(self):
        super().setUp()
        from kiosk.app import KioskApp

        self.Window.size = (1280, 800)
        self.bus = office_bus()
        self.printer = FakePrinter()
        self.app = KioskApp(self.bus, self.printer)
        self.root = self.app.build()
        self.Window.add_widget(self.root)
        self.wait_for(lambda: self.app.vm.office_name and self.root.current == "attract")

    def tearDown(self):
        self.app.dispatch("on_stop")  # also makes kv forget this app (ProxyApp)
        self.Window.remove_widget(self.root)
        super().tearDown()

    def wait_for(self, condition):
        from kivy.base import EventLoop

        for _ in range(MAX_FRAMES):
            EventLoop.idle()
            if condition():
                for _ in range(3):  # let the layout settle before looking
                    EventLoop.idle()
                return
            time.sleep(0.005)
        raise AssertionError("the kiosk did not get there")

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"kiosk-{name}.png"
        self.root.export_to_png(str(path))
        assert path.stat().st_size > 10_000

    def tap(self, widget):
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def button(self, text_part, root=None):
        from kivy.uix.button import Button

        for widget in (root or self.root.current_screen).walk():
            if isinstance(widget, Button) and text_part in widget.text:
                return widget
        raise AssertionError(f"no button with {text_part!r}")

    def go(self, action, *args, screen):
        self.app.do(action, *args)
        self.wait_for(lambda: self.root.current == screen)

    def test_kiosk_tap_topic_prints_ticket_and_shows_take_your_ticket(self):
        from kiosk.app import ChoiceButton

        self.shot("attract")
        self.tap(self.button("Получить талон"))
        self.wait_for(lambda: self.root.current == "segment")
        self.shot("segment")
        self.tap(self.button("Частные клиенты"))
        self.wait_for(lambda: self.root.current == "topics")
        self.shot("topics")
        buttons = [w for w in self.root.ids.topic_grid.children if isinstance(w, ChoiceButton)]
        closed = next(b for b in buttons if b.code == "K")
        assert not closed.enabled and "на сегодня завершён" in closed.text
        for button in buttons:  # touch targets of at least 15 mm
            from kivy.metrics import mm
            assert button.height >= mm(15)
        self.tap(next(b for b in buttons if b.code == "A"))
        self.wait_for(lambda: self.root.current == "ticket")
        self.shot("ticket")
        texts = [w.text for w in self.root.current_screen.walk() if hasattr(w, "text")]
        assert "Возьмите, пожалуйста, талон" in texts
        assert "А015" in texts
        assert self.bus.sent == [("issue", {"topic": "A", "kind": "walk_in", "segment": "b2c"})]
        assert len(self.printer.jobs) == 1
        job = self.printer.jobs[0]
        assert job.index(b"\x1bt\x11") < job.index("А015".encode("cp866"))
        assert b"\x1d!\x33" + b"\x1db\x01\x1bE\x01" + "А015".encode("cp866") in job

    def test_kiosk_other_screens(self):
        self.go("open_checkin", screen="checkin")
        for digit in "4821":
            self.tap(self.button(digit, self.root.ids.keypad))
        self.wait_for(lambda: self.app.vm.checkin_code == "4821")
        self.shot("checkin")
        self.go("go_home", screen="attract")

        self.go("open_priority", screen="priority")
        self.shot("priority")
        self.go("choose_priority_category", "disabled", screen="topics")
        self.shot("topics-priority")
        self.go("go_home", screen="attract")

        self.printer.fail_next = PrinterState.ERROR
        self.go("begin", screen="segment")
        self.go("choose_segment", "b2c", screen="topics")
        self.go("choose_topic", "A", screen="print_failed")
        self.shot("print-failed")
        self.printer.state = PrinterState.OK
        self.tap(self.button("Напечатать ещё раз"))
        self.wait_for(lambda: self.root.current == "ticket")
        assert len(self.printer.jobs) == 1 and len(self.bus.sent) == 1

        self.go("go_home", screen="attract")
        self.bus.connected = False
        self.go("begin", screen="segment")
        self.go("choose_segment", "b2c", screen="topics")
        self.go("choose_topic", "A", screen="unreachable")
        self.shot("hub-unreachable")
        self.button("Вызов персонала")
        self.bus.connected = True
        self.tap(self.button("Повторить"))
        self.wait_for(lambda: self.root.current == "ticket")
        assert len(self.bus.request_ids) == 2 and self.bus.request_ids[1] is not None

        self.go("go_home", screen="attract")
        self.bus.set_connected(False)
        self.go("go_home", screen="attract")
        self.wait_for(lambda: self.app.vm.banner)
        self.shot("attract-offline")
        self.bus.set_connected(True)

        self.printer.state = PrinterState.PAPER_OUT
        self.go("poll_printer", screen="out_of_service")
        self.shot("out-of-service")
        assert self.bus.statuses[-1]["printer"]["state"] == "paper_out"
        self.printer.state = PrinterState.OK
        self.go("poll_printer", screen="attract")

        self.app.do("switch_language")
        self.wait_for(lambda: self.app.vm.lang == "en")
        self.shot("attract-en")
