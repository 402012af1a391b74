"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL by URL.

``TALON_DATABASE_URL`` selects the database; without it the hub keeps one SQLite
file in its data directory. ``synchronous=FULL`` makes a committed ticket survive
power loss (WAL + FULL fsyncs the log on every commit).
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def default_url(folder: str | os.PathLike | None = None) -> str:
    """``TALON_DATABASE_URL``, else the SQLite file in ``folder`` (default: ``data_dir()``)."""
    if os.environ.get("TALON_DATABASE_URL"):
        return os.environ["TALON_DATABASE_URL"]
    from host.paths import DATABASE_NAME, data_dir  # the one rule for where data lives (stdlib-only module)

    folder = Path(folder) if folder else data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DATABASE_NAME}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
        return engine
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    from storage.migrate import upgrade
    upgrade(engine)
