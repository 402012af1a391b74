"""Benchmarks of the web side: ``python -m server.bench [--quick]`` prints JSON.

A simulated month (``quick``: one week) of a six-window МЭК office, then the median
time to build the dashboard snapshot and to render the monthly report page
(through the WSGI app, as a browser would get it, minus the network).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from talon.bench import median_ms

MONTH_START = date(2026, 10, 1)




def run(quick: bool) -> dict:
    from queue_core.config import office_from_profile
    from server import create_app
    from server.db import session_scope
    from server.live import snapshot
    from server.users import add_user
    from simulation.simulator import simulate
    from simulation.workload import Workload
    from storage.queue_db import QueueDatabase

    days = 5 if quick else 22
    repeat = 5 if quick else 21
    config = office_from_profile("mek", windows=6)
    with tempfile.TemporaryDirectory(prefix="talon-web-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = QueueDatabase(url, config)
        t0 = time.perf_counter()
        result = simulate(db, days, MONTH_START, Workload(load=0.85))
        simulate_s = time.perf_counter() - t0
        db.close()
        now = datetime(2026, 10, 15, 11, 0, tzinfo=ZoneInfo(config.timezone))
        app = create_app({"DATABASE_URL": url, "OFFICE_CONFIG": config, "SECRET_KEY": "bench",
                          "CLOCK": lambda: now})
        with app.app_context(), session_scope(write=True) as s:
            add_user(s, "bench", "bench-password", "head")
        client = app.test_client()
        page = client.get("/auth/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/auth/login", data={"username": "bench", "password": "bench-password", "csrf_token": token})

        def build_snapshot():
            with app.app_context(), session_scope() as s:
                snapshot(s, config, now)

        def monthly_page():
            r = client.get("/reports/monthly?month=2026-10")
            assert r.status_code == 200

        def summary_xlsx():
            r = client.get("/reports/summary.xlsx?period=month&date=2026-10-01")
            assert r.status_code == 200

        out = {
            "days": days, "tickets": result.tickets, "windows": len(config.windows),
            "simulate_s": round(simulate_s, 2),
            "dashboard_snapshot_median_ms": median_ms(build_snapshot, repeat),
            "monthly_report_page_median_ms": median_ms(monthly_page, repeat),
            "summary_xlsx_median_ms": median_ms(summary_xlsx, max(3, repeat // 3)),
            "repeat": repeat,
        }
        app.extensions["talon"].engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one simulated week instead of a month")
    args = p.parse_args(argv)
    print(json.dumps(run(args.quick), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
