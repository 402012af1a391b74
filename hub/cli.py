"""The options of ``talon hub`` and of the commands that open the hub's database (devices, operators).

The command itself runs in ``talon.office``, which puts the hub and the web dashboard together."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from queue_core.norms import PROFILES

log = logging.getLogger(__name__)


def add_office_arguments(p: argparse.ArgumentParser) -> None:
    """Which office and where its data lives (shared by hub, devices, operators, demo)."""
    env = os.environ.get
    p.add_argument("--config", type=Path, default=env("TALON_OFFICE_CONFIG"),
                   help="office TOML file (env TALON_OFFICE_CONFIG; default: the profile's standard office)")
    p.add_argument("--profile", choices=sorted(PROFILES), default="mek", help="norm profile without --config")
    p.add_argument("--windows", type=int, default=4, help="windows of the standard office without --config")
    p.add_argument("--data", type=Path, help="data directory (env TALON_DATA_DIR; default /var/lib/talon or ./data)")
    p.add_argument("--database", help="database URL (env TALON_DATABASE_URL; default SQLite in the data directory)")


def load_office(args: argparse.Namespace):
    """(config, data_dir, database_url) from the shared arguments; exits with a clear message on a bad file."""
    from host.paths import data_dir
    from queue_core.config import office_from_profile, parse_office_toml
    from queue_core.errors import ConfigError
    from storage.engine import default_url

    if args.config:
        try:
            config = parse_office_toml(args.config.read_text(encoding="utf-8"))
        except (OSError, ConfigError) as exc:
            raise SystemExit(f"{args.config}: {exc}") from None
    else:
        config = office_from_profile(args.profile, windows=args.windows, office_id="office")
    config = _with_hq_file(config)
    folder = args.data or data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return config, folder, args.database or default_url(folder)


def _with_hq_file(config):
    """``[hq]`` from the file ``talon setup hub --hq`` wrote (env ``TALON_HQ_CONFIG``), which wins
    over an ``[hq]`` in the office TOML (docs/deploy.md, "Linking an office to head office")."""
    from dataclasses import replace

    from hub.hq_link import hq_from_file

    path = os.environ.get("TALON_HQ_CONFIG")
    hq = hq_from_file(path, config.office_id) if path else None
    if hq is None:
        return config
    if config.hq is not None and config.hq != hq:
        log.warning("[hq] of the office file is replaced by %s (written by `talon setup hub --hq`)", path)
    return replace(config, hq=hq)


def people_ahead(text: str) -> int:
    """A count of people for ``--telegram-ahead`` / ``TALON_TELEGRAM_AHEAD``: a whole number, 0 or more."""
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of people, 0 or more (--telegram-ahead or env TALON_TELEGRAM_AHEAD), "
            f"not {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_office_arguments(p)
    p.add_argument("--broker", help="use an external broker, mqtt://host:port (else start one)")
    p.add_argument("--broker-kind", choices=["auto", "mosquitto", "amqtt"], default="auto",
                   help="which broker to start: mosquitto if installed, else the embedded amqtt")
    p.add_argument("--listen", default=os.environ.get("TALON_LISTEN", "127.0.0.1"),
                   help="broker listen address, 0.0.0.0 for the office LAN (env TALON_LISTEN)")
    p.add_argument("--port", type=int, default=1883, help="broker port")
    p.add_argument("--web-port", type=int, default=8080, help="web dashboard port")
    p.add_argument("--web-host", default="127.0.0.1", help="web dashboard address")
    p.add_argument("--no-web", action="store_true", help="do not start the web dashboard")
    # the bot token itself: env TALON_TELEGRAM_TOKEN or the file telegram-token in the data directory
    p.add_argument("--telegram-api-url", default=os.environ.get("TALON_TELEGRAM_API_URL"),
                   help="Telegram Bot API base URL, e.g. a proxy's (env TALON_TELEGRAM_API_URL; "
                        "default https://api.telegram.org/bot)")
    # a string default goes through ``type`` too: a bad env value is an argparse error, not a traceback
    p.add_argument("--telegram-ahead", type=people_ahead, default=os.environ.get("TALON_TELEGRAM_AHEAD", "3"),
                   help="Telegram: tell a visitor when at most this many people are ahead "
                        "(env TALON_TELEGRAM_AHEAD; default 3)")
