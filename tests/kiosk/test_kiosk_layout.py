"""Every kiosk screen fits every supported screen, started the way ``talon kiosk`` starts it.

``kiosk.cli`` parses the real options (``--size``, ``--screen-diagonal``), builds the
``KioskApp`` (kiosk.kv loaded once) and ``app.run()`` runs it; a script walks through
every screen with МЭК's office (six topics with long names, four priority categories)
and ``hardware.layout_check`` lists what a person would see wrong: a widget outside
the window, text larger than its box, a touch target under 15 mm at the screen's real
DPI. Screenshots go to $TALON_SCREENSHOTS (or a temp dir) for a person to look at.
"""
import argparse
import os
import tempfile
from pathlib import Path

import pytest

from broker.fake_bus import FakeBus
from hardware.printer_status import PrinterState

SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-kiosk-layout-"))

# (size, diagonal in inches of the panel that size comes on)
SCREENS = [("1280x800", 10.1), ("800x480", 7.0), ("1024x600", 7.0), ("1080x1920", 21.5),
           ("1920x1080", 21.5)]


def mek_config() -> dict:
    from hub.states import config_state
    from queue_core.config import office_from_profile
    from queue_core.office import Office

    config = config_state(Office(office_from_profile("mek", name="Офис-центр ООО «МЭК»")))
    config["office"].update(phone="8 800 000-00-00", site="mek.example.ru")
    return config


PAGE_URL = "http://talon.mek.example.ru:8080/t/q8mVx2Lr0-aZ7eKfN1sYtB4wHc9pUdJ3oGiE5lRkQ6A"


def mek_bus(config: dict) -> FakeBus:
    """The hub; ``bus.pages = True``: the office's web serves the tickets' pages (``url``)."""
    topics = {t["code"]: t for t in config["topics"]}

    def hub(op, args):
        topic = topics.get(args.get("topic"), config["topics"][-1])
        booking = {"kind": "booking", "slot_start": "2025-03-12T11:00:00+03:00"} if op == "checkin" else {}
        page = {"url": PAGE_URL} if bus.pages else {}
        return {"ticket": {"number": f"{topic['prefix']}015", "topic": topic["code"], "kind": args.get("kind"),
                           "issued_at": "2025-03-12T10:42:00+03:00", "people_ahead": 3, "eta_min": 11.5,
                           **booking, **page}}

    bus = FakeBus(handler=hub)
    bus.pages = False
    bus.set_state("config", config)
    queue = {code: {"waiting": 3, "eta_min": 11.5, "accepting": True, "reason": None} for code in topics}
    queue["B"] = {"waiting": 0, "eta_min": 0, "accepting": False, "reason": "cutoff"}
    bus.set_state("queue", {"v": 1, "seq": 1, "at": "2025-03-12T10:42:00+03:00", "windows_open": 3,
                            "topics": queue})
    return bus


def kiosk_args(size: str, diagonal: float) -> argparse.Namespace:
    from kiosk.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(["--printer", "fake", "--size", size, "--screen-diagonal", str(diagonal),
                              "--player", "null"])


def walk(app, name: str, problems: dict):
    """The script: every screen, checked and photographed."""
    from kivy.core.window import Window

    from hardware.layout_check import layout_problems, screen_dpi

    def until(condition, what):
        for _ in range(100):
            if condition():
                yield 0.15  # let the layout settle
                return
            yield 0.03
        raise AssertionError(f"{name}: the kiosk did not get to {what}")

    def check(label):
        dpi = screen_dpi(app.screen_diagonal_in, *Window.size)
        found = layout_problems(app.root, Window.size, dpi)
        if found:
            problems[f"{name} {label}"] = found
        app.root.export_to_png(str(SHOTS / f"kiosk-{name}-{label}.png"))

    def go(action, *args, screen, label=None):
        app.do(action, *args)
        yield from until(lambda: app.vm.screen.value == screen and app.root.current == screen, screen)
        check(label or screen)

    def paperless_ticket(topics_label, phone_label):
        """«Без печати — на телефон» on the topics screen, then a ticket onto the phone screen."""
        app.do("toggle_paperless")
        yield from until(lambda: app.vm.paperless, "paperless")
        check(topics_label)
        yield from go("choose_topic", "F", screen="phone", label=phone_label)

    yield from until(lambda: app.vm.office_name and app.root.current == "attract", "attract")
    check("attract")
    yield from go("begin", screen="segment")
    yield from go("choose_segment", "b2c", screen="topics")
    yield from go("go_home", screen="attract")
    yield from go("open_priority", screen="priority")
    yield from go("choose_priority_category", "visually_impaired", screen="topics", label="topics-priority")
    yield from go("choose_topic", "F", screen="ticket")
    yield from go("open_checkin", screen="checkin", label="checkin-booking")
    for digit in "4821":
        app.do("press_digit", digit)
    yield from go("submit_checkin", screen="ticket", label="ticket-booking")     # «Запись на 11:00»
    assert "Запись на 11:00" in app.vm.ticket_lines
    yield from go("open_checkin", screen="checkin")
    yield from go("call_staff", screen="message")
    app.printer.fail_next = PrinterState.ERROR
    yield from go("begin", screen="segment", label="segment-2")
    yield from go("choose_segment", "b2c", screen="topics", label="topics-2")
    yield from go("choose_topic", "F", screen="print_failed")
    app.printer.state = PrinterState.OK
    app.do("poll_printer")
    yield from go("go_home", screen="attract", label="attract-2")
    app.bus.connected = False
    yield from go("begin", screen="segment", label="segment-3")
    yield from go("choose_segment", "b2b", screen="topics", label="topics-b2b")
    yield from go("choose_topic", "C", screen="unreachable")
    app.bus.connected = True
    yield from go("go_home", screen="attract", label="attract-3")
    app.printer.state = PrinterState.PAPER_OUT
    yield from go("poll_printer", screen="out_of_service")
    app.printer.state = PrinterState.OK
    yield from go("poll_printer", screen="attract", label="attract-4")
    # the office's web serves the tickets' pages: the printed ticket teaches the kiosk, then paperless
    app.bus.pages = True
    yield from go("choose_topic", "F", screen="ticket", label="ticket-with-page")
    yield from go("begin", screen="segment", label="segment-4")
    yield from go("choose_segment", "b2c", screen="topics", label="topics-paperless-offered")
    yield from paperless_ticket("topics-paperless-on", "phone")
    yield from go("open_checkin", screen="checkin", label="checkin-paperless")
    for digit in "4821":
        app.do("press_digit", digit)
    yield from go("submit_checkin", True, screen="phone", label="phone-booking")
    app.printer.fail_next = PrinterState.ERROR
    yield from go("go_home", screen="attract", label="attract-7")
    yield from go("begin", screen="segment", label="segment-5")
    yield from go("choose_segment", "b2c", screen="topics", label="topics-5")
    yield from go("choose_topic", "F", screen="print_failed", label="print-failed-with-page")
    yield from go("phone_instead", screen="phone", label="phone-instead")
    app.printer.state = PrinterState.PAPER_OUT
    app.do("poll_printer")
    yield from go("go_home", screen="attract", label="attract-paper-out")
    yield from go("begin", screen="segment", label="segment-paper-out")
    yield from go("choose_segment", "b2c", screen="topics", label="topics-paper-out")
    yield from go("choose_topic", "F", screen="phone", label="phone-paper-out")
    app.printer.state = PrinterState.OK
    yield from go("go_home", screen="attract", label="attract-6")
    # the high-contrast large-text mode, and English
    app.do("toggle_large_text")
    yield from until(lambda: app.contrast, "large text")
    check("attract-large")
    yield from go("open_priority", screen="priority", label="priority-large")
    yield from go("choose_priority_category", "disabled", screen="topics", label="topics-large")
    yield from go("choose_topic", "F", screen="ticket", label="ticket-large")
    yield from go("begin", screen="segment", label="segment-large")
    yield from go("choose_segment", "b2c", screen="topics", label="topics-large-2")
    yield from paperless_ticket("topics-paperless-large", "phone-large")
    yield from go("go_home", screen="attract", label="attract-5")
    app.do("switch_language")
    yield from until(lambda: app.vm.lang == "en", "English")
    check("attract-en")
    yield from go("open_priority", screen="priority", label="priority-en")
    yield from go("choose_priority_category", "disabled", screen="topics", label="topics-en")
    yield from paperless_ticket("topics-paperless-en", "phone-en")


@pytest.mark.kivy
@pytest.mark.parametrize("size,diagonal", SCREENS, ids=[s for s, _ in SCREENS])
def test_kiosk_every_screen_fits(size, diagonal):
    from hardware.screen import run_scripted
    from kiosk.cli import build_app

    SHOTS.mkdir(parents=True, exist_ok=True)
    config = mek_config()
    app = build_app(kiosk_args(size, diagonal), bus=mek_bus(config))
    width, _, height = size.partition("x")
    problems: dict[str, list[str]] = {}
    run_scripted(app, (int(width), int(height)), lambda app: walk(app, size, problems))
    assert app.printer.layouts[-1].large_print  # the large-text visitor's ticket
    assert not problems, "\n".join(f"{screen}: {p}" for screen, found in problems.items() for p in found)


@pytest.mark.kivy
def test_kiosk_kv_is_loaded_once():
    from kivy.lang import Builder

    from kiosk.app import KV_FILE
    from kiosk.cli import build_app

    app = build_app(kiosk_args("1280x800", 10.1), bus=mek_bus(mek_config()))
    assert app.load_kv() is False  # App.run must not load kiosk.kv by the class name
    root = app.build()
    assert sum(1 for f in Builder.files if os.path.samefile(f, KV_FILE)) <= 1
    assert root is app.screens
    app.dispatch("on_stop")
