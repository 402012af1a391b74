"""``talon hq``: head office. ``run`` starts its broker and ingest; ``offices`` manages who may report.

    talon hq offices add mek-12 --name "Офис на Ленина" --region "Свердловская обл." --branch "Екатеринбург"
    talon hq run --db postgresql+psycopg://…/talon_hq --data-dir /var/lib/talon-hq --host 0.0.0.0 --port 8883 \\
        --tls-cert hq.crt --tls-key hq.key
"""
from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    env = os.environ.get
    sub = p.add_subparsers(dest="hq_command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run the head-office broker and ingest")
    run.add_argument("--db", default=env("TALON_DATABASE_URL"),
                     help="database URL, PostgreSQL for a network (env TALON_DATABASE_URL; "
                          "default SQLite in the data directory)")
    _data_dir(run)
    run.add_argument("--host", default=env("TALON_HQ_LISTEN", "127.0.0.1"),
                     help="broker listen address, 0.0.0.0 for the offices' bridges (env TALON_HQ_LISTEN)")
    run.add_argument("--port", type=int, default=None, help="broker port (default 8883 with TLS, else 1883)")
    run.add_argument("--tls-cert", type=Path, help="TLS certificate (PEM) of the broker's listener")
    run.add_argument("--tls-key", type=Path, help="its private key (PEM)")
    run.add_argument("--broker", help="use an external broker (mqtt://host:port) instead of starting one: "
                                      "the ingest only, its password in env TALON_HQ_INGEST_PASSWORD")
    run.add_argument("--web-port", type=int, default=8080, help="head office's web (every office on one page)")
    run.add_argument("--web-host", default="127.0.0.1", help="its address")
    run.add_argument("--no-web", action="store_true", help="do not start the web")

    offices = sub.add_parser("offices", help="the offices that may report here")
    osub = offices.add_subparsers(dest="offices_command", metavar="ACTION", required=True)
    add = osub.add_parser("add", help="register an office (or give it a new password); prints its password once")
    add.add_argument("office", help="the office id (its [office] id)")
    add.add_argument("--name", default="", help="display name (default: the one in its configuration)")
    add.add_argument("--region", default="", help="regional branch it belongs to")
    add.add_argument("--branch", default="", help="branch or city within the region")
    _data_dir(add)
    lst = osub.add_parser("list", help="list the registered offices")
    _data_dir(lst)
    rm = osub.add_parser("remove", help="take an office's broker user away (its history stays)")
    rm.add_argument("office")
    _data_dir(rm)


def _data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=os.environ.get("TALON_HQ_DATA_DIR"),
                   help="head office's data directory (env TALON_HQ_DATA_DIR; default ./data-hq)")


def run(args: argparse.Namespace, start_web: Callable[[Any], object] | None = None) -> int:
    """``start_web(runtime)``: the head-office web, handed in by the composition root
    (``talon/hq.py``: ``hq`` never imports the web)."""
    folder = args.data_dir or Path("data-hq")
    folder.mkdir(parents=True, exist_ok=True)
    if args.hq_command == "offices":
        return _offices(args, folder)
    return _run(args, folder, start_web)


def _offices(args: argparse.Namespace, folder: Path) -> int:
    from hq.offices import Registry

    registry = Registry(folder)
    if args.offices_command == "add":
        try:
            plain = registry.add(args.office, args.name, args.region, args.branch)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
        print(f"office {args.office} may now report to head office.")
        print(f"its password (shown once; put it in the office's data dir as hq.password): {plain}")
        return 0
    if args.offices_command == "list":
        for e in registry.load():
            print(f"{e.id}\t{e.name}\t{e.region}\t{e.branch}")
        return 0
    if not registry.remove(args.office):
        raise SystemExit(f"no office {args.office!r} in {registry.path}")
    print(f"office {args.office} removed; its history at head office stays.")
    return 0


def _run(args: argparse.Namespace, folder: Path, start_web: Callable[[Any], object] | None) -> int:
    from host import watchdog
    from hq.runtime import HqRuntime, HqSettings, ingest_password_from_env

    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    url = args.db or f"sqlite:///{(folder / 'talon-hq.db').resolve()}"
    settings = HqSettings(folder, url, host=args.host, port=args.port or (8883 if args.tls_cert else 1883),
                          tls_cert=args.tls_cert, tls_key=args.tls_key, broker_url=args.broker,
                          ingest_password=ingest_password_from_env())
    runtime = HqRuntime(settings, start_web=None if args.no_web else start_web)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    watchdog.notify_ready("head office: broker and ingest running")
    try:
        stop.wait()
    finally:
        watchdog.notify_stopping()
        runtime.stop()
    return 0
