"""The counter started the way ``talon counter --demo`` starts it (counter_app/cli.py →
CounterApp.run, the real dispatcher in this process) on each supported screen: every
widget inside the window, no text cut or larger than its box, touch targets ≥ 15 mm
at the panel's real DPI (7″ 800×480 and 1024×600, 10.1″ 1280×800). Screenshots go to
$TALON_SCREENSHOTS (or a temp dir)."""
import argparse
import os
import tempfile
from pathlib import Path

import pytest

from hardware.layout_check import layout_problems, screen_dpi

SIZES = {(800, 480): 7.0, (1024, 600): 7.0, (1280, 800): 10.1}
SHOTS = Path(os.environ.get("TALON_SCREENSHOTS") or tempfile.mkdtemp(prefix="talon-counter-"))


def _wait_screen(app, name, frames=40):
    for _ in range(frames):
        if app.root is not None and app.root.ids.sm.current == name:
            yield 0.3       # the screen manager lets the old screen go
            return
        yield 0.05
    raise AssertionError(f"screen {app.root.ids.sm.current!r}, expected {name!r}")


@pytest.mark.kivy
@pytest.mark.parametrize("size", list(SIZES), ids=lambda s: f"{s[0]}x{s[1]}")
def test_counter_screens_fit(size):
    import counter_app.app
    from counter_app import cli
    from hardware.screen import register_widget_classes, run_scripted, screenshot
    from hub.local import LocalHub

    register_widget_classes(counter_app.app)
    hub = LocalHub(waiting={"A": 3, "K": 2})
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--window", "1", "--demo", "--screen-inches", str(SIZES[size])])
    bus = hub.bus("counter-1")
    app = cli.build_app_from_args(args, bus, [])
    dpi = screen_dpi(SIZES[size], *size)
    found: dict[str, list[str]] = {}
    SHOTS.mkdir(parents=True, exist_ok=True)

    def check(name):
        screenshot(SHOTS / f"counter-{name}-{size[0]}x{size[1]}.png")
        found[name] = layout_problems(app.root, size, dpi)

    def script(app):
        yield from _wait_screen(app, "sign_in")
        names = [b.text for b in reversed(app.root.ids.operators.children)]
        assert names == ["Иванова Анна", "Петров Олег"]          # from state/config, no typing
        check("sign-in")
        app.select_operator("ivanova", "Иванова Анна")
        for digit in "1234":
            app.root.ids.pin.text += digit
        app.sign_in(app.selected_operator, app.root.ids.pin.text)
        yield from _wait_screen(app, "main")
        app.press("next")
        yield 0.4
        check("main")
        app.presenter.press("start")
        for _ in range(40):
            if app.presenter.view.ticket_state == "serving":
                break
            yield 0.05
        app.presenter.done(outcome=app.presenter.view.outcome_choices[0].key)
        yield from _wait_screen(app, "rating")
        check("rating")
        app.presenter.skip_rating()                                  # the operator's «Пропустить»
        yield 0.3
        assert app.root.ids.sm.current == "main"

    bus.start()
    try:
        run_scripted(app, size, script)
    finally:
        for thing in app.closing:
            thing.close() if hasattr(thing, "close") else thing.stop()
        hub.close()
    assert found == {"sign-in": [], "main": [], "rating": []}


@pytest.mark.kivy
def test_counter_accounts_screen_fits_800x480():
    """Done on an АтомЭнергоСбыт consultation (service norm per personal account) asks how
    many accounts: the quick buttons 1..4, 5+, and after 5+ the − / + stepper, at 7″ 800×480."""
    import counter_app.app
    from counter_app import cli
    from hardware.screen import register_widget_classes, run_scripted, screenshot
    from hub.local import LocalHub
    from tests.counter_app.helpers import atom_office

    size = (800, 480)
    register_widget_classes(counter_app.app)
    hub = LocalHub(atom_office(), waiting={"C": 2})
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--window", "1", "--demo", "--screen-inches", str(SIZES[size])])
    bus = hub.bus("counter-1")
    app = cli.build_app_from_args(args, bus, [])
    dpi = screen_dpi(SIZES[size], *size)
    found: dict[str, list[str]] = {}
    SHOTS.mkdir(parents=True, exist_ok=True)

    def check(name):
        screenshot(SHOTS / f"counter-{name}-{size[0]}x{size[1]}.png")
        found[name] = layout_problems(app.root, size, dpi)

    def script(app):
        yield from _wait_screen(app, "sign_in")
        app.sign_in("ivanova", "1234")
        yield from _wait_screen(app, "main")
        for press, state in ((app.presenter.next, "called"), (app.presenter.start_service, "serving")):
            assert press()
            for _ in range(40):          # requests run on the app's worker thread
                if app.presenter.view.ticket_state == state and not app.presenter.view.busy:
                    break
                yield 0.05
        app.presenter.done(outcome="done")
        yield from _wait_screen(app, "accounts")
        ids = app.root.ids
        assert [b.text for b in reversed(ids.accounts_quick.children)] == ["1", "2", "3", "4", "5+"]
        check("accounts")
        app.presenter.choose_accounts("more")
        app.presenter.step_accounts(2)
        yield 0.3
        assert ids.accounts_count.text == "7" and ids.accounts_quick.opacity == 0
        check("accounts-stepper")
        app.presenter.finish_accounts()
        yield from _wait_screen(app, "rating")

    bus.start()
    try:
        run_scripted(app, size, script)
    finally:
        for thing in app.closing:
            thing.close() if hasattr(thing, "close") else thing.stop()
        hub.close()
    assert found == {"accounts": [], "accounts-stepper": []}
    assert hub.events[-1]["kind"] == "finished" and hub.events[-1]["data"]["accounts"] == 7
