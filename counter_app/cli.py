"""``talon counter --window N``: the counter terminal for one window (Kivy, optional GPIO).

Examples::

    talon counter --window 3                       # touchscreen, real hub (broker options below)
    talon counter --window 3 --gpio                # plus GPIO buttons/LEDs on the default pins
    talon counter --window 3 --gpio --pin next=5 --pin close=21 --pin-map pins.toml
    talon counter --window 1 --demo                # no broker: the real hub in this process, on a
                                                   # demo office in memory (operator «ivanova», PIN 1234)
"""
from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def _pin_option(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=BCM (e.g. next=5), got {text!r}")
    if "," in value:
        return name.strip(), [v.strip() for v in value.split(",")]
    return name.strip(), value.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", type=int, required=True, help="this terminal's window number")
    parser.add_argument("--lang", choices=("ru", "en"), default="ru", help="interface language (default ru)")
    parser.add_argument("--rating", choices=("screen", "gpio", "off"), default="screen",
                        help="where the visitor rates the service after Done (default: this screen)")
    parser.add_argument("--rating-timeout", type=float, default=30.0, metavar="S",
                        help="seconds the rating prompt waits before it is skipped (default 30)")
    parser.add_argument("--gpio", action="store_true", help="enable GPIO buttons, LEDs and buzzer")
    parser.add_argument("--pin-map", metavar="FILE.toml", help="GPIO pin map (see counter_app/gpio_panel.py)")
    parser.add_argument("--pin", action="append", type=_pin_option, default=[], metavar="NAME=BCM",
                        help="override one pin, e.g. --pin next=5 or --pin rating=23,24,25 (repeatable)")
    parser.add_argument("--hold-time", type=float, default=None, metavar="S",
                        help="seconds to hold No-show/Close to confirm (default 2)")
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen (kiosk mode)")
    parser.add_argument("--screen-inches", type=float, default=7.0, metavar="IN", dest="screen_inches",
                        help="the display's diagonal: touch targets are sized in real millimetres "
                             "(default 7, the recommended 7-inch 800x480 panel; 0: Kivy's 96 dpi)")
    parser.add_argument("--demo", action="store_true",
                        help="no broker: run the real hub in this process on a demo office (for trying it out)")
    try:
        from broker.client import add_connection_arguments
    except ImportError:  # the MQTT client has not landed yet; --demo still works
        return
    add_connection_arguments(parser)


def pin_map_from_args(args):
    from counter_app.gpio_panel import PinMap, load_pin_map
    pins = load_pin_map(args.pin_map) if args.pin_map else PinMap()
    return pins.with_pins(dict(args.pin), hold_time=args.hold_time)


def run(args, bus=None) -> int:
    """Run the terminal on ``bus``, or on a ``HubClient`` built from the connection options."""
    if args.window < 1:
        log.error("--window must be a positive window number")
        return 2
    pins = None
    if args.gpio or args.rating == "gpio":
        try:
            pins = pin_map_from_args(args)
        except (OSError, ValueError) as exc:
            log.error("GPIO pin map: %s", exc)
            return 2

    if bus is None:          # given by ``talon counter --demo``: the real hub in this process
        bus = _hub_client(args)
        if bus is None:
            return 2

    from hardware.screen import configure_screen
    configure_screen(args.fullscreen, getattr(args, "size", ""), (800, 480))
    closing: list = []
    app = build_app_from_args(args, bus, closing)
    if pins is not None:
        from counter_app.gpio_panel import CounterPanel, RatingPanel
        if args.gpio:
            closing.append(CounterPanel(app.presenter, pins))
        if args.rating == "gpio":
            closing.append(RatingPanel(app.presenter, pins.rating, thanks_led=pins.rating_thanks))
    closing.append(bus)
    from kivy.clock import Clock

    from host.stopping import stop_on_sigterm
    stop_on_sigterm(Clock.schedule_once, app.stop)   # before the bus: once online, a SIGTERM stops cleanly
    bus.start()
    try:
        app.run()
    finally:
        for thing in closing:  # idempotent: the app's on_stop may have closed them already
            try:
                thing.close() if hasattr(thing, "close") else thing.stop()
            except Exception:
                log.debug("closing %r failed", thing, exc_info=True)
    return 0


def build_app_from_args(args, bus, closing: list):
    """The counter app as ``talon counter`` builds it (also for tests and ``talon screens``);
    call after ``configure_screen``."""
    from counter_app.app import build_app

    return build_app(bus, args.window, lang=args.lang,
                     rating="external" if args.rating == "gpio" else args.rating,
                     rating_timeout_s=args.rating_timeout, closing=closing,
                     screen_inches=getattr(args, "screen_inches", None))


def _hub_client(args):
    """The MQTT client for this window (None after logging why there is none)."""
    if args.demo:
        log.error("--demo needs the hub in this process: run it as `talon counter --demo`")
        return None
    try:
        from broker.client import client_from_args
    except ImportError as exc:
        log.error("the MQTT client is not available (%s); try --demo", exc)
        return None
    if not getattr(args, "device", None):
        args.device = f"counter-{args.window}"  # the id bench.hub and provisioning use
    return client_from_args(args, "counter")
