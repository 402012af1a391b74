"""Where Talon keeps its data on this machine: one answer for every command.

The rule (the systemd units and ``talon setup`` follow it too):

* ``TALON_DATA_DIR`` when set;
* else ``/var/lib/talon`` when that directory exists (a provisioned Pi);
* else ``./data`` (a developer checkout).

The hub's database is ``TALON_DATABASE_URL`` (``sqlite:///relative`` or
``sqlite:////absolute``) when set, else ``<data dir>/talon.db``.

>>> import os
>>> data_dir({"TALON_DATA_DIR": "/srv/x"})
PosixPath('/srv/x')
>>> sqlite_path_from_url("sqlite:////var/lib/talon/talon.db")
PosixPath('/var/lib/talon/talon.db')
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SYSTEM_DATA_DIR = Path("/var/lib/talon")
"""The data directory of a provisioned device (the ``talon`` user's home)."""
CONFIG_DIR = Path("/etc/talon")
"""Per-role environment files written by ``talon setup``."""
INSTALL_DIR = Path("/opt/talon")
"""The virtualenv (``/opt/talon/venv``) and a copy of the installed source."""
DATABASE_NAME = "talon.db"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The directory for the database, caches and rendered sounds."""
    env = os.environ if environ is None else environ
    if env.get("TALON_DATA_DIR"):
        return Path(env["TALON_DATA_DIR"])
    if SYSTEM_DATA_DIR.is_dir():
        return SYSTEM_DATA_DIR
    return Path("data")


def sqlite_path_from_url(url: str) -> Path:
    """The file of a ``sqlite:///…`` URL; ValueError for anything else.

    ``sqlite:///rel.db`` is relative, ``sqlite:////abs.db`` absolute (SQLAlchemy's
    convention); a driver suffix (``sqlite+pysqlite://``) and a query string are allowed.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] != "sqlite":
        raise ValueError(f"not an SQLite URL: {url!r} (backup/restore handle SQLite only)")
    path = rest.split("?", 1)[0]
    if not path.startswith("/") or path in ("/", "/:memory:"):
        raise ValueError(f"SQLite URL names no database file: {url!r}")
    return Path(path[1:])


def database_path(environ: Mapping[str, str] | None = None) -> Path:
    """The hub's SQLite file: ``TALON_DATABASE_URL`` or ``<data dir>/talon.db``."""
    env = os.environ if environ is None else environ
    url = env.get("TALON_DATABASE_URL")
    if url:
        return sqlite_path_from_url(url)
    return data_dir(env) / DATABASE_NAME


def backup_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Default directory for ``talon backup`` files: ``<data dir>/backups``."""
    return data_dir(environ) / "backups"
