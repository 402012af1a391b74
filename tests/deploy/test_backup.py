"""`talon backup` / `talon restore`: consistent while a writer keeps committing (WAL)."""
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from deploy.backup import BackupError, backup_database, prune, restore_database
from host import paths
from talon import cli


def _create(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript("""
        CREATE TABLE ticket (id INTEGER PRIMARY KEY, number TEXT NOT NULL, issued_at INTEGER NOT NULL);
        CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO counter VALUES ('issued', 0);
    """)
    conn.commit()
    conn.close()


class Writer(threading.Thread):
    """Issues tickets, one transaction each (ticket row + counter), until told to stop."""

    def __init__(self, db: Path):
        super().__init__(daemon=True)
        self.db = db
        self.committed = 0
        self.stop = threading.Event()
        self.reached = {}  # committed count -> Event
        self.lock = threading.Lock()
        self.error = None

    def wait_for(self, n: int) -> None:
        with self.lock:
            ev = self.reached.setdefault(n, threading.Event())
            if self.committed >= n:
                ev.set()
        assert ev.wait(120), "writer stalled"

    def run(self):
        try:
            conn = sqlite3.connect(self.db, timeout=30)
            while not self.stop.is_set():
                with conn:
                    n = self.committed + 1
                    conn.execute("INSERT INTO ticket VALUES (?, ?, ?)", (n, f"А{n % 1000:03d}", 1_700_000_000 + n))
                    conn.execute("UPDATE counter SET value = value + 1 WHERE name = 'issued'")
                with self.lock:
                    self.committed = n
                    for k, ev in self.reached.items():
                        if n >= k:
                            ev.set()
            conn.close()
        except Exception as exc:  # noqa: BLE001 - surfaced by the test
            self.error = exc


def _dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [line for line in conn.iterdump() if not line.startswith(("BEGIN", "COMMIT"))]
    finally:
        conn.close()


def test_backup_while_writing_restores_identical_database(tmp_path):
    db = tmp_path / "talon.db"
    _create(db)
    writer = Writer(db)
    writer.start()
    try:
        writer.wait_for(200)
        backup = backup_database(db, tmp_path / "backups")
        after = writer.committed
        writer.wait_for(after + 200)  # the writer kept going past the backup point
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None

    conn = sqlite3.connect(backup)
    k = conn.execute("SELECT value FROM counter").fetchone()[0]
    ids = [r[0] for r in conn.execute("SELECT id FROM ticket ORDER BY id")]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert 200 <= k < writer.committed
    assert ids == list(range(1, k + 1))  # one commit's snapshot: no torn transaction

    # The source as it was at the backup point: the final database minus later commits.
    expected = tmp_path / "expected.db"
    src = sqlite3.connect(db)
    dst = sqlite3.connect(expected)
    src.backup(dst)
    src.close()
    dst.execute("DELETE FROM ticket WHERE id > ?", (k,))
    dst.execute("UPDATE counter SET value = ?", (k,))
    dst.commit()
    dst.close()

    target = tmp_path / "restored" / "talon.db"
    assert restore_database(backup, target) is None
    assert _dump(target) == _dump(expected)

    # Restoring over the (now idle) live database keeps the previous one as .bak.
    before = _dump(db)
    bak = restore_database(backup, db)
    assert bak == tmp_path / "talon.db.bak"
    assert _dump(bak) == before
    assert _dump(db) == _dump(expected)
    assert not (tmp_path / "talon.db-wal").exists()


def test_restore_refuses_database_held_open_by_another_process(tmp_path):
    db = tmp_path / "talon.db"
    _create(db)
    backup = backup_database(db, tmp_path / "b")
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                                "c.execute('SELECT * FROM ticket').fetchall(); print('open', flush=True); "
                                "sys.stdin.read()"), str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(BackupError, match="looks in use"):
            restore_database(backup, db)
        assert restore_database(backup, db, force=True) == tmp_path / "talon.db.bak"
    finally:
        holder.stdin.close()
        holder.wait()


def test_restore_refuses_leftover_wal(tmp_path):
    db = tmp_path / "talon.db"
    _create(db)
    backup = backup_database(db, tmp_path / "b")
    conn = sqlite3.connect(db)  # this process writes and keeps the WAL non-empty
    conn.execute("INSERT INTO ticket VALUES (1, 'А001', 0)")
    conn.commit()
    try:
        with pytest.raises(BackupError, match="in use"):
            restore_database(backup, db)
    finally:
        conn.close()


def test_restore_rejects_corrupt_backup(tmp_path):
    db = tmp_path / "talon.db"
    _create(db)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(BackupError):
        restore_database(bad, db)
    assert _dump(db)  # untouched


def test_backup_cli_uses_database_url_and_prunes(tmp_path, monkeypatch, capsys):
    db = tmp_path / "hub.db"
    _create(db)
    monkeypatch.setenv("TALON_DATABASE_URL", f"sqlite:///{db}")
    out_dir = tmp_path / "out"
    for _ in range(3):
        assert cli.main(["backup", "--output", str(out_dir), "--keep", "2"]) == 0
    assert len(list(out_dir.glob("talon-*.db"))) == 2
    assert not list(out_dir.glob("*.part"))
    printed = capsys.readouterr().out.splitlines()
    assert Path(printed[0]).parent == out_dir


def test_backup_cli_missing_database_fails_clearly(tmp_path, capsys):
    assert cli.main(["backup", "--database", str(tmp_path / "nope.db"), "--output", str(tmp_path)]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()


def test_restore_cli_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALON_DATA_DIR", str(tmp_path))
    db = tmp_path / "talon.db"
    _create(db)
    assert cli.main(["backup"]) == 0
    backup = Path(capsys.readouterr().out.strip())
    assert backup.parent == tmp_path / "backups"
    assert cli.main(["restore", str(backup)]) == 0
    assert "talon.db.bak" in capsys.readouterr().out


@pytest.mark.parametrize("env, expected", [
    ({"TALON_DATA_DIR": "/srv/t"}, Path("/srv/t/talon.db")),
    ({"TALON_DATA_DIR": "/srv/t", "TALON_DATABASE_URL": "sqlite:////x/y.db"}, Path("/x/y.db")),
    ({"TALON_DATABASE_URL": "sqlite+pysqlite:///rel/y.db?timeout=5"}, Path("rel/y.db")),
])
def test_paths_database_path(env, expected):
    assert paths.database_path(env) == expected


def test_paths_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "SYSTEM_DATA_DIR", tmp_path / "missing")
    assert paths.data_dir({}) == Path("data")
    monkeypatch.setattr(paths, "SYSTEM_DATA_DIR", tmp_path)
    assert paths.data_dir({}) == tmp_path


@pytest.mark.parametrize("url", ["postgresql://h/db", "sqlite://", "sqlite:///:memory:", "nonsense"])
def test_paths_rejects_non_file_urls(url):
    with pytest.raises(ValueError):
        paths.sqlite_path_from_url(url)


def test_prune_keeps_newest(tmp_path):
    for name in ("talon-20260101-000000.db", "talon-20260102-000000.db", "talon-20260103-000000.db"):
        (tmp_path / name).write_text("")
    assert [p.name for p in prune(tmp_path, 1)] == ["talon-20260101-000000.db", "talon-20260102-000000.db"]
