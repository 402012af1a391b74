"""``talon restore BACKUP``: put a backup back as the hub's database (previous kept as .bak)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backup", type=Path, help="a file written by `talon backup`")
    parser.add_argument("--database", default=None,
                        help="database file or sqlite:/// URL to replace (default: as for `talon backup`)")
    parser.add_argument("--force", action="store_true",
                        help="restore even though the database looks in use (stop the hub instead!)")


def run(args: argparse.Namespace) -> int:
    from deploy.backup import BackupError, resolve_database, restore_database

    try:
        database = resolve_database(args.database)
        bak = restore_database(args.backup, database, force=args.force)
    except (BackupError, ValueError, OSError) as exc:
        print(f"talon restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {database} from {args.backup}")
    if bak:
        print(f"previous database kept as {bak}")
    return 0
