"""«Без печати — на телефон» in the real kiosk, started the way ``talon kiosk`` starts it.

``kiosk.cli.build_app`` builds the app from the real options and ``app.run()`` runs it
(``hardware.screen.run_scripted``); the script taps the buttons with touches as a visitor
would. The QR code on the screen is read back from a screenshot, module by module, and
compared with the code of the ticket's page (``tests.kiosk.qr_reading``).
"""
import os
import tempfile
from pathlib import Path

import pytest

from tests.kiosk.office_fixture import PAGE_BASE, office_bus
from tests.kiosk.qr_reading import expected_modules, read_modules

SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-kiosk-phone-"))


def store_qr_data(text: str) -> bytes:
    payload = text.encode()
    return b"\x1d(k" + (len(payload) + 3).to_bytes(2, "little") + b"\x31\x50\x30" + payload


def screen_modules(widget, png: Path) -> list[list[bool]]:
    """The modules of the QR code drawn in ``widget``, read from the screenshot ``png``."""
    from PIL import Image

    image = Image.open(png).convert("L")
    x0, y0 = widget.to_window(widget.x, widget.y)
    x1, y1 = widget.to_window(widget.right, widget.top)
    box = image.crop((int(x0), image.height - int(y1), int(x1), image.height - int(y0)))
    light = [[box.getpixel((x, y)) > 200 for x in range(box.width)] for y in range(box.height)]
    rows = [y for y, row in enumerate(light) if any(row)]
    cols = [x for x in range(box.width) if any(row[x] for row in light)]
    assert rows and cols, "no white square (the code's quiet zone) on the screen"
    code = box.crop((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))   # the code inside its quiet zone
    return read_modules([[code.getpixel((x, y)) < 128 for x in range(code.width)] for y in range(code.height)])


def until(condition, what):
    """A script's step (``hardware.screen.run_scripted``): let the app run until ``condition()``
    holds (about 10 s at most), then a moment more for the layout to settle."""
    for _ in range(200):
        if condition():
            yield 0.15
            return
        yield 0.05
    raise AssertionError(f"the kiosk did not get to {what}")


def kiosk_args():
    from tests.kiosk.test_kiosk_layout import kiosk_args as layout_kiosk_args

    return layout_kiosk_args("1280x800", 10.1)


@pytest.mark.kivy
def test_kiosk_paperless_ticket_through_the_real_app():
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.button import Button
    from qrcode.constants import ERROR_CORRECT_M

    from hardware.screen import run_scripted, screenshot
    from kiosk.app import ChoiceButton, QrCode
    from kiosk.cli import build_app

    SHOTS.mkdir(parents=True, exist_ok=True)
    bus = office_bus(PAGE_BASE)
    app = build_app(kiosk_args(), bus=bus)
    seen: dict = {}

    def script(app):
        def visible_button(text_part):
            for widget in app.root.current_screen.walk():
                if isinstance(widget, Button) and text_part in widget.text and widget.opacity > 0 \
                        and not widget.disabled and widget.width > 0:
                    return widget
            return None

        def tap(widget):
            x, y = widget.to_window(*widget.center)
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            touch.touch_up()

        def tap_through(text_part, screen):
            yield from until(lambda: visible_button(text_part) is not None, f"«{text_part}»")
            tap(visible_button(text_part))
            yield from until(lambda: app.root.current == screen, screen)

        def topic(code):
            return next(b for b in app.root.ids.topic_grid.children if isinstance(b, ChoiceButton) and b.code == code)

        yield from until(lambda: app.vm.office_name and app.root.current == "attract", "attract")
        # the first visitor: a printed ticket, whose QR code is the ticket's page
        yield from tap_through("Получить талон", "segment")
        yield from tap_through("Частные клиенты", "topics")
        seen["offered_before"] = visible_button("Без печати") is not None
        tap(topic("A"))
        yield from until(lambda: app.root.current == "ticket", "ticket")
        seen["printed"] = list(app.printer.jobs)
        yield from tap_through("Готово", "attract")
        # the second: no paper, the code on the screen
        yield from tap_through("Получить талон", "segment")
        yield from tap_through("Частные клиенты", "topics")
        tap(visible_button("Без печати — на телефон"))
        yield from until(lambda: app.vm.paperless, "paperless chosen")
        tap(topic("A"))
        yield from until(lambda: app.root.current == "phone", "the phone screen")
        yield 0.3
        seen["jobs_after_paperless"] = len(app.printer.jobs)
        seen["url"] = app.vm.ticket_url
        seen["texts"] = [w.text for w in app.root.current_screen.walk() if hasattr(w, "text")]
        qr = next(w for w in app.root.current_screen.walk() if isinstance(w, QrCode))
        png = Path(screenshot(SHOTS / "kiosk-phone-real-app.png"))
        seen["modules"] = screen_modules(qr, png)
        yield from tap_through("Готово", "attract")
        # a booking checked in without paper: «Без печати — на телефон» under the code
        yield from tap_through("У меня предварительная запись", "checkin")
        for digit in "4821":
            tap(visible_button(digit))
        yield from until(lambda: app.vm.checkin_code == "4821", "the code typed")
        yield from tap_through("Без печати — на телефон", "phone")
        seen["booking_url"] = app.vm.ticket_url
        seen["booking_lines"] = app.vm.ticket_lines
        yield from tap_through("Готово", "attract")
        # the office's web is switched off: the next reply has no page, the choice goes away
        bus.handler.page_base = None
        yield from tap_through("Получить талон", "segment")
        yield from tap_through("Частные клиенты", "topics")
        tap(topic("A"))
        yield from until(lambda: app.root.current == "ticket", "ticket")
        yield from tap_through("Готово", "attract")
        yield from tap_through("Получить талон", "segment")
        yield from tap_through("Частные клиенты", "topics")
        seen["offered_after"] = visible_button("Без печати") is not None

    run_scripted(app, (1280, 800), script)

    first_url = f"{PAGE_BASE}/t/tok15-Xq8mVx2Lr0aZ7eKfN1sYtB"
    second_url = f"{PAGE_BASE}/t/tok16-Xq8mVx2Lr0aZ7eKfN1sYtB"
    assert not seen["offered_before"]                 # not known before the first reply
    assert len(seen["printed"]) == 1 and store_qr_data(first_url) in seen["printed"][0]
    assert seen["jobs_after_paperless"] == 1          # nothing printed for the paperless ticket
    assert [op for op, _ in bus.sent] == ["issue", "issue", "checkin", "issue"]
    assert seen["url"] == second_url
    assert "Наведите камеру телефона на код" in seen["texts"] and "А016" in seen["texts"]
    assert "Перед Вами в очереди: 3 чел.\nОриентировочное время ожидания: ~12 мин\n" \
           "Пожалуйста, ожидайте приглашения на табло." in seen["texts"]
    assert seen["modules"] == expected_modules(second_url, ERROR_CORRECT_M)   # the screen's code is the page
    assert seen["modules"] != expected_modules(first_url, ERROR_CORRECT_M)
    assert seen["booking_url"] == f"{PAGE_BASE}/t/tok17-Xq8mVx2Lr0aZ7eKfN1sYtB"
    assert "Запись на 11:00" in seen["booking_lines"]
    assert not seen["offered_after"]


@pytest.mark.kivy
def test_kiosk_qr_texture_is_the_url_top_row_first():
    """The texture the screen draws: module rows in Kivy's bottom-up order, one pixel each."""
    from kivy.graphics.texture import Texture  # noqa: F401  (a GL context exists in the test session)

    from kiosk.app import QrCode
    from kiosk.qr import QUIET_ZONE, qr_matrix

    url = f"{PAGE_BASE}/t/tok15-Xq8mVx2Lr0aZ7eKfN1sYtB"
    widget = QrCode(size=(400, 400))
    widget.url = url
    size = widget.modules
    pixels = widget.texture.pixels                     # RGBA, bottom row first
    rows_top_down = [[pixels[(size - 1 - r) * size * 4 + c * 4] < 128 for c in range(size)] for r in range(size)]
    assert rows_top_down == qr_matrix(url)
    inner = [row[QUIET_ZONE:-QUIET_ZONE] for row in rows_top_down[QUIET_ZONE:-QUIET_ZONE]]
    from qrcode.constants import ERROR_CORRECT_M
    assert inner == expected_modules(url, ERROR_CORRECT_M)
    widget.url = ""
    assert widget.texture is None and widget.modules == 0


@pytest.mark.kivy
def test_kiosk_paperless_with_the_real_dispatcher():
    """The hub's own ``issue`` reply (``hub.local.LocalHub``: the real dispatcher on an
    in-memory database): the printed code and the screen's code are the ticket's page."""
    from qrcode.constants import ERROR_CORRECT_M

    from hardware.screen import run_scripted, screenshot
    from hub.local import LocalHub
    from kiosk.app import QrCode
    from kiosk.cli import build_app

    SHOTS.mkdir(parents=True, exist_ok=True)
    hub = LocalHub(waiting={"A": 2})
    for window in (1, 2):
        hub.request(f"counter-{window}", "open", {"window": window})
    app = build_app(kiosk_args(), bus=hub.bus("kiosk-1"))
    seen: dict = {}

    def script(app):
        def take(paperless: bool, screen: str):
            app.do("begin")
            yield from until(lambda: app.root.current in ("segment", "topics"), "the choice")
            if app.root.current == "segment":
                app.do("choose_segment", app.vm.segments[0].code)
                yield from until(lambda: app.root.current == "topics", "topics")
            if paperless:
                app.do("toggle_paperless")
                yield from until(lambda: app.vm.paperless, "paperless")
            app.do("choose_topic", "A")
            yield from until(lambda: app.root.current == screen, screen)

        yield from until(lambda: app.vm.office_name and app.root.current == "attract", "attract")
        seen["offered_at_start"] = app.vm.paperless_offered    # state/config office.public_url
        yield from take(False, "ticket")
        seen["printed_layout"] = app.printer.layouts[-1]
        seen["printed_job"] = app.printer.jobs[-1]
        app.do("go_home")
        yield from until(lambda: app.root.current == "attract", "attract")
        yield from take(True, "phone")
        yield 0.3
        seen["url"] = app.vm.ticket_url
        seen["jobs"] = len(app.printer.jobs)
        qr = next(w for w in app.root.current_screen.walk() if isinstance(w, QrCode))
        seen["modules"] = screen_modules(qr, Path(screenshot(SHOTS / "kiosk-phone-local-hub.png")))

    try:
        run_scripted(app, (1280, 800), script)
    finally:
        hub.close()

    assert seen["offered_at_start"]                   # before the first reply: the hub's config says so
    printed = seen["printed_layout"]
    assert printed.live_page and "/t/" in printed.qr_text
    assert store_qr_data(printed.qr_text) in seen["printed_job"]
    assert "Следите за очередью на телефоне".encode("cp866") in seen["printed_job"]
    assert seen["jobs"] == 1
    assert "/t/" in seen["url"] and seen["url"] != printed.qr_text    # each ticket its own page
    assert seen["modules"] == expected_modules(seen["url"], ERROR_CORRECT_M)
