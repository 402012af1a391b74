"""``talon simulate``: office days in simulated time, reported against the norms."""
from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from queue_core.norms import PROFILES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", choices=sorted(PROFILES), default="mek", help="norm profile (default: МЭК)")
    p.add_argument("--config", type=Path, help="an office TOML file instead of a profile's default office")
    p.add_argument("--policy", choices=["fifo", "norm_aware"], default=None, help="dispatch policy")
    p.add_argument("--load", type=float, default=0.85, help="target utilisation of the windows (0.1-1.2)")
    p.add_argument("--windows", type=int, default=6)
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 23), help="first day (YYYY-MM-DD)")
    p.add_argument("--database", help="database URL (default: a fresh SQLite file in a temp dir)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from queue_core.config import office_from_profile, parse_office_toml
    from simulation.report import build_report, render_text
    from simulation.simulator import simulate
    from simulation.workload import Workload
    from storage.queue_db import QueueDatabase

    if not 0.1 <= args.load <= 1.2:
        raise SystemExit("--load must be between 0.1 and 1.2")
    if args.config:
        config = parse_office_toml(args.config.read_text(encoding="utf-8"))
        if args.policy:
            config = replace(config, policy=args.policy)
    else:
        config = office_from_profile(args.profile, windows=args.windows, policy=args.policy or "norm_aware")
    with tempfile.TemporaryDirectory(prefix="talon-sim-") as tmp:
        db = QueueDatabase(args.database or f"sqlite:///{Path(tmp) / 'sim.db'}", config)
        simulate(db, args.days, args.start, Workload(load=args.load), seed=args.seed)
        tz = ZoneInfo(config.timezone)
        start = datetime(args.start.year, args.start.month, args.start.day, tzinfo=tz)
        report = build_report(db, start, start + timedelta(days=args.days * 2 + 3), config.policy, args.load)
        db.close()
    print(json.dumps(report, ensure_ascii=False) if args.json else render_text(report))
    return 0
