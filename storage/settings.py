"""Office settings saved from the web (TOML text, versioned), and the one rule for which
settings an office runs under: the newest saved on the web wins over the file.

``effective_config`` is that rule, for the hub (``hub.runtime``) and the web
(``server.db``) alike. A saved text that no longer parses (an older version's key, a
hand-edited database) or that names another office is logged and the file is used.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_core.config import OfficeConfig, parse_office_toml
from storage.models import SettingRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SavedSettings:
    id: int
    saved_at: datetime
    saved_by: str | None
    toml: str


@dataclass(frozen=True, slots=True)
class EffectiveConfig:
    config: OfficeConfig
    toml: str | None                    # the text ``config`` came from (None: a file not given as text)
    source: Literal["file", "saved"]
    saved_at: datetime | None = None    # when ``source == "saved"``


def save(session: Session, office: str, toml: str, saved_by: str | None, at: datetime) -> None:
    """Store a new version (the caller has validated it and commits)."""
    session.add(SettingRow(office=office, saved_at=at, saved_by=saved_by, toml=toml))


def latest(session: Session, office: str) -> SavedSettings | None:
    """The office settings saved most recently from the web, if any."""
    row = session.execute(select(SettingRow).where(SettingRow.office == office)
                          .order_by(SettingRow.id.desc()).limit(1)).scalar_one_or_none()
    return None if row is None else SavedSettings(row.id, row.saved_at, row.saved_by, row.toml)


def history(session: Session, office: str, limit: int) -> list[SavedSettings]:
    """The newest ``limit`` saved versions, newest first."""
    return [SavedSettings(r.id, r.saved_at, r.saved_by, r.toml) for r in session.execute(
        select(SettingRow).where(SettingRow.office == office).order_by(SettingRow.id.desc()).limit(limit)).scalars()]


def effective_config(session: Session, file_config: OfficeConfig, file_text: str | None = None) -> EffectiveConfig:
    """The settings the office runs under: the newest saved on the web, else the file's."""
    from_file = EffectiveConfig(file_config, file_text, "file")
    saved = latest(session, file_config.office_id)
    if saved is None or saved.toml == file_text:
        return from_file
    try:
        config = parse_office_toml(saved.toml)
    except Exception:
        log.exception("the office settings saved on the web on %s no longer parse; using the file",
                      saved.saved_at.isoformat(timespec="seconds"))
        return from_file
    if config.office_id != file_config.office_id:
        log.error("the office settings saved on the web name office %r, not %r; using the file",
                  config.office_id, file_config.office_id)
        return from_file
    log.warning("using the office settings saved on the web on %s (they win over the file)",
                saved.saved_at.isoformat(timespec="seconds"))
    return EffectiveConfig(config, saved.toml, "saved", saved.saved_at)
