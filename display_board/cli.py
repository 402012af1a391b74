"""``talon board``: the hall board, or with ``--window N`` the display above one window.

    talon board --broker mqtt://hub.local:1883 --office mek --device board-1       # hall board + sound
    talon board --window 3 --fullscreen                                # per-window display
    talon board --grid --history 10 --no-voice
    talon board --player file:./calls                                 # no sound card: keep WAVs

Kivy and the MQTT client are imported only in ``run``.
"""
from __future__ import annotations

import argparse
import logging

from broker.client import add_connection_arguments
from hardware.sound_players import PLAYER_NAMES

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_connection_arguments(parser)
    parser.add_argument("--window", type=int, metavar="N", help="show one window's display instead of the hall board")
    parser.add_argument("--history", type=int, metavar="N", help="how many recent calls to list (default: office config)")
    parser.add_argument("--min-display", type=float, metavar="S", dest="min_display",
                        help="seconds a call stays large before the next one (default: office config)")
    parser.add_argument("--grid", action="store_true", help="show a grid of windows instead of the call list")
    parser.add_argument("--lang", choices=["ru", "en"], default="ru", help="board language (default ru)")
    parser.add_argument("--no-voice", action="store_true", help="chime only, no spoken announcement")
    parser.add_argument("--no-sound", action="store_true", help="no chime and no voice")
    parser.add_argument("--player", default="auto", help=f"how to play sound: {', '.join(PLAYER_NAMES)}")
    parser.add_argument("--sound-dir", metavar="DIR", help="where rendered sound is cached (default ~/.cache/talon/sound)")
    parser.add_argument("--volume", type=float, default=1.0, help="0..2, applied to the samples (default 1)")
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen (kiosk mode)")
    parser.add_argument("--size", default="1280x720", help="window size when not fullscreen (default 1280x720)")


def build_announcer(args: argparse.Namespace, tracer=None):
    """The Announcer for the hall board, or None (per-window display, or --no-sound)."""
    if args.window is not None or args.no_sound:
        return None
    from hardware.sound import Announcer, SoundCache, VoiceSettings
    from hardware.sound_players import make_player

    cache = SoundCache(args.sound_dir, VoiceSettings(lang=args.lang))
    hooks = {}
    if tracer is not None:
        hooks = {"on_start": lambda item: tracer.mark("sound_start", item.ticket),
                 "on_finish": lambda item: tracer.mark("sound_end", item.ticket)}
    return Announcer(cache, make_player(args.player), voice=not args.no_voice,
                     volume=args.volume, lang=args.lang, **hooks).start()


def build_presenter(bus, args: argparse.Namespace, announcer=None):
    from display_board.hall import BoardPresenter
    from display_board.window import WindowPresenter

    if args.window is not None:
        return WindowPresenter(bus, args.window, lang=args.lang)
    return BoardPresenter(bus, announcer=announcer, history=args.history, min_display_s=args.min_display,
                          grid=args.grid, lang=args.lang, voice=not args.no_voice)


def build_app(args: argparse.Namespace, bus):
    """The board app as ``talon board`` runs it, on ``bus`` (its MQTT client, or an
    in-process hub's bus for tests and ``talon screens``). Call after ``configure_screen``."""
    from display_board.app import BoardApp
    from display_board.trace import from_env

    tracer = from_env()   # TALON_TRACE_FILE: timing marks for benchmarks and drills
    announcer = build_announcer(args, tracer)
    presenter = build_presenter(bus, args, announcer)
    return BoardApp(bus, presenter, announcer=announcer, tracer=tracer)


def run(args: argparse.Namespace) -> int:
    from broker.client import client_from_args
    from hardware.screen import configure_screen

    configure_screen(args.fullscreen, args.size, (1280, 720), images=False)
    build_app(args, client_from_args(args, "board")).run()
    return 0
