"""The counter started the way ``talon counter --demo`` starts it (counter_app/cli.py →
CounterApp.run, the real dispatcher in this process) on each supported screen: every
widget inside the window, no text cut or larger than its box, touch targets ≥ 15 mm
at the panel's real DPI (7″ 800×480 and 1024×600, 10.1″ 1280×800). Screenshots go to
$TALON_SCREENSHOTS (or a temp dir)."""
import os
import tempfile
import time
from pathlib import Path

import pytest

from hardware.layout_check import layout_problems, screen_dpi

SIZES = {(800, 480): 7.0, (1024, 600): 7.0, (1280, 800): 10.1}
SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-counter-"))
WAIT_S = 30.0   # a bound on waiting for the hub and the request worker, not a timing check


def _wait_until(condition, what: str):
    """Script steps until ``condition()`` holds (then a moment for the layout to settle)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the counter did not get there: {what}")
        yield 0.05
    yield 0.3       # the screen manager lets the old screen go


def _wait_screen(app, name):
    yield from _wait_until(lambda: app.root is not None and app.root.ids.sm.current == name, f"screen {name!r}")


def _layout_check(size):
    """``check(app, name)``: a screenshot, and the layout problems into ``found[name]``."""
    from hardware.screen import screenshot

    dpi = screen_dpi(SIZES[size], *size)
    found: dict[str, list[str]] = {}
    SHOTS.mkdir(parents=True, exist_ok=True)

    def check(app, name):
        screenshot(SHOTS / f"counter-{name}-{size[0]}x{size[1]}.png")
        found[name] = layout_problems(app.root, size, dpi)

    return found, check


@pytest.mark.kivy
@pytest.mark.parametrize("size", list(SIZES), ids=lambda s: f"{s[0]}x{s[1]}")
def test_counter_screens_fit(size):
    from hub.local import LocalHub
    from talon.screens import run_counter

    found, check = _layout_check(size)

    def script(app):
        yield from _wait_screen(app, "sign_in")
        names = [b.text for b in reversed(app.root.ids.operators.children)]
        assert names == ["Иванова Анна", "Петров Олег"]          # from state/config, no typing
        check(app, "sign-in")
        app.select_operator("ivanova", "Иванова Анна")
        for digit in "1234":
            app.root.ids.pin.text += digit
        app.sign_in(app.selected_operator, app.root.ids.pin.text)
        yield from _wait_screen(app, "main")
        app.press("next")
        yield from _wait_until(lambda: app.presenter.view.ticket_state == "called" and not app.presenter.view.busy,
                               "a ticket called")
        check(app, "main")
        app.presenter.press("start")
        yield from _wait_until(lambda: app.presenter.view.ticket_state == "serving" and not app.presenter.view.busy,
                               "the service started")
        app.presenter.done(outcome=app.presenter.view.outcome_choices[0].key)
        yield from _wait_screen(app, "rating")
        check(app, "rating")
        app.presenter.skip_rating()                                  # the operator's «Пропустить»
        yield from _wait_screen(app, "main")

    run_counter(LocalHub(waiting={"A": 3, "K": 2}), size, SIZES[size], script)
    assert found == {"sign-in": [], "main": [], "rating": []}


@pytest.mark.kivy
def test_counter_accounts_screen_fits_800x480():
    """Done on an АтомЭнергоСбыт consultation (service norm per personal account) asks how
    many accounts: the quick buttons 1..4, 5+, and after 5+ the − / + stepper, at 7″ 800×480."""
    from hub.local import LocalHub
    from talon.screens import run_counter
    from tests.counter_app.helpers import atom_office

    size = (800, 480)
    found, check = _layout_check(size)

    def script(app):
        yield from _wait_screen(app, "sign_in")
        app.sign_in("ivanova", "1234")
        yield from _wait_screen(app, "main")
        for press, state in ((app.presenter.next, "called"), (app.presenter.start_service, "serving")):
            assert press()
            yield from _wait_until(lambda state=state: app.presenter.view.ticket_state == state
                                   and not app.presenter.view.busy, f"ticket {state}")   # on the app's worker thread
        app.presenter.done(outcome="done")
        yield from _wait_screen(app, "accounts")
        ids = app.root.ids
        assert [b.text for b in reversed(ids.accounts_quick.children)] == ["1", "2", "3", "4", "5+"]
        check(app, "accounts")
        app.presenter.choose_accounts("more")
        app.presenter.step_accounts(2)
        yield from _wait_until(lambda: ids.accounts_count.text == "7" and ids.accounts_quick.opacity == 0,
                               "the stepper at 7")
        check(app, "accounts-stepper")
        app.presenter.finish_accounts()
        yield from _wait_screen(app, "rating")

    hub = LocalHub(atom_office(), waiting={"C": 2})
    run_counter(hub, size, SIZES[size], script)
    assert found == {"accounts": [], "accounts-stepper": []}
    assert hub.events[-1]["kind"] == "finished" and hub.events[-1]["data"]["accounts"] == 7


@pytest.mark.kivy
def test_a_stopped_counter_no_longer_ticks():
    """Kivy's clock outlives the app (tests and ``talon screens`` run one app after another):
    the timer tick is cancelled with the app, not left calling a presenter nobody sees."""
    from kivy.clock import Clock

    from hub.local import LocalHub
    from talon.screens import run_counter

    ran = []

    def script(app):
        yield from _wait_screen(app, "sign_in")
        ran.append(app)

    run_counter(LocalHub(), (800, 480), SIZES[(800, 480)], script)
    (app,) = ran
    ticks = []
    app.presenter.tick = lambda: ticks.append(1)
    deadline = time.monotonic() + 2.0        # four times the tick's 0.5 s period
    while time.monotonic() < deadline:
        Clock.tick()
    assert ticks == []
