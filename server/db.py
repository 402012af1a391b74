"""The database and the office configuration the app is bound to.

One engine and one sessionmaker per app, made in ``init_app``; each request that
needs the database opens a short session with ``session_scope()``. The office
configuration lives in ``app.extensions["talon"]`` so the settings page can swap it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, abort, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from queue_core.config import OfficeConfig, parse_office_toml
from storage.engine import default_url, init_db, make_engine, make_sessionmaker
from storage.settings import effective_config


@dataclass
class Binding:
    engine: object
    sessions: sessionmaker[Session]
    config: OfficeConfig | None   # None at head office: each page picks its office (server/hq_web.py)
    toml: str                 # the text the config came from (the settings page edits it)


def init_app(app: Flask) -> None:
    url = app.config.get("DATABASE_URL") or default_url()
    engine = make_engine(url)
    init_db(engine)
    sessions = make_sessionmaker(engine)
    if app.config.get("HQ_MODE"):         # many offices in one database: no office of its own
        app.extensions["talon"] = Binding(engine, sessions, None, "")
        return
    config, text = _initial_config(app)
    with sessions() as session:
        effective = effective_config(session, config, text)    # saved web settings win over the file
    app.extensions["talon"] = Binding(engine, sessions, effective.config, effective.toml)


def _initial_config(app: Flask) -> tuple[OfficeConfig, str | None]:
    text = app.config.get("OFFICE_TOML")
    path = app.config.get("OFFICE_CONFIG_FILE") or os.environ.get("TALON_OFFICE_CONFIG")
    if text is None and path:
        text = Path(path).read_text(encoding="utf-8")
    if text is not None:
        return parse_office_toml(text), text
    if app.config.get("OFFICE_CONFIG") is not None:
        from server.toml_out import config_to_toml
        return app.config["OFFICE_CONFIG"], config_to_toml(app.config["OFFICE_CONFIG"])
    raise RuntimeError("no office configuration: pass --office-config FILE (or set TALON_OFFICE_CONFIG)")


def binding() -> Binding:
    return current_app.extensions["talon"]


def office_config() -> OfficeConfig:
    """The office the request is about: the app's own, or at head office the office a page
    drills into (``g.office_config``, set by server/hq_web.py)."""
    scoped = g.get("office_config")
    if scoped is not None:
        return scoped
    config = binding().config
    if config is None:
        abort(404)
    return config


@contextmanager
def session_scope(write: bool = False):
    """A short session; with ``write`` it commits on success and rolls back on error."""
    session = binding().sessions()
    try:
        if write:
            with session.begin():
                yield session
        else:
            yield session
    finally:
        session.close()
