"""The real counter app (Kivy, offscreen) on the real hub in this process (``hub.local``), driven by touches.

Screenshots go to $TALON_SCREENSHOTS (or a temp dir) for a person to look at.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from tests.counter_app.helpers import FakeClock

SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-counter-"))


def counter_app():
    from kivy.tests.async_common import UnitKivyApp

    from counter_app.app import CounterApp
    from counter_app.presenter import CounterPresenter
    from hub.local import LocalHub

    class TestCounterApp(UnitKivyApp, CounterApp):
        pass

    clock = FakeClock()     # the hub's timestamps and the counter's timers: time moves when the test says
    hub = LocalHub(waiting={"A": 3, "K": 2, "P": 1}, clock=clock.now)
    bus = hub.bus("counter-1")
    app = TestCounterApp(presenter=CounterPresenter(bus, 1, now=clock.now, monotonic=clock.monotonic))
    app.hub, app.bus, app.clock = hub, bus, clock
    return app


async def touch(app, widget):
    async for _ in app.do_touch_down_up(widget=widget):
        pass
    await app.wait_clock_frames(3)


async def wait_until(app, condition, what: str, timeout_s: float = 30.0):
    """Let the app run frames until ``condition()``; a generous bound, not a timing check."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the counter did not get there: {what}")
        await app.wait_clock_frames(1)


async def screenshot(app, name: str) -> Path:
    """Render every top-level widget (screen + any open dialog) into one PNG.

    ``Window.screenshot`` would read the offscreen framebuffer, which keeps the fixture's
    320×240 size after ``Window.size`` changes; an Fbo draws at the logical size.
    """
    from kivy.core.image import Image
    from kivy.core.window import Window
    from kivy.graphics import ClearBuffers, ClearColor, Fbo, Scale, Translate

    await app.wait_clock_frames(3)
    width, height = Window.size
    fbo = Fbo(size=(width, height), with_stencilbuffer=True)
    with fbo:
        ClearColor(0, 0, 0, 1)
        ClearBuffers()
        Scale(1, -1, 1)
        Translate(0, -height, 0)
    moved = []
    for child in reversed(Window.children):
        index = Window.canvas.indexof(child.canvas)
        if index > -1:
            Window.canvas.remove(child.canvas)
            moved.append((index, child.canvas))
        fbo.add(child.canvas)
    fbo.draw()
    for index, canvas in reversed(moved):
        fbo.remove(canvas)
        Window.canvas.insert(index, canvas)
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    Image(fbo.texture).save(str(path), flipped=False)
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.kivy
@pytest.mark.parametrize("kivy_app", [[counter_app]], indirect=True)  # kivy.tests.common.async_run, minus its fixture wrapping that pytest 9 refuses
async def test_counter_app_next_by_touch(kivy_app):
    from kivy.core.window import Window

    app = kivy_app
    original = Window.size
    Window.size = (800, 480)
    try:
        await _drive(app)
    finally:
        Window.size = original        # later Kivy tests in this process expect the window as it was


async def _drive(app):
    bus, hub = app.bus, app.hub

    await app.wait_clock_frames(5)
    ids = app.root.ids
    assert ids.sm.current == "sign_in"

    # sign in with the on-screen form
    ids.operator_code.text = "ivanova"
    ids.pin.text = "1234"
    await touch(app, ids.sign_in_button)
    assert bus.sent[-1] == ("sign_in", {"window": 1, "operator": "ivanova", "pin": "1234"})
    assert ids.sm.current == "main" and ids.pin.text == ""
    assert ids.state_text.text == "Окно открыто"                  # signing in opens the window

    # the first button is «Вызвать следующего» on an open window («Открыть окно» on a closed one)
    assert ids.btn_next.action == "next"
    assert ids.btn_next.text == "Вызвать следующего" and ids.btn_next.available
    assert not ids.btn_break.available                              # the last open window of three

    await touch(app, ids.btn_next)
    assert bus.sent[-1] == ("call_next", {"window": 1})
    assert ids.ticket_number.text == "А001"
    assert ids.message.text == "Вызван талон А001"
    await screenshot(app, "counter-called")

    # a dimmed button still answers: Break while a client is called says why
    assert not ids.btn_break.available and not ids.btn_done.available and ids.btn_start.available
    await touch(app, ids.btn_break)
    assert bus.sent[-1][0] == "call_next"
    assert ids.message.text == "«Перерыв» сейчас недоступно: Окно открыто · Талон А001: Вызван"

    await touch(app, ids.btn_start)
    assert bus.sent[-1][0] == "start"
    assert ids.timer.text == "00:00"
    app.clock.advance(5)                          # the app's periodic tick redraws the timer
    await wait_until(app, lambda: ids.timer.text != "00:00", "the timer moved")
    assert ids.timer.text == "00:05"

    # Done asks for the outcome, then the visitor rates
    await touch(app, ids.btn_done)
    assert app.popup is not None
    await screenshot(app, "counter-done-outcome")
    first_choice = app.popup.ids.choices.children[-1]
    assert first_choice.text == "Вопрос решён"
    await touch(app, first_choice)
    assert bus.sent[-1] == ("finish", {"window": 1, "outcome": "done"})
    assert ids.sm.current == "rating"
    await screenshot(app, "counter-rating")
    excellent = ids.rating_buttons.children[-1]
    await touch(app, excellent)
    assert bus.sent[-1] == ("rate", {"window": 1, "ticket": "А001", "score": 5})
    assert (hub.events[-1]["kind"], hub.events[-1]["data"]) == ("rated", {"score": 5})
    assert ids.sm.current == "thanks"
    await screenshot(app, "counter-thanks")

    # back to work; the hub goes away: the next press is refused with the reason on screen
    app.presenter.skip_rating()
    await app.wait_clock_frames(3)
    bus.set_connected(False)
    await touch(app, ids.btn_next)
    assert ids.message.text == "Нет связи с сервером очереди — действие не выполнено"
    assert bus.sent[-1][0] == "rate"
    await screenshot(app, "counter-disconnected")
