"""Starting the Telegram notifier (``hub.notifier``) only when a bot token is configured.

Kept apart so that a hub without a bot never imports python-telegram-bot and its HTTP stack
(about 12 MB of memory on a Raspberry Pi that would never use them)."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from storage import ticket_links
from storage.queue_db import QueueDatabase

if TYPE_CHECKING:
    from hub.notifier import TelegramNotifier
    from hub.service import Hub

log = logging.getLogger(__name__)

TOKEN_ENV = "TALON_TELEGRAM_TOKEN"
TOKEN_FILE = "telegram-token"        # in the data directory, never in the office TOML (it is published)
AHEAD_DEFAULT = 3


def load_token(data_dir: Path, environ: dict | None = None) -> str | None:
    """The bot token: ``TALON_TELEGRAM_TOKEN``, else the file ``telegram-token`` in the data
    directory; None when neither is set (the notifier is off)."""
    token = (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()
    if token:
        return token
    path = data_dir / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if token and path.stat().st_mode & 0o077:
        log.warning("%s can be read by other users; `chmod 600 %s` keeps the bot token private", path, path)
    return token or None


def start_for_hub(hub: Hub, data_dir: Path, api_url: str | None = None,
                  ahead: int = AHEAD_DEFAULT) -> TelegramNotifier | None:
    """The notifier of a running hub when a bot token is configured (``load_token``), started
    and listening; None (and no bot offered on the phone pages) without one."""
    db = hub.dispatcher.db
    token = load_token(data_dir)
    if not token:
        clear_bot(db)
        return None
    from hub.notifier import NotifierSettings, TelegramNotifier

    notifier = TelegramNotifier(db, NotifierSettings(token, api_url, ahead), hub.run_on_writer,
                                clock=hub.dispatcher.clock)
    hub.add_listener(notifier.listener)
    notifier.start()
    log.info("Telegram notifier starting (people ahead threshold %d)", ahead)
    return notifier


def clear_bot(db: QueueDatabase) -> None:
    """No token configured: the page must not offer a bot stored by an earlier run."""
    with db.sessions() as s, s.begin():
        ticket_links.set_bot(s, db.office_id, None)
