"""``talon hub``: the office's hub process — broker, dispatcher and, beside them, the web dashboard.

This is the composition root: ``hub/`` and ``server/`` know nothing of each other, and
only here (and in ``talon demo``) are they started in one process.
"""
from __future__ import annotations

import argparse
import signal
import threading

from hub.cli import add_arguments, load_office

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace) -> int:
    from host.watchdog import Heartbeat, notify_ready
    from hub.notifier_start import start_for_hub
    from hub.runtime import OfficeRuntime, RuntimeSettings
    from server.serve import start_office_web

    config, folder, url = load_office(args)
    runtime = OfficeRuntime(RuntimeSettings(
        config=config, data_dir=folder, database_url=url, broker_url=args.broker, broker_kind=args.broker_kind,
        listen=args.listen, port=args.port, web_port=None if args.no_web else args.web_port, web_host=args.web_host),
        start_web=start_office_web)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    notifier = start_for_hub(runtime.hub, folder, args.telegram_api_url, args.telegram_ahead)
    notify_ready("hub running")
    heartbeat = Heartbeat(lambda: runtime.hub.healthy).start()
    print(f"Talon hub for office {config.office_id!r}: broker {runtime.broker_url}, database {url}", flush=True)
    stop.wait()
    heartbeat.stop()
    if notifier is not None:
        notifier.stop()
    runtime.stop()
    return 0
