"""``talon backup``: a consistent, verified copy of the hub's database (safe while it runs)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", default=None,
                        help="database file or sqlite:/// URL (default: TALON_DATABASE_URL, "
                             "else <data dir>/talon.db; data dir = TALON_DATA_DIR, /var/lib/talon or ./data)")
    parser.add_argument("--output", type=Path, default=None,
                        help="directory for the backup (default: <data dir>/backups)")
    parser.add_argument("--keep", type=int, default=0, metavar="N",
                        help="afterwards delete all but the newest N backups in that directory (0: keep all)")


def run(args: argparse.Namespace) -> int:
    from deploy.backup import BackupError, backup_database, prune, resolve_database
    from host import paths

    try:
        database = resolve_database(args.database)
        out_dir = args.output or paths.backup_dir()
        dest = backup_database(database, out_dir)
        removed = prune(out_dir, args.keep) if args.keep else []
    except (BackupError, ValueError, OSError) as exc:
        print(f"talon backup: {exc}", file=sys.stderr)
        return 1
    print(dest)
    for p in removed:
        print(f"removed old backup {p}")
    return 0
