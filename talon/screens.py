"""``talon screens``: every screen of every role, at each supported size, as PNG pictures.

    talon screens --out screens/            # kiosk, counter, board, window display, grid, tickets
    talon screens --out shots --only board --check

Each app is built by its own command's code (``kiosk.cli.build_app``,
``counter_app.cli.build_app_from_args``, ``display_board.cli.build_app``) and run with
``App.run()`` in an offscreen window, on a bus of the real dispatcher in this process
(``hub.local.LocalHub``: a demo office with visitors waiting), so the screens show real
data. The printed tickets are rendered in the printer's image mode (58 and 80 mm).
With ``--check`` every picture is also checked by ``hardware.layout_check`` (widgets
inside the window, text inside its box, touch targets of 15 mm at the panel's DPI) and
the problems are printed; the exit status is 1 when there are any.
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

KIOSK_SIZES = {(1280, 800): 10.1, (800, 480): 7.0, (1024, 600): 7.0, (1080, 1920): 21.5, (1920, 1080): 21.5}
COUNTER_SIZES = {(800, 480): 7.0, (1024, 600): 7.0, (1280, 800): 10.1}
BOARD_SIZES = {(1920, 1080): 43.0, (1280, 720): 32.0, (1366, 768): 32.0, (1080, 1920): 43.0}
ROLES = ("board", "window", "grid", "counter", "kiosk", "ticket")   # the kiosk last: it stays bound to the window


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="screens", metavar="DIR", help="folder for the PNG files (default ./screens)")
    parser.add_argument("--only", action="append", choices=ROLES, metavar="ROLE",
                        help=f"only these roles ({', '.join(ROLES)}; repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="check every screen's layout and print the problems (exit 1 if any)")


def _size_name(size) -> str:
    return f"{size[0]}x{size[1]}"


class Shooter:
    """Takes the pictures and collects the layout problems."""

    def __init__(self, out: Path, check: bool):
        self.out, self.check = out, check
        self.problems: dict[str, list[str]] = {}
        self.files: list[Path] = []

    def shot(self, app, name: str, size, inches: float) -> None:
        from hardware.layout_check import layout_problems, screen_dpi
        from hardware.screen import screenshot

        path = self.out / f"{name}.png"
        screenshot(path)
        self.files.append(path)
        if self.check:
            from kivy.core.window import Window

            found = []
            for root in list(Window.children):
                found += layout_problems(root, size, screen_dpi(inches, *size))
            if found:
                self.problems[name] = found


def _reset_loop() -> None:
    """Let the next app run after the previous one stopped the event loop, without the kv
    rules of the previous one (an app that does not unload its file on stop)."""
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.lang import Builder

    for child in list(Window.children):     # popups the previous app left open
        Window.remove_widget(child)
    for name in list(Builder.files):
        if name not in _BASE_KV:
            Builder.unload_file(name)
    if EventLoop.quit:
        EventLoop.quit = False
        EventLoop.status = "started"


_BASE_KV: set[str] = set()


def _office():
    from hub.local import LocalHub

    hub = LocalHub(waiting={"A": 4, "K": 3, "P": 1})
    for w in (1, 2, 3):
        hub.request(f"counter-{w}", "open", {"window": w})
    hub.request("counter-1", "sign_in", {"window": 1, "operator": "ivanova", "pin": "1234"})
    for w in (1, 2, 3):
        hub.request(f"counter-{w}", "call_next", {"window": w})
    return hub


def _parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def shoot_board(shooter: Shooter, role: str) -> None:
    from display_board import app as board_app
    from display_board import cli
    from hardware.screen import register_widget_classes

    register_widget_classes(board_app)
    extra = {"board": [], "grid": ["--grid"], "window": ["--window", "1"]}[role]
    for size, inches in BOARD_SIZES.items():
        hub = _office()
        args = _parse(cli, ["--no-sound", "--min-display", "0", *extra])
        app = cli.build_app(args, hub.bus("board-1" if role != "window" else "board-w1"))

        def script(app, size=size, inches=inches):
            yield 0.5
            shooter.shot(app, f"{role}-{_size_name(size)}", size, inches)

        _run_then_close(app, hub, size, script)


def _run_then_close(app, hub, size, script) -> None:
    """Run one app for its pictures (``hardware.screen.run_scripted``), then close the hub
    it ran on, whatever happened."""
    from hardware.screen import run_scripted

    _reset_loop()
    try:
        run_scripted(app, size, script)
    finally:
        hub.close()


def _wait(app, test, steps: int = 60):
    for _ in range(steps):
        if test():
            break
        yield 0.05
    yield 0.3


def run_counter(hub, size, inches: float, script) -> None:
    """The counter of window 1 as ``talon counter --demo --screen-inches INCHES`` builds it
    (``counter_app.cli``), on a bus of ``hub`` (a ``hub.local.LocalHub``), run in a ``size``
    window and driven by ``script(app)`` (``hardware.screen.run_scripted``); its request
    worker and the hub are closed after, whatever happened. For this command and tests."""
    from counter_app import app as counter_app_module
    from counter_app import cli
    from hardware.screen import register_widget_classes, run_scripted

    register_widget_classes(counter_app_module)
    bus = hub.bus("counter-1")
    app = cli.build_app_from_args(_parse(cli, ["--window", "1", "--demo", "--screen-inches", str(inches)]), bus, [])
    bus.start()
    try:
        run_scripted(app, size, script)
    finally:
        app.close_parts()
        hub.close()


def shoot_counter(shooter: Shooter) -> None:
    from hub.local import LocalHub

    for size, inches in COUNTER_SIZES.items():
        name = _size_name(size)

        def script(app, size=size, inches=inches, name=name):
            ids = app.root.ids
            yield from _wait(app, lambda: ids.sm.current == "sign_in")
            ops = app.presenter.view.operators
            if ops:
                app.select_operator(ops[0].key, ops[0].label)
            ids.pin.text = "12"
            yield 0.2
            shooter.shot(app, f"counter-sign-in-{name}", size, inches)
            app.sign_in(app.selected_operator or "ivanova", "1234")
            yield from _wait(app, lambda: ids.sm.current == "main")
            app.press("next")
            yield from _wait(app, lambda: app.presenter.view.ticket_state == "called")
            shooter.shot(app, f"counter-main-{name}", size, inches)
            app.press("break")                     # the break-kind choice
            yield 0.3
            shooter.shot(app, f"counter-choice-{name}", size, inches)
            if app.popup is not None:
                app.popup.dismiss()
            yield 0.2
            app.presenter.press("start")
            yield from _wait(app, lambda: app.presenter.view.ticket_state == "serving")
            app.presenter.done(outcome=app.presenter.view.outcome_choices[0].key)
            yield from _wait(app, lambda: ids.sm.current == "rating")
            shooter.shot(app, f"counter-rating-{name}", size, inches)
            app.rate(5)
            yield from _wait(app, lambda: ids.sm.current == "thanks")
            shooter.shot(app, f"counter-thanks-{name}", size, inches)

        _reset_loop()
        run_counter(LocalHub(waiting={"A": 3, "K": 2}), size, inches, script)
    shoot_counter_accounts(shooter)


def _atom_office():
    """An АтомЭнергоСбыт office: its consultation's service norm is per personal account."""
    from hub.local import ALL_DAY
    from queue_core.config import parse_office_config

    return parse_office_config({
        "office": {"id": "atom", "name": "Офис АтомЭнергоСбыт", "timezone": "Europe/Moscow", "profile": "atom"},
        "topics": [{"code": "C", "prefix": "К", "form": "consult", "name": "Консультация", "name_en": "Consultation"}],
        "windows": [{"number": 1, "topics": ["C"]}, {"number": 2, "topics": ["C"]}],
        "calendar": {"hours": ALL_DAY}, "queue": {"policy": "fifo"}})


def shoot_counter_accounts(shooter: Shooter) -> None:
    """Done on a per-account topic: the number of personal accounts (quick buttons, stepper)."""
    from hub.local import LocalHub

    for size, inches in COUNTER_SIZES.items():
        hub = LocalHub(_atom_office(), waiting={"C": 2})
        hub.request("counter-1", "sign_in", {"window": 1, "operator": "ivanova", "pin": "1234"})
        hub.request("counter-1", "call_next", {"window": 1})
        hub.request("counter-1", "start", {"window": 1})
        name = _size_name(size)

        def script(app, size=size, inches=inches, name=name):
            ids = app.root.ids
            yield from _wait(app, lambda: ids.sm.current == "sign_in")
            app.sign_in("ivanova", "1234")
            yield from _wait(app, lambda: app.presenter.view.ticket_state == "serving" and not app.presenter.view.busy)
            app.presenter.done(outcome="done")
            yield from _wait(app, lambda: ids.sm.current == "accounts")
            shooter.shot(app, f"counter-accounts-{name}", size, inches)
            app.presenter.choose_accounts("more")
            app.presenter.step_accounts(2)
            yield 0.3
            shooter.shot(app, f"counter-accounts-stepper-{name}", size, inches)

        _reset_loop()
        run_counter(hub, size, inches, script)


def _forget_classes(*prefixes: str) -> None:
    """Drop other apps' widget classes from Kivy's Factory: each app is a process of its
    own in real life, and their kv files may reuse a class name."""
    from kivy.factory import Factory

    for name, entry in list(Factory.classes.items()):
        cls = entry.get("cls")
        if cls is not None and cls.__module__.startswith(prefixes):
            Factory.unregister(name)


def shoot_kiosk(shooter: Shooter) -> None:
    from hardware.screen import register_widget_classes
    from kiosk import app as kiosk_app_module
    from kiosk import cli

    _forget_classes("counter_app.", "display_board.")   # kiosk.kv declares a BigButton of its own
    register_widget_classes(kiosk_app_module)
    for size, inches in KIOSK_SIZES.items():
        hub = _office()
        args = _parse(cli, ["--printer", "fake", "--no-voice", "--size", _size_name(size),
                            "--screen-diagonal", str(inches)])
        app = cli.build_app(args, hub.bus("kiosk-1"))
        name = _size_name(size)

        def script(app, size=size, inches=inches, name=name):
            from kivy.uix.screenmanager import ScreenManager

            yield 0.5
            managers = [w for w in app.root.walk() if isinstance(w, ScreenManager)]
            if not managers:
                shooter.shot(app, f"kiosk-{name}", size, inches)
                return
            sm = managers[0]
            for screen in list(sm.screen_names):
                sm.current = screen
                yield 0.4
                shooter.shot(app, f"kiosk-{screen}-{name}", size, inches)

        _run_then_close(app, hub, size, script)


def shoot_tickets(shooter: Shooter) -> None:
    """The ticket as the printer's image mode prints it, 58 mm (384 dots) and 80 mm (576)."""
    from dataclasses import replace
    from datetime import datetime

    from broker.errors import CommandError
    from hardware.printer_image import render_ticket_image
    from hardware.printer_ticket import TicketLayout
    hub = _office()
    try:
        config = hub.states["config"]
        for code in [t["code"] for t in config["topics"]]:
            try:
                ticket = hub.request("kiosk-1", "issue", {"topic": code, "kind": "walk_in"})["ticket"]
            except CommandError as exc:     # no open window serves this topic
                log.info("no ticket for %s: %s", code, exc)
                continue
            topic = next(t for t in config["topics"] if t["code"] == code)
            layout = TicketLayout(office_name=config["office"]["name"]["ru"], number=ticket["number"],
                                  topic_label=topic["name"]["ru"],
                                  issued_at=datetime.fromisoformat(ticket["issued_at"]),
                                  people_ahead=ticket.get("people_ahead"), eta_min=ticket.get("eta_min"),
                                  footer_lines=(f"Телефон: {config['office'].get('phone') or ''}",))
            layouts = {code: layout}
            if code == config["topics"][0]["code"]:     # a checked-in booking prints its slot
                layouts["booking"] = replace(layout, booking_time="10:30")
            for key, shown in layouts.items():
                for width, mm in ((384, 58), (576, 80)):
                    path = shooter.out / f"ticket-{key}-{mm}mm.png"
                    render_ticket_image(shown, width).save(path)
                    shooter.files.append(path)
    finally:
        hub.close()


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from hardware.screen import configure_screen

    configure_screen(False, "1280x800", images=True)
    from kivy.lang import Builder

    _BASE_KV.update(Builder.files)      # Kivy's own style.kv
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shooter = Shooter(out, args.check)
    roles = args.only or list(ROLES)
    for role in roles:
        try:
            if role == "ticket":
                shoot_tickets(shooter)
            elif role == "counter":
                shoot_counter(shooter)
            elif role == "kiosk":
                shoot_kiosk(shooter)
            else:
                shoot_board(shooter, role)
        except Exception:
            log.exception("could not render the %s screens", role)
            shooter.problems.setdefault(role, []).append("rendering failed (see the log)")
    print(f"{len(shooter.files)} pictures in {out}")
    for name, found in sorted(shooter.problems.items()):
        print(f"{name}:")
        for problem in found:
            print(f"  {problem}")
    return 1 if shooter.problems else 0
