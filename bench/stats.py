"""Benchmark ``stats``: the web side over one year of a 20-window office.

``talon bench stats [--quick] [--json]`` (or ``python -m bench.stats [--quick]``).
A year of visitors (≈500,000 tickets; ``quick``: 50,000) is bulk-generated into
SQLite by ``bench.core.generate_office_year`` — opening hours, busy mornings and
Mondays, a topic mix, operator rotas, no-shows, transfers, bookings, ratings, and a
live office at "now" (open windows, visitors being served and waiting). Then, through
the WSGI app logged in as a head (a browser's request minus the network), the median
time of:

* ``monthly_report_ms`` — the monthly report page (the month and the year to date) for
  the last complete month;
* ``year_report_ms`` — the summary report page over the whole year;
* ``monthly_report_cold_ms``, ``year_report_cold_ms`` — the same pages rendered first after
  a restart (nothing kept in memory; the closed days come rolled up from the database,
  ``storage.rollups``, which ``rollup_s`` built once as the days closed);
* ``live_json_ms`` — the dashboard's live snapshot ``/snapshot.json`` (what the
  event stream pushes).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import median_ms

GOALS = {"monthly_report_ms": ("<=", 300), "year_report_ms": ("<=", 600),            # issue 12
         "monthly_report_cold_ms": ("<=", 500), "year_report_cold_ms": ("<=", 1000), "live_json_ms": ("<=", 50)}
WINDOWS = 20
TICKETS = 500_000
QUICK_TICKETS = 50_000


def _login(client, user: str, password: str) -> None:
    page = client.get("/auth/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post("/auth/login", data={"username": user, "password": password, "csrf_token": token})
    assert r.status_code in (302, 303), r.status_code


def _roll_up(url: str, config, first_day: str, today) -> int:
    """Roll up every closed day of the generated year, as closing each day would have."""
    from datetime import date

    from storage import stats
    from storage.engine import make_engine, make_sessionmaker

    tz = ZoneInfo(config.timezone)
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return stats.roll_up(s, config, stats.local_day_bounds(date.fromisoformat(first_day), tz)[0],
                                 stats.local_day_bounds(today, tz)[0])
    finally:
        engine.dispose()


def run(quick: bool = False) -> dict:
    from bench.core import generate_office_year
    from queue_core.config import office_from_profile
    from server import create_app
    from server.db import session_scope
    from server.users import add_user
    from storage import stats

    tickets = QUICK_TICKETS if quick else TICKETS
    repeat = {"monthly": 3, "year": 3, "live": 11} if quick else {"monthly": 7, "year": 5, "live": 31}
    config = office_from_profile("mek", windows=WINDOWS)
    tz = ZoneInfo(config.timezone)
    today = datetime.now(tz).date()
    now = datetime(today.year, today.month, today.day, 11, 0, tzinfo=tz)   # a busy late morning
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")     # the last complete month
    with tempfile.TemporaryDirectory(prefix="talon-web-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        began = time.perf_counter()
        data = generate_office_year(url, config, tickets, now)
        generate_s = time.perf_counter() - began
        began = time.perf_counter()
        rolled_up_s = _roll_up(url, config, data["first_day"], today)
        rollup_s = time.perf_counter() - began
        app = create_app({"DATABASE_URL": url, "OFFICE_CONFIG": config, "SECRET_KEY": "bench",
                          "CLOCK": lambda: now})
        with app.app_context(), session_scope(write=True) as s:
            add_user(s, "bench", "bench-password", "head")
        client = app.test_client()
        _login(client, "bench", "bench-password")
        monthly_url = f"/reports/monthly?month={month}"
        year_url = f"/reports/summary?period=custom&from={data['first_day']}&to={data['last_day']}"

        def get(path: str):
            def action():
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code)
                return r
            return action

        live = get("/snapshot.json")()
        assert live.json["totals"]["windows_open"] == WINDOWS
        cold = {}
        for name, url in (("monthly_report_cold_ms", monthly_url), ("year_report_cold_ms", year_url)):
            stats._closed_months = stats._ClosedMonths()     # the first render after a restart
            cold[name] = median_ms(get(url), 1, warmup=False)
        out = {
            "tickets": data["tickets"], "legs": data["legs"], "windows": WINDOWS, "days": data["days"],
            "period": f"{data['first_day']}..{data['last_day']}",
            "dataset": f"{data['tickets']:,} tickets ({data['legs']:,} legs) in one year of a {WINDOWS}-window office, "
                       "SQLite" + (" (quick: a tenth of the full year's volume)" if quick else ""),
            "generate_s": round(generate_s, 1),
            "rollup_s": round(rollup_s, 1),
            "rolled_up_days": rolled_up_s,
            "monthly_report_ms": median_ms(get(monthly_url), repeat["monthly"]),
            "year_report_ms": median_ms(get(year_url), repeat["year"]),
            "live_json_ms": median_ms(get("/snapshot.json"), repeat["live"]),
            "dashboard_page_ms": median_ms(get("/"), repeat["live"] // 3 or 1),
            "monthly_xlsx_ms": median_ms(get(f"/reports/monthly.xlsx?month={month}"), repeat["monthly"] // 2 or 1),
            **cold,
            "live_waiting": live.json["totals"]["waiting"],
            "urls": {"monthly": monthly_url, "year": year_url, "live": "/snapshot.json"},
            "repeat": repeat,
            "note": "median ms of GETs through the WSGI test client logged in as head, one warm-up each (closed "
                    "days come rolled up from the database; *_cold_ms is the first render after a restart); the "
                    "monthly report is the last complete month plus the year to date",
        }
        app.extensions["talon"].engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.stats", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help=f"{QUICK_TICKETS:,} tickets instead of {TICKETS:,}")
    args = p.parse_args(argv)
    print(json.dumps(run(args.quick), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
