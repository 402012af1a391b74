"""``talon report KIND``: the report pages' figures for scripts and cron (docs/reports.md).

KIND is ``monthly``, ``disclosure``, ``csat`` or ``downtime``. The figures are the web
pages' own: each KIND runs the page's builder in ``server.report_data`` over the hub's
database (``--config`` and ``--database`` default as ``talon hub``'s do). Output: a plain
table, ``--csv`` (the page's CSV export) or ``--json`` (``monthly``: the fixed document in
docs/reports.md; the others: the page's tables as rows of raw values).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hub.cli import add_office_arguments, load_office

KINDS = ("monthly", "disclosure", "csat", "downtime")
PERIODS = {"monthly": ("month",), "disclosure": ("year",), "csat": ("half",), "downtime": ("month", "year", "half")}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=KINDS, help="which report")
    period = p.add_mutually_exclusive_group()
    period.add_argument("--month", metavar="YYYY-MM", help="monthly, downtime (default: the last complete month)")
    period.add_argument("--year", metavar="YYYY", help="disclosure, downtime (default: the past year)")
    period.add_argument("--half", metavar="YYYY-H1", help="csat, downtime: YYYY-H1 or YYYY-H2 "
                                                          "(default: the last complete half-year)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="JSON for scripts")
    out.add_argument("--csv", action="store_true", help="the page's CSV export («;», decimal comma)")
    add_office_arguments(p)


def page_args(kind: str, month: str | None, year: str | None, half: str | None, today: date) -> dict:
    """The web page's query arguments for this KIND and period (defaults: the last complete one)."""
    given = [name for name, value in (("month", month), ("year", year), ("half", half)) if value]
    if given and given[0] not in PERIODS[kind]:
        raise SystemExit(f"talon report {kind}: --{given[0]} does not apply; use "
                         + " or ".join(f"--{n}" for n in PERIODS[kind]))
    if month and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise SystemExit(f"--month {month!r}: expected YYYY-MM")
    if year and not re.fullmatch(r"\d{4}", year):
        raise SystemExit(f"--year {year!r}: expected YYYY")
    if half and not re.fullmatch(r"\d{4}-H[12]", half, re.IGNORECASE):
        raise SystemExit(f"--half {half!r}: expected YYYY-H1 or YYYY-H2")
    if not given:
        last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        month = f"{last_month:%Y-%m}" if kind in ("monthly", "downtime") else None
        year = str(today.year - 1) if kind == "disclosure" else None
        half = (f"{today.year}-H1" if today.month > 6 else f"{today.year - 1}-H2") if kind == "csat" else None
    if kind == "monthly":
        return {"month": month}
    if kind == "disclosure":
        return {"year": year}
    if kind == "csat":
        assert half is not None
        return {"year": half[:4], "half": half[-1]}
    if month:
        return {"period": "month", "date": f"{month}-01"}
    if year:
        return {"period": "year", "date": f"{year}-01-01"}
    assert half is not None
    return {"period": "half", "date": f"{half[:4]}-{'01' if half[-1] == '1' else '07'}-01"}


def run(args: argparse.Namespace) -> int:
    from flask import Flask

    from server.exports import cell_text, to_csv
    from server.periods import PeriodError
    from server.report_data import REPORTS, monthly_data
    from storage.engine import init_db, make_engine, make_sessionmaker

    config, _folder, url = load_office(args)
    today = datetime.now(ZoneInfo(config.timezone)).date()
    query = page_args(args.kind, args.month, args.year, args.half, today)
    engine = make_engine(url)
    init_db(engine)
    try:
        with Flask("talon-report").app_context(), make_sessionmaker(engine)() as session:
            if args.kind == "monthly" and args.json:
                year, month = (int(x) for x in query["month"].split("-"))
                print(json.dumps(monthly_data(session, config, year, month), ensure_ascii=False, indent=2))
                return 0
            report = REPORTS[args.kind](session, config, query, today)
            if args.csv:
                sys.stdout.buffer.write(to_csv(report))
            elif args.json:
                print(json.dumps({"report": args.kind, "title": report.title, "period": report.subtitle,
                                  "tables": [{"title": t.title, "rows": [{k: row.get(k) for k, _l, _kind in t.columns}
                                                                        for row in t.rows]}
                                             for t in report.tables]}, ensure_ascii=False, indent=2, default=str))
            else:
                print(f"{report.title}: {report.subtitle}")
                for t in report.tables:
                    print(f"\n{t.title}")
                    print(" | ".join(label for _k, label, _kind in t.columns))
                    for row in t.rows:
                        print(" | ".join(cell_text(row.get(k), kind) for k, _l, kind in t.columns))
    except PeriodError as exc:
        raise SystemExit(f"talon report {args.kind}: {exc}") from None
    finally:
        engine.dispose()
    return 0
