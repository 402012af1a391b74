"""Benchmark ``core``: durable queue operations per second, and reports over 1M tickets.

Run with ``talon bench core [--quick] [--json]`` (or ``python -m bench.core``).
"""
from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.harness import median_ms

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
    from storage import disclosure, stats
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
            disclosure_ms = median_ms(lambda: disclosure.disclosure(s, config, 2026), 3)
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


# ------------------------------------------------------------------ a realistic office year
# Load shapes for ``generate_office_year``: by hour of the day (08..19 local), weekday
# (Mon..Sun) and month (Jan..Dec); topic mix by share of visitors.
HOUR_LOAD = (0.6, 1.2, 1.5, 1.4, 1.1, 0.8, 1.2, 1.3, 1.1, 0.9, 0.7, 0.4)
WEEKDAY_LOAD = (1.25, 1.05, 1.0, 1.0, 0.9, 0.45, 0.25)
MONTH_LOAD = (1.15, 1.1, 1.05, 1.0, 0.95, 0.85, 0.8, 0.85, 1.0, 1.05, 1.05, 1.1)
TOPIC_MIX = (0.25, 0.03, 0.12, 0.35, 0.10, 0.15)


def generate_office_year(url: str, config, count: int, end: datetime, seed: int = 1, live: bool = True) -> dict:  # noqa: C901 (one pass writing a year of rows; split up, it would hand a dozen running values around)
    """Fill a database with one office's year: ``count`` tickets in the 365 days up to ``end``.

    Realistic enough for reports and the dashboard to have real work: tickets only in
    opening hours (calendar of ``config``), busier mornings, Mondays and winters; the
    topic mix is skewed; every window has a rota of operators; waits grow with the
    hour's load, service times scatter around each topic's norm; no-shows (5 %),
    cancellations (1 %), transfers to a second topic (4 %), bookings (8 %), ratings.
    With ``live``, the day of ``end`` is cut at ``end``: its windows are open, their
    current visitors are being served and the latest arrivals wait, as the hub would
    have left them (``QueueStore.load`` rebuilds that office).

    Rows go in through Core with plain epoch floats (no ORM, no per-row type
    processing): about 100,000 tickets per second on SQLite.
    Returns ``{"tickets", "legs", "days", "first_day", "last_day", "waiting", "serving"}``.
    """
    from sqlalchemy import column, table

    from storage.engine import init_db, make_engine

    tz = ZoneInfo(config.timezone)
    end = end.astimezone(tz)
    rng = random.Random(seed)
    topics = list(config.topics)
    mix = [TOPIC_MIX[i % len(TOPIC_MIX)] for i in range(len(topics))]
    windows = [w.number for w in config.windows]
    roster = [f"op{n:02d}" for n in range(1, max(2, round(len(windows) * 1.4)) + 1)]
    width = config.number_width
    first_day = (end - timedelta(days=364)).date()

    # Visitors per day, proportional to how long and how busy the day is.
    days, weights = [], []
    for n in range(365):
        d = first_day + timedelta(days=n)
        hours = config.calendar.hours.get(d.weekday())
        if hours is None or d in config.calendar.holidays:
            continue
        opening = datetime.combine(d, hours[0], tz)
        closing = datetime.combine(d, hours[1], tz)
        if live and d == end.date():
            closing = min(closing, end)
        length = (closing - opening).total_seconds()
        if length <= 0:
            continue
        days.append((d, opening, closing))
        weights.append(length / 3600 * WEEKDAY_LOAD[d.weekday()] * MONTH_LOAD[d.month - 1])
    total_weight = sum(weights)

    T = table("tickets", *(column(c) for c in (
        "id", "office", "day", "number", "seq_no", "issue_topic", "kind", "state", "issued_at", "slot_start",
        "booking_code", "priority_category", "segment", "eta_min", "people_ahead", "rating", "finished_at")))
    L = table("legs", *(column(c) for c in (
        "ticket_id", "idx", "office", "topic", "segment", "kind", "window", "operator", "queued_at", "called_at",
        "started_at", "finished_at", "recalls", "outcome", "accounts", "target_window", "wait_s", "walk_s",
        "service_s", "eta_min")))
    engine = make_engine(url)
    init_db(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA synchronous=OFF"))
        first_id = (conn.execute(text("SELECT max(id) FROM tickets")).scalar() or 0) + 1
    office = config.office_id
    tid, carry, made_legs = first_id, 0.0, 0
    live_tickets: list[tuple[dict, list[dict]]] = []
    tickets: list[dict] = []
    legs: list[dict] = []

    def flush(conn) -> None:
        if tickets:
            conn.execute(T.insert(), tickets)
            conn.execute(L.insert(), legs)
            tickets.clear()
            legs.clear()

    with engine.begin() as conn:
        for day_index, ((d, opening, closing), weight) in enumerate(zip(days, weights)):
            carry += count * weight / total_weight        # cumulative target: exactly ``count`` in all
            n_today = round(carry) - (tid - first_id)
            if not n_today:
                continue
            open_s, close_s = opening.timestamp(), closing.timestamp()
            hour_w = [HOUR_LOAD[min(len(HOUR_LOAD) - 1, max(0, h - 8))] for h in range(24)]
            times = []
            first_hour = opening.hour

            def hour_of(t: float, first_hour=first_hour, open_s=open_s) -> int:
                return min(23, first_hour + int((t - open_s) // 3600))

            while len(times) < n_today:     # arrivals shaped by the hour of the day
                t = rng.uniform(open_s, close_s)
                if rng.random() * 1.5 <= hour_w[hour_of(t)]:
                    times.append(t)
            times.sort()
            day_text = d.isoformat()
            rota = {w: roster[(i + day_index * 3) % len(roster)] for i, w in enumerate(windows)}
            seq: dict[str, int] = {}
            for issued in times:
                topic = rng.choices(topics, mix)[0]
                seq[topic.code] = seq.get(topic.code, 0) + 1
                load = hour_w[hour_of(issued)]
                kind = "booking" if rng.random() < 0.08 else "walk_in"
                slot = None
                if kind == "booking":
                    slot = issued + rng.uniform(0, 900)
                    slot -= slot % 900
                wait_from = max(issued, slot) if slot else issued
                norm_wait = topic.wait_norm_min or 15
                r = rng.random()
                outcome = ("cancelled" if r < 0.01 else "no_show" if r < 0.06 else "transferred" if r < 0.10
                           else "terminated" if r < 0.11 else "needs_followup" if r < 0.12 else "done")
                accounts = rng.choice((1, 1, 1, 2, 3)) if topic.code == "C" else 1
                ticket = dict(id=tid, office=office, day=day_text, number=f"{topic.prefix}{seq[topic.code]:0{width}d}",
                              seq_no=seq[topic.code], issue_topic=topic.code, kind=kind, state="done",
                              issued_at=issued, slot_start=slot,
                              booking_code=f"B{tid:07d}" if slot else None, priority_category=None,
                              segment=topic.segment, eta_min=None, people_ahead=rng.randint(0, 12), rating=None,
                              finished_at=None)
                ticket_legs = []
                queued, leg_topic = issued, topic
                for idx in range(2):
                    window = rng.choice(windows)
                    wait = rng.expovariate(1 / (norm_wait * 60 * 0.45 * load)) if idx == 0 else rng.expovariate(1 / 240)
                    wait_start = wait_from if idx == 0 else queued
                    called = wait_start + wait
                    leg_outcome = outcome if idx == 0 else "done"
                    walk = service = started = finished = None
                    if leg_outcome == "cancelled":
                        called, wait, finished = None, None, wait_start + rng.uniform(60, 600)
                    elif leg_outcome == "no_show":
                        finished = called + 180
                    else:
                        walk = rng.uniform(10, 60)
                        started = called + walk
                        service = rng.lognormvariate(math.log((leg_topic.service_norm_min or 8) * 60 * 0.8), 0.45)
                        service *= accounts if idx == 0 else 1
                        finished = started + service
                    ticket_legs.append(dict(
                        ticket_id=tid, idx=idx, office=office, topic=leg_topic.code, segment=topic.segment,
                        kind=kind, window=None if called is None else window,
                        operator=None if called is None else rota[window], queued_at=queued, called_at=called,
                        started_at=started, finished_at=finished, recalls=1 if leg_outcome == "no_show" else 0,
                        outcome=leg_outcome, accounts=accounts if idx == 0 else 1, target_window=None,
                        wait_s=wait, walk_s=walk, service_s=service,
                        eta_min=None if idx or wait is None else round(wait / 60 * rng.uniform(0.7, 1.3), 1)))
                    if leg_outcome != "transferred":
                        break
                    queued = finished
                    leg_topic = rng.choice([t for t in topics if t.code != topic.code] or topics)
                last = ticket_legs[-1]
                ticket["eta_min"] = ticket_legs[0]["eta_min"]
                ticket["finished_at"] = last["finished_at"]
                ticket["state"] = {"no_show": "no_show", "cancelled": "cancelled"}.get(last["outcome"], "done")
                if ticket["state"] == "done" and rng.random() < 0.25:
                    ticket["rating"] = rng.choices((1, 2, 3, 4, 5), (2, 3, 8, 25, 62))[0]
                if live and d == end.date() and last["finished_at"] > close_s:
                    live_tickets.append((ticket, ticket_legs))
                else:
                    tickets.append(ticket)
                    legs.extend(ticket_legs)
                    made_legs += len(ticket_legs)
                tid += 1
                if len(tickets) >= 20_000:
                    flush(conn)
        flush(conn)

        waiting = serving = 0
        if live:
            now_s = end.timestamp()
            busy: dict[int, str] = {}
            for ticket, ticket_legs in live_tickets:
                # still in the office at ``end``: the earliest at each window is served, the rest wait
                ticket_legs = [g for g in ticket_legs if g["queued_at"] <= now_s]
                if not ticket_legs:
                    continue
                if len(ticket_legs) == 2 and ticket_legs[0]["finished_at"] > now_s:
                    ticket_legs = ticket_legs[:1]
                leg = ticket_legs[-1]
                ticket.update(finished_at=None, rating=None)
                w = leg["window"]
                if (leg["started_at"] is not None and leg["started_at"] <= now_s and w not in busy
                        and leg["queued_at"] <= now_s):
                    busy[w] = ticket["number"]
                    ticket["state"] = "serving"
                    leg.update(finished_at=None, outcome=None, service_s=None)
                    serving += 1
                else:
                    ticket["state"] = "waiting"
                    leg.update(window=None, operator=None, called_at=None, started_at=None, finished_at=None,
                               recalls=0, outcome=None, wait_s=None, walk_s=None, service_s=None)
                    waiting += 1
                tickets.append(ticket)
                legs.extend(ticket_legs)
                made_legs += len(ticket_legs)
            flush(conn)
            W = table("windows", *(column(c) for c in ("office", "number", "state", "break_kind", "operator",
                                                        "ticket", "priority_streak", "last_finished",
                                                        "last_finished_day")))
            conn.execute(text("DELETE FROM windows WHERE office = :o"), {"o": office})
            today_rota = {w: roster[(i + (len(days) - 1) * 3) % len(roster)] for i, w in enumerate(windows)}
            conn.execute(W.insert(), [dict(office=office, number=w, state="open", break_kind=None,
                                           operator=today_rota[w], ticket=busy.get(w), priority_streak=0,
                                           last_finished=None, last_finished_day=None) for w in windows])
    engine.dispose()
    return {"tickets": tid - first_id, "legs": made_legs, "days": len(days), "first_day": first_day.isoformat(),
            "last_day": end.date().isoformat(), "waiting": waiting, "serving": serving}
