"""``talon kiosk``: the ticket kiosk (touchscreen + thermal printer).

    talon kiosk --broker mqtt://hub.local:1883 --office mek --device kiosk-1 --fullscreen \\
        --printer network --printer-target 192.168.1.50 --printer-profile TM-T20II
    talon kiosk --printer usb --printer-target 0416:5011 --printer-profile POS-5890 \\
        --cyrillic cp866_59 --paper-width 384
    talon kiosk --printer file --printer-target ./tickets.bin   # no printer: keep the bytes
    talon kiosk --printer fake                                  # no printer at all (demo)

Kivy, python-escpos and the MQTT client are imported only in ``run``.
"""
from __future__ import annotations

import argparse
import os

from broker.client import add_connection_arguments
from hardware.printer_connection import CONNECTIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    env = os.environ.get
    p = parser.add_argument_group("ticket printer")
    p.add_argument("--printer", choices=CONNECTIONS + ("fake",), default=env("TALON_PRINTER", "file"),
                   help="how the printer is connected (env TALON_PRINTER; default %(default)s)")
    p.add_argument("--printer-target", default=env("TALON_PRINTER_TARGET", "/dev/usb/lp0"),
                   help="network host[:port], usb vendor:product (hex), serial device, file path, "
                        "or CUPS queue name (env TALON_PRINTER_TARGET; default %(default)s)")
    p.add_argument("--printer-profile", default=env("TALON_PRINTER_PROFILE", "default"),
                   help="python-escpos printer profile, e.g. TM-T20II, POS-5890 (default %(default)s)")
    p.add_argument("--cyrillic", choices=("cp866_17", "cp866_59", "image"),
                   default=env("TALON_PRINTER_CYRILLIC", "cp866_17"),
                   help="cp866_17 = ESC t 17 (Epson), cp866_59 = ESC t 59 (POS-5890), "
                        "image = print the ticket as a picture (any printer)")
    p.add_argument("--paper-width", type=int, choices=(384, 576), default=576,
                   help="printable width in dots: 384 for 58 mm paper, 576 for 80 mm (default 576)")
    p.add_argument("--qr", choices=("auto", "native", "image", "none"), default="auto",
                   help="QR code with the ticket's page (the office site without it): auto = native if the "
                        "profile has it, a picture on a ticket printed as one (--cyrillic image)")
    p.add_argument("--no-cut", action="store_true", help="never send the cut command")
    p.add_argument("--baudrate", type=int, default=9600, help="serial printers only")
    k = parser.add_argument_group("kiosk")
    k.add_argument("--lang", choices=("ru", "en"), default="ru", help="start language (default ru)")
    k.add_argument("--idle-timeout", type=float, default=45.0, metavar="S",
                   help="seconds without a touch before going back to the start (default 45)")
    k.add_argument("--ticket-display", type=float, default=8.0, metavar="S",
                   help="seconds «Возьмите, пожалуйста, талон» stays on screen (default 8)")
    k.add_argument("--phone-display", type=float, default=30.0, metavar="S",
                   help="seconds the ticket's QR code stays on screen when not printed (default 30)")
    k.add_argument("--printer-poll", type=float, default=10.0, metavar="S",
                   help="seconds between printer status reads while idle (default 10)")
    k.add_argument("--fullscreen", action="store_true", help="fill the screen, hide the cursor")
    k.add_argument("--size", default="1280x800", help="window size when not fullscreen (default 1280x800)")
    k.add_argument("--screen-diagonal", type=float, metavar="INCHES",
                   default=float(env("TALON_SCREEN_DIAGONAL", "10.1")),
                   help="the touchscreen's diagonal in inches: touch targets are sized in real "
                        "millimetres from it (env TALON_SCREEN_DIAGONAL; default %(default)s, "
                        "the recommended 10.1-inch panel)")
    k.add_argument("--large-print", action="store_true",
                   help="print every ticket in large type (otherwise only in the large-text mode)")
    k.add_argument("--player", default=env("TALON_KIOSK_PLAYER", "auto"),
                   help="how «Озвучить» plays sound: auto, aplay, paplay, kivy, null, file:DIR")
    k.add_argument("--sound-dir", metavar="DIR", help="where rendered speech is cached")
    k.add_argument("--no-voice", action="store_true", help="no «Озвучить» voice (the button stays silent)")


def printer_from_args(args: argparse.Namespace):
    from hardware.printer import PrinterSettings, TicketPrinter
    from hardware.printer_fake import FakePrinter

    connection = "file" if args.printer == "fake" else args.printer
    settings = PrinterSettings(connection=connection, target=args.printer_target,
                               profile=args.printer_profile, cyrillic=args.cyrillic,
                               paper_width_px=args.paper_width, qr=args.qr, cut=not args.no_cut,
                               baudrate=args.baudrate)
    return FakePrinter(settings) if args.printer == "fake" else TicketPrinter(settings)


def options_from_args(args: argparse.Namespace):
    from kiosk.presenter import KioskOptions

    return KioskOptions(ticket_display_s=args.ticket_display, phone_display_s=args.phone_display,
                        idle_timeout_s=args.idle_timeout,
                        lang=args.lang, large_print=args.large_print)


def speaker_from_args(args: argparse.Namespace):
    """«Озвучить» with the board's voice (hardware.sound), or None with --no-voice."""
    if args.no_voice:
        return None
    from hardware.sound import SoundCache, VoiceSettings
    from hardware.sound_players import make_player
    from hardware.speech import Speaker

    return Speaker(SoundCache(args.sound_dir, VoiceSettings(lang=args.lang)), make_player(args.player)).start()


def build_app(args: argparse.Namespace, bus=None):
    """The kiosk exactly as ``talon kiosk`` starts it (tests pass a FakeBus)."""
    if args.screen_diagonal <= 0:
        raise SystemExit("--screen-diagonal must be a positive number of inches")
    from broker.client import client_from_args
    from hardware.screen import configure_screen

    printer = printer_from_args(args)  # bad printer options fail here, before any window opens
    configure_screen(args.fullscreen, args.size, (1280, 800))
    from kiosk.app import KioskApp

    if bus is None:
        bus = client_from_args(args, "kiosk")
    return KioskApp(bus, printer, options=options_from_args(args), printer_poll_s=args.printer_poll,
                    screen_diagonal_in=args.screen_diagonal, speaker=speaker_from_args(args))


def run(args: argparse.Namespace) -> int:
    build_app(args).run()
    return 0
