"""Benchmark ``core``: durable queue operations per second, and reports over 1M tickets.

Run with ``talon bench core [--quick] [--json]`` (or ``python -m storage.bench``).
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from talon.bench import median_ms

GOALS = {"ops_per_s": (">=", 1000), "monthly_report_ms": ("<=", 300)}


def _ops_per_second(folder: Path, cycles: int) -> float:
    from queue_core.config import office_from_profile
    from storage.queue_db import QueueDatabase

    config = office_from_profile("mek", windows=2)
    db = QueueDatabase(f"sqlite:///{folder / f'ops-{time.monotonic_ns()}.db'}", config)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo(config.timezone))
    db.transaction(lambda s, o: o.open(1, now))
    began = time.perf_counter()
    for i in range(cycles):
        at = now + timedelta(seconds=i)
        db.transaction(lambda s, o, at=at: o.issue("D", at))
        db.transaction(lambda s, o, at=at: o.call_next(1, at))
        db.transaction(lambda s, o, at=at: o.start(1, at))
        db.transaction(lambda s, o, at=at: o.finish(1, at))
    elapsed = time.perf_counter() - began
    db.close()
    return 4 * cycles / elapsed


def generate_tickets(url: str, count: int, year: int = 2026, seed: int = 1) -> None:
    """Fill a database with ``count`` finished tickets spread over one year."""
    from queue_core.config import office_from_profile
    from storage.engine import init_db, make_engine
    from storage.models import LegRow, TicketRow

    config = office_from_profile("mek", windows=6)
    tz = ZoneInfo(config.timezone)
    engine = make_engine(url)
    init_db(engine)
    rng = random.Random(seed)
    topics = [t.code for t in config.topics]
    start = datetime(year, 1, 1, 9, tzinfo=tz).timestamp()
    span = 365 * 86400
    batch = 20_000
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA synchronous=OFF"))   # bulk load only: the data is generated
    for first in range(0, count, batch):
        tickets, legs = [], []
        for i in range(first, min(count, first + batch)):
            queued = start + span * i / count
            wait, walk, service = rng.expovariate(1 / 600), 30.0, rng.lognormvariate(6.2, 0.4)
            topic = topics[i % len(topics)]
            day = datetime.fromtimestamp(queued, tz)
            tickets.append(dict(id=i + 1, office=config.office_id, day=day.date().isoformat(), number=f"X{i:07d}",
                                seq_no=i, issue_topic=topic, kind="walk_in", state="done",
                                issued_at=day, finished_at=day + timedelta(seconds=wait + walk + service),
                                people_ahead=0, rating=rng.randint(1, 5) if i % 5 == 0 else None))
            legs.append(dict(ticket_id=i + 1, idx=0, office=config.office_id, topic=topic, kind="walk_in",
                             window=1 + i % 6, operator=f"op{i % 6}", queued_at=day,
                             called_at=day + timedelta(seconds=wait), recalls=0, outcome="done", accounts=1,
                             wait_s=wait, walk_s=walk, service_s=service, eta_min=wait / 60 * rng.uniform(0.7, 1.3)))
        with engine.begin() as conn:
            conn.execute(insert(TicketRow), tickets)
            conn.execute(insert(LegRow), legs)
    engine.dispose()




def run(quick: bool = False) -> dict:
    from queue_core.config import office_from_profile
    from storage import stats
    from storage.engine import make_engine, make_sessionmaker

    tickets = 100_000 if quick else 1_000_000
    cycles = 150 if quick else 500
    with tempfile.TemporaryDirectory(prefix="talon-bench-") as tmp:
        folder = Path(tmp)
        ops = [_ops_per_second(folder, cycles) for _ in range(3)]
        url = f"sqlite:///{folder / 'report.db'}"
        began = time.perf_counter()
        generate_tickets(url, tickets)
        generate_s = time.perf_counter() - began
        config = office_from_profile("mek", windows=6)
        sessions = make_sessionmaker(make_engine(url))
        tz = ZoneInfo(config.timezone)
        month = stats.month_bounds(2026, 6, tz)
        with sessions() as s:
            monthly_ms = median_ms(lambda: stats.report(s, config, *month), 5)
            rows = len(stats.fetch_legs(s, config.office_id, *month))
            disclosure_ms = median_ms(lambda: stats.disclosure(s, config, 2026), 3)
    return {
        "ops_per_s": round(statistics.median(ops)),
        "ops_per_s_runs": [round(x) for x in ops],
        "ops_note": f"{cycles} issue→call→start→finish cycles per run, one transaction per operation, "
                    "SQLite WAL synchronous=FULL on a file; median of 3 runs",
        "tickets": tickets,
        "generate_s": round(generate_s, 1),
        "monthly_report_ms": monthly_ms,
        "monthly_report_rows": rows,
        "disclosure_ms": disclosure_ms,
    }


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run("--quick" in sys.argv), ensure_ascii=False, indent=2))
