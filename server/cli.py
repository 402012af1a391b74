"""``talon web``: the dashboard, reports, settings, bookings and REST API on their own.

Served by werkzeug's threaded server (no extra dependency; one thread per client,
which the SSE stream needs). Put it behind nginx for TLS and set
``TALON_SESSION_COOKIE_SECURE=true``. ``--purge-now`` blanks expired booking
personal data and exits; while serving, the purge runs every hour.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import threading
from pathlib import Path

log = logging.getLogger(__name__)
PURGE_EVERY_S = 3600


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--database", help="database URL (default: TALON_DATABASE_URL or <data dir>/talon.db)")
    p.add_argument("--office-config", type=Path, help="the office TOML file (default: TALON_OFFICE_CONFIG)")
    p.add_argument("--purge-now", action="store_true", help="purge expired booking personal data, then exit")
    p.add_argument("--hq", action="store_true",
                   help="head office: the database holds many offices (written by `talon hq run`); every office "
                        "live, their ranking, the network's reports and each office's own pages")


def secret_key(data_dir: Path) -> str:
    """TALON_SECRET_KEY, or a key kept in the data directory so sessions survive restarts."""
    if os.environ.get("TALON_SECRET_KEY"):
        return os.environ["TALON_SECRET_KEY"]
    path = data_dir / "web-secret.key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key


def purge(app) -> int:
    from server import now_utc
    from server.db import session_scope
    from storage.bookings import purge_personal_data
    with app.app_context(), session_scope(write=True) as db:
        n = purge_personal_data(db, app.config["BOOKING_RETENTION_DAYS"], now_utc(app))
    log.info("purged personal data of %d bookings (retention %d days)", n, app.config["BOOKING_RETENTION_DAYS"])
    return n


def _purge_loop(app, stop: threading.Event) -> None:
    while not stop.wait(PURGE_EVERY_S):
        try:
            purge(app)
        except Exception:
            log.exception("booking purge failed")


def run(args: argparse.Namespace) -> int:
    from werkzeug.serving import run_simple

    from server import create_app
    from storage.engine import default_url

    url = args.database or default_url()
    data_dir = Path(os.environ.get("TALON_DATA_DIR") or "data")
    mapping = {"DATABASE_URL": url, "SECRET_KEY": secret_key(data_dir)}
    if args.office_config:
        mapping["OFFICE_CONFIG_FILE"] = str(args.office_config)
    if args.hq:
        mapping["HQ_MODE"] = True
    try:
        app = create_app(mapping)
    except (RuntimeError, OSError) as exc:
        print(f"talon web: {exc}")
        return 1
    except ValueError as exc:            # ConfigError names the key
        print(f"talon web: office configuration: {exc}")
        return 1
    if args.purge_now:
        print(f"purged personal data of {purge(app)} bookings")
        return 0
    stop = threading.Event()
    if not args.hq:                  # head office keeps no bookings: the offices purge their own
        purge(app)
        threading.Thread(target=_purge_loop, args=(app, stop), daemon=True, name="booking-purge").start()
    log.info("Talon web on http://%s:%d/ (database %s)", args.host, args.port, url.split("@")[-1])
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        stop.set()
    return 0
