"""Consistent backups of the hub's SQLite database, safe while the hub runs.

``backup_database`` uses SQLite's online backup API (``sqlite3.Connection.backup``):
one read transaction copies every page, so the copy is the database as of one commit
even while the hub keeps writing (in WAL mode readers never block the writer). The
copy is switched to a self-contained rollback journal, checked with
``PRAGMA integrity_check`` and only then renamed to its final name.

``restore_database`` refuses while the database looks in use (a process holds it open,
or a WAL file is left) unless forced, and keeps the previous database as ``<name>.bak``.
"""
from __future__ import annotations

import logging
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from host import paths

log = logging.getLogger(__name__)

PREFIX = "talon-"
SUFFIX = ".db"


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


def resolve_database(value: str | os.PathLike | None = None, environ=None) -> Path:
    """``--database`` (a path or ``sqlite:///`` URL), else the default of ``host.paths``."""
    if value:
        text = str(value)
        return paths.sqlite_path_from_url(text) if "://" in text else Path(text)
    return paths.database_path(environ)


def _connect_existing(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"no database at {path}")
    mode = "ro" if readonly else "rw"  # never "rwc": a typo must not create an empty database
    return sqlite3.connect(f"file:{path.resolve()}?mode={mode}", uri=True, timeout=30)


def integrity_check(path: Path) -> None:
    """Raise BackupError unless ``PRAGMA integrity_check`` says ``ok``."""
    conn = _connect_existing(path, readonly=True)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database: {exc}") from exc
    finally:
        conn.close()
    if rows != ["ok"]:
        raise BackupError(f"{path} failed the integrity check: {'; '.join(rows[:5])}")


def _copy(src: Path, dest: Path) -> None:
    """Online-backup ``src`` into a new file ``dest`` (rollback journal, fsynced)."""
    source = _connect_existing(src)
    target = sqlite3.connect(dest)
    try:
        # pages=-1: all pages in one step, i.e. inside one read transaction (one snapshot).
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
        target.commit()
    finally:
        target.close()
        source.close()
    with open(dest, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_name(now: datetime | None = None) -> str:
    return f"{PREFIX}{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}{SUFFIX}"


def backup_database(database: Path, out_dir: Path, *, now: datetime | None = None) -> Path:
    """Write a verified, timestamped copy of ``database`` into ``out_dir``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / backup_name(now)
    n = 1
    while dest.exists():
        dest = out_dir / backup_name(now).replace(SUFFIX, f"-{n}{SUFFIX}")
        n += 1
    part = dest.with_name(dest.name + ".part")
    try:
        _copy(database, part)
        integrity_check(part)
        os.replace(part, dest)
        _fsync_dir(out_dir)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    log.info("backed up %s to %s", database, dest)
    return dest


def prune(out_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``out_dir``; return what was deleted."""
    backups = sorted(p for p in out_dir.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())
    doomed = backups[:-keep] if keep > 0 else []
    for p in doomed:
        p.unlink()
    return doomed


def _sidecars(db: Path) -> list[Path]:
    return [db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal")]


def holders(db: Path) -> list[int]:
    """PIDs of processes that have the database (or its WAL/SHM) open (Linux /proc)."""
    names = {str(p.resolve()) for p in [db, *_sidecars(db)]}
    found = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                try:
                    if os.readlink(fd) in names:
                        found.add(int(pid_dir.name))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return sorted(found)


def in_use_reason(db: Path) -> str | None:
    """Why ``db`` looks in use, or None."""
    pids = holders(db)
    if pids:
        return f"process(es) {', '.join(map(str, pids))} have it open"
    wal = db.with_name(db.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return f"{wal.name} is not empty (a writer is running, or it stopped uncleanly)"
    return None


def restore_database(backup: Path, database: Path, *, force: bool = False) -> Path | None:
    """Replace ``database`` with ``backup``; the previous database is kept as ``<name>.bak``.

    Returns the ``.bak`` path (None when there was no database before).
    """
    integrity_check(backup)
    if database.exists() and not force:
        reason = in_use_reason(database)
        if reason:
            raise BackupError(f"{database} looks in use: {reason}. Stop the hub first "
                              "(systemctl stop talon-hub), or pass --force.")
    database.parent.mkdir(parents=True, exist_ok=True)
    bak = None
    stat = database.stat() if database.exists() else None
    if stat is not None:
        bak = database.with_name(database.name + ".bak")
        bak.unlink(missing_ok=True)
        _copy(database, bak)  # through SQLite, so committed data still in the WAL is kept
    part = database.with_name(database.name + ".restore-part")
    part.unlink(missing_ok=True)
    try:
        _copy(backup, part)
        if stat is not None:
            os.chmod(part, stat.st_mode & 0o7777)
            if os.geteuid() == 0:
                os.chown(part, stat.st_uid, stat.st_gid)
        for side in _sidecars(database):  # a stale WAL must never be replayed onto the restored file
            side.unlink(missing_ok=True)
        os.replace(part, database)
        _fsync_dir(database.parent)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    integrity_check(database)
    log.info("restored %s from %s (previous kept as %s)", database, backup, bak)
    return bak
