"""``talon counter``: the counter terminal (``counter_app.cli``) and its ``--demo``.

With ``--demo`` the terminal runs against the real hub in this process
(``hub.local.LocalHub``: the dispatcher on an in-memory database, a demo office with
three windows, operator «ivanova», PIN 1234). A device app may not import the hub, so
the two meet here, in the composition root.
"""
from __future__ import annotations

import argparse
import logging

from counter_app.cli import add_arguments
from counter_app.cli import run as run_counter

__all__ = ["add_arguments", "run"]

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    if not args.demo:
        return run_counter(args)
    from hub.local import LocalHub, demo_config

    config = demo_config()
    windows = [w.number for w in config.windows]
    if args.window not in windows:
        log.error("the demo office has windows %s", ", ".join(map(str, windows)))
        return 2
    hub = LocalHub(config, waiting={"A": 3, "K": 2, "P": 1})
    try:
        return run_counter(args, bus=hub.bus(f"counter-{args.window}"))
    finally:
        hub.close()
