"""Benchmark ``hq``: many offices publishing through real bridges into one head office.

``talon bench hq [--quick] [--json]`` (or ``python -m bench.hq [--quick] [--part live|report|page]``).

* **Offices** (``simulation.light_office``): each office its own real mosquitto with the real
  bridge to head office (``[hq]``: ``cleansession false``, a local queue), publishing a
  simulated day of a 6-window office — real ``event/ticket`` messages made by the queue's
  rules, its ``hq/config`` — at office speed ×60, from two worker processes.
* **Head office** (``hq.runtime.HqRuntime``, what ``talon hq run`` runs): its mosquitto with one
  user and ACL per office, and the ingest writing PostgreSQL with the offices' own projection.

Figures:

* ``ingest_lag_ms`` p50/p99: from an event's office time (its ``at``; the office publishes it
  then) to the commit of the ingest's transaction holding it, for the events of the steady
  phase;
* ``events_per_s``: the ingest's sustained rate while it catches up after the cut (every
  office's backlog and its live events at once: the ingest running flat out);
  ``offered_events_per_s``: what the offices publish at ×60;
* ``catch_up_s``: head office unreachable for ``cut_s`` (its broker stopped: every bridge cut
  at once, each office queueing locally), then back: until every office's events published
  up to the restore are committed;
* ``lost`` / ``duplicated``: published events missing in PostgreSQL / rows beyond one per
  ``(office, seq)``, once the offices halt and head office has caught up;
* ``hq_process_cpu_ms_per_event``: CPU of head office's process (the ingest, as ``talon hq
  run`` runs it, plus the bench's probes) per event stored — what one core sustains, whatever
  else the machine runs; ``bytes_per_event``: the events table with its indexes per row;
* ``network_month_report_ms``: the head-office web's network report page (``/network``) for
  the last complete month over a year of 50 offices (tickets and legs generated straight
  into the projection's tables), warm; ``*_cold_ms`` the first render in a fresh app, the
  closed days already rolled up (``rollup_s``: what the first report of the month builds);
* ``hq_live_page_ms`` (part ``page``): the all-offices live page (``/``) at 50 and 100 offices,
  each with a live morning (windows open, visitors served and waiting, a light year behind it)
  and its devices' presence history, warm (nothing changed since the last render); ``_cold_ms``
  the first render in a fresh app; ``_one_changed_ms`` after an event in one office;
  ``_all_changed_ms`` after an event in every office (what a busy network looks like between
  two 15-second refreshes).

PostgreSQL from ``TALON_BENCH_POSTGRES_URL`` or ``TALON_TEST_POSTGRES_URL`` (a scratch
database is created and dropped); without one, SQLite (said in the output).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import cpu_seconds, free_port, percentile

GOALS = {"offices": (">=", 100), "ingest_lag_ms.p99": ("<=", 2000), "events_per_s": (">=", 2000),
         "lost": ("<=", 0), "duplicated": ("<=", 0), "network_month_report_ms": ("<=", 1000),   # issue 15
         "hq_live_page_ms.100": ("<=", 300)}
FULL = {"offices": 100, "steady_s": 120, "cut_s": 300, "report_offices": 50, "tickets_per_office": 30_000,
        "page_offices": (50, 100), "page_tickets_per_office": 2_000}
QUICK = {"offices": 6, "steady_s": 15, "cut_s": 20, "report_offices": 4, "tickets_per_office": 3_000,
         "page_offices": (4, 8), "page_tickets_per_office": 300}
SPEED = 60.0
LOAD = 0.8
WINDOWS = 6
REGIONS = [("Урал", "Екатеринбург"), ("Урал", "Тюмень"), ("Центр", "Москва"), ("Центр", "Тула"),
           ("Сибирь", "Новосибирск")]


# ---------------------------------------------------------------------- the database
class ScratchDatabase:
    """A fresh PostgreSQL database for one run (dropped after), or a SQLite file."""

    def __init__(self, folder: Path, name: str):
        base = os.environ.get("TALON_BENCH_POSTGRES_URL") or os.environ.get("TALON_TEST_POSTGRES_URL")
        self.admin = None
        if base:
            from sqlalchemy import create_engine, text
            self.name = f"talon_bench_{name}_{os.getpid()}"
            root = base.rsplit("/", 1)[0]
            self.admin = create_engine(root + "/postgres", isolation_level="AUTOCOMMIT")
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
                c.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = f"{root}/{self.name}"
        else:
            self.url = f"sqlite:///{folder / (name + '.db')}"
        self.kind = "postgresql" if base else "sqlite"

    def drop(self) -> None:
        if self.admin is not None:
            from sqlalchemy import text
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def office_config(n: int):
    """Office ``n`` of the network: a 6-window МЭК office, its region and branch."""
    from queue_core.config import office_from_profile

    region, branch = REGIONS[n % len(REGIONS)]
    return office_from_profile("mek", windows=WINDOWS, office_id=f"office-{n:03d}", name=f"Офис {n:03d}"), region, branch


# ---------------------------------------------------------------------- the live part
class LagProbe:
    """Wraps the ingest's ``handle``: the commit time of every event message of every batch."""

    def __init__(self, ingest):
        self.records: list[tuple[float, list[bytes]]] = []
        self.committed = 0
        self._handle = ingest.handle
        ingest.handle = self.handle

    def handle(self, batch) -> None:
        self._handle(batch)
        now = time.time()
        events = [m.payload for m in batch if m.topic.endswith("/event/ticket")]
        self.committed += len(events)
        self.records.append((now, events))

    def drain_rate(self, since: float, until: float) -> float | None:
        """Events committed per second from the first commit after ``since`` to ``until``: the
        ingest's own pace once the bridges are back (their reconnection is not counted)."""
        window = [(t, len(events)) for t, events in self.records if since <= t <= until + 1.0 and events]
        if len(window) < 2:
            return None
        span = window[-1][0] - window[0][0]
        return round(sum(n for _t, n in window[1:]) / span, 1) if span > 0 else None

    def lags_ms(self, wall0: float, office0: datetime, until_wall: float) -> list[float]:
        out = []
        for committed, payloads in self.records:
            for raw in payloads:
                at = datetime.fromisoformat(json.loads(raw)["at"])
                due = wall0 + (at - office0).total_seconds() / SPEED
                if due < until_wall:
                    out.append(max(0.0, committed - due) * 1000)
        return out


def _applied(url: str) -> dict[str, int]:
    from storage import hq
    from storage.engine import make_engine, make_sessionmaker
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return {o.office: o.last_seq for o in hq.offices(s)}
    finally:
        engine.dispose()


def _wait_applied(url: str, wanted: dict[str, int], timeout: float) -> float | None:
    """Seconds until head office has applied every office's events up to ``wanted``; None on timeout."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        applied = _applied(url)
        if all(applied.get(o, 0) >= seq for o, seq in wanted.items()):
            return time.monotonic() - began
        time.sleep(0.2)
    return None


def _counts(url: str) -> dict[str, tuple[int, int, int]]:
    """office -> (rows, distinct seqs, max seq) in the events table."""
    from sqlalchemy import func, select

    from storage.engine import make_engine
    from storage.models import EventRow
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            q = select(EventRow.office, func.count(), func.count(func.distinct(EventRow.seq)),
                       func.max(EventRow.seq)).group_by(EventRow.office)
            return {o: (n, d, m) for o, n, d, m in c.execute(q)}
    finally:
        engine.dispose()


def live_part(folder: Path, sizes: dict, db: ScratchDatabase) -> dict:
    from hq.offices import Registry
    from hq.runtime import HqRuntime, HqSettings
    from queue_core.config_toml import config_to_toml
    from simulation.light_office import Workers

    n = sizes["offices"]
    registry = Registry(folder / "hq")
    configs = [office_config(i) for i in range(1, n + 1)]
    offices = []
    for i, (config, region, branch) in enumerate(configs, 1):
        password = registry.add(config.office_id, config.name_ru, region, branch)
        text = config_to_toml(config)
        offices.append({"toml": text, "password": password, "port": free_port(), "seed": i})
    runtime = HqRuntime(HqSettings(folder / "hq", db.url, port=free_port()))
    runtime.start()
    probe = LagProbe(runtime.ingest)
    tz = ZoneInfo(configs[0][0].timezone)
    today = datetime.now(tz).date()
    office0 = datetime(today.year, today.month, today.day, 8, 55, tzinfo=tz)
    began = time.monotonic()
    workers = None
    try:
        workers = Workers(offices, runtime.broker.url, folder / "offices", office0, SPEED, LOAD)
        start_s = time.monotonic() - began
        if _wait_configs(db.url, n, 120) is None:
            raise RuntimeError("head office did not get every office's configuration within 120 s")
        wall0 = time.time() + 1.0
        workers.go(wall0)
        time.sleep(1.0 + sizes["steady_s"])
        cut_at = time.time()
        steady_committed = probe.committed
        broker_cpu = cpu_seconds(runtime.broker.pid)
        runtime.broker.stop()                       # head office unreachable: every bridge cut
        time.sleep(sizes["cut_s"])
        runtime.broker.start()
        restored, restored_wall = time.monotonic(), time.time()
        wanted = workers.published()
        caught = _wait_applied(db.url, wanted, max(120.0, sizes["cut_s"]))
        caught_wall = time.time()
        backlog = sum(wanted.values()) - steady_committed
        catch_up_s = None if caught is None else round(time.monotonic() - restored, 1)
        final, late = workers.halt()
        settled = _wait_applied(db.url, final, 120.0)
        counts = _counts(db.url)
        sizes_out = _table_sizes(db.url)
        process_cpu = time.process_time()
        cpu = {"hq_broker_cpu_s": round(broker_cpu + cpu_seconds(runtime.broker.pid), 1),
               "hq_process_cpu_s": round(process_cpu, 1),
               "hq_process_cpu_ms_per_event": round(process_cpu * 1000 / max(1, probe.committed), 3)}
    finally:
        replays = workers.close() if workers is not None else {}
        runtime.stop()
    # the steady phase's events: those due up to 2 s before the cut (the last ones were still on
    # their way when head office went away: their wait is the cut's, counted in catch_up_s)
    lags = probe.lags_ms(wall0, office0, cut_at - 2.0)
    published = sum(final.values())
    lost = sum(max(0, seq - min(counts.get(o, (0, 0, 0))[1], seq)) for o, seq in final.items())
    steady_s = cut_at - wall0
    return {
        "offices": n,
        "events_published": published,
        "offered_events_per_s": round(sum(1 for _ in lags) / steady_s, 1) if steady_s > 0 else None,
        "events_per_s": probe.drain_rate(restored_wall, caught_wall) if catch_up_s else None,
        "ingest_lag_ms": {"p50": percentile(lags, 0.5, 1), "p99": percentile(lags, 0.99, 1),
                          "max": percentile(lags, 1.0, 1), "n": len(lags)},
        "catch_up_s": catch_up_s,
        "committed_after_restore": sum(len(e) for t, e in probe.records if restored_wall <= t <= caught_wall + 1.0),
        "cut_s": sizes["cut_s"],
        "backlog_events": backlog,
        "lost": lost,
        "duplicated": sum(rows - distinct for rows, distinct, _m in counts.values()),
        "duplicates_skipped": runtime.ingest.counts.duplicates,
        "replays_requested": runtime.ingest.counts.replays_requested,
        "replays_answered": sum(replays.values()),
        "settled": settled is not None,
        "publisher_late_s": late,
        "offices_start_s": round(start_s, 1),
        **cpu, **sizes_out,
    }


def _table_sizes(url: str) -> dict:
    """Bytes per stored event (table and its indexes), PostgreSQL only: what partitioning is about."""
    if not url.startswith("postgresql"):
        return {}
    from sqlalchemy import text

    from storage.engine import make_engine
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(text("SELECT count(*) FROM events")).scalar() or 0
            size = c.execute(text("SELECT pg_total_relation_size('events')")).scalar() or 0
            legs = c.execute(text("SELECT pg_total_relation_size('legs') + pg_total_relation_size('tickets')")).scalar()
        return {"events_rows": rows, "bytes_per_event": round(size / rows) if rows else None,
                "projection_mb": round((legs or 0) / 2 ** 20, 1), "events_mb": round(size / 2 ** 20, 1)}
    finally:
        engine.dispose()


def _wait_configs(url: str, n: int, timeout: float) -> float | None:
    from sqlalchemy import func, select

    from storage.engine import make_engine
    from storage.models import HqConfigRow
    began = time.monotonic()
    engine = make_engine(url)
    try:
        while time.monotonic() - began < timeout:
            with engine.connect() as c:
                if c.execute(select(func.count(func.distinct(HqConfigRow.office)))).scalar() >= n:
                    return time.monotonic() - began
            time.sleep(0.3)
        return None
    finally:
        engine.dispose()


def _hq_client(url: str, clock=None):
    """The head-office web on ``url`` (a fresh app) and a client logged in as an analyst."""
    from server import create_app
    from server.db import session_scope
    from server.users import add_user
    from storage import users

    app = create_app({"DATABASE_URL": url, "HQ_MODE": True, "SECRET_KEY": "bench", "CLOCK": clock})
    with app.app_context(), session_scope(write=True) as s:
        if users.get(s, "analyst") is None:
            add_user(s, "analyst", "bench-password", "head")
    client = app.test_client()
    page = client.get("/auth/login").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/auth/login", data={"username": "analyst", "password": "bench-password", "csrf_token": token})
    return app, client


def _timed(client, path: str) -> float:
    t = time.perf_counter()
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return (time.perf_counter() - t) * 1000


# ---------------------------------------------------------------------- the month report
def report_part(folder: Path, sizes: dict, db: ScratchDatabase) -> dict:
    from bench.core import generate_office_year
    from queue_core.config_toml import config_to_toml
    from storage import hq, stats
    from storage.engine import make_engine, make_sessionmaker

    n = sizes["report_offices"]
    now = datetime.now(timezone.utc)
    began = time.perf_counter()
    configs = []
    tickets = 0
    for i in range(1, n + 1):
        config, region, branch = office_config(i)
        tickets += generate_office_year(db.url, config, sizes["tickets_per_office"], now, seed=i, live=False)["tickets"]
        configs.append((config, region, branch))
    generate_s = time.perf_counter() - began
    engine = make_engine(db.url)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        for config, region, branch in configs:
            hq.record_config(s, config.office_id, "v1", now - timedelta(days=400), config_to_toml(config))
            hq.describe(s, config.office_id, name=config.name_ru, region=region, branch=branch)
            hq.touch(s, config.office_id, 1, now)
    today = now.astimezone(ZoneInfo(configs[0][0].timezone)).date()
    last = today.replace(day=1) - timedelta(days=1)
    month = last.strftime("%Y-%m")
    began = time.perf_counter()
    with sessions() as s:          # the month's closed days rolled up, as its first report would
        for config, _r, _b in configs:
            tz = ZoneInfo(config.timezone)
            stats.roll_up(s, config, *stats.month_bounds(last.year, last.month, tz))
    rollup_s = time.perf_counter() - began
    engine.dispose()

    stats._closed_months = stats._ClosedMonths()
    app, client = _hq_client(db.url)
    cold = _timed(client, f"/network?month={month}")
    warm = sorted(_timed(client, f"/network?month={month}") for _ in range(5))[2]
    ranking = sorted(_timed(client, f"/ranking?month={month}") for _ in range(3))[1]
    xlsx = _timed(client, f"/network.xlsx?month={month}")
    live = sorted(_timed(client, "/live.json") for _ in range(3))[1]
    app.extensions["talon"].engine.dispose()
    return {"report_offices": n, "report_tickets": tickets, "report_month": month,
            "generate_s": round(generate_s, 1), "rollup_s": round(rollup_s, 1),
            "network_month_report_ms": round(warm, 1), "network_month_report_cold_ms": round(cold, 1),
            "ranking_ms": round(ranking, 1), "network_xlsx_ms": round(xlsx, 1), "all_offices_live_ms": round(live, 1)}


# ---------------------------------------------------------------------- the all-offices live page
def _page_moment() -> datetime:
    """11:00 of the last weekday before today, in the offices' zone: every office open, busy."""
    tz = ZoneInfo(office_config(1)[0].timezone)
    day = datetime.now(tz).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=tz)


def _add_page_offices(url: str, first: int, last: int, tickets: int, now: datetime) -> None:
    """Offices ``first..last`` as head office holds them: a light year up to ``now`` with the
    morning live (``generate_office_year``), the configuration, the grouping, and the devices'
    presence: a history of drop-outs and each device's status now (every seventh office has
    its kiosk offline)."""
    from bench.core import generate_office_year
    from queue_core.config_toml import config_to_toml
    from storage import hq, presence
    from storage.engine import make_engine, make_sessionmaker

    configs = []
    for i in range(first, last + 1):
        config, region, branch = office_config(i)
        generate_office_year(url, config, tickets, now, seed=i, live=True)
        configs.append((i, config, region, branch))
    engine = make_engine(url)
    try:
        if url.startswith("postgresql"):       # the generator wrote ids itself: later inserts go past them
            from sqlalchemy import text
            with engine.begin() as c:
                for name in ("tickets", "legs"):
                    c.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                   f"(SELECT max(id) FROM {name}))"))
        with make_sessionmaker(engine).begin() as s:
            for i, config, region, branch in configs:
                hq.record_config(s, config.office_id, "v1", now - timedelta(days=400), config_to_toml(config))
                hq.describe(s, config.office_id, name=config.name_ru, region=region, branch=branch)
                hq.touch(s, config.office_id, 0, now)
                devices = ["kiosk-1", "board-1"] + [f"window-{w.number}" for w in config.windows]
                history = []
                for day in range(60, 0, -1):
                    at = now - timedelta(days=day)
                    history += [presence.Status(devices[day % len(devices)], at, "offline"),
                                presence.Status(devices[day % len(devices)], at + timedelta(minutes=3), "online", "ok")]
                history += [presence.Status(d, now - timedelta(hours=2), "online", "ok") for d in devices]
                if i % 7 == 0:
                    history.append(presence.Status("kiosk-1", now - timedelta(minutes=20), "offline"))
                presence.record(s, config.office_id, history)
    finally:
        engine.dispose()


def _one_event_each(url: str, numbers: list[int], now: datetime) -> None:
    """A visitor takes a ticket in each of these offices: its event and projection stored as
    head office's ingest stores them, and the office's applied seq moved on."""
    from storage import hq
    from storage.engine import make_engine, make_sessionmaker
    from storage.store import QueueStore

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine).begin() as s:
            for i in numbers:
                config = office_config(i)[0]
                store = QueueStore(config.office_id)
                office = store.load(s, config)
                office.issue(config.topics[0].code, now, enforce_hours=False)
                events, tickets = office.take_events()
                store.save(s, events, tickets, office.windows)
                hq.touch(s, config.office_id, office.seq, now)
    finally:
        engine.dispose()


def page_part(folder: Path, sizes: dict, db: ScratchDatabase) -> dict:
    """``hq_live_page_ms`` and its variants at each size of ``page_offices``."""
    now = _page_moment()
    out: dict = {k: {} for k in ("hq_live_page_ms", "hq_live_page_cold_ms", "hq_live_page_one_changed_ms",
                                 "hq_live_page_all_changed_ms")}
    built = 0
    began = time.perf_counter()
    for n in sizes["page_offices"]:
        _add_page_offices(db.url, built + 1, n, sizes["page_tickets_per_office"], now)
        built = n
        app, client = _hq_client(db.url, clock=lambda: now)
        out["hq_live_page_cold_ms"][str(n)] = round(_timed(client, "/"), 1)
        out["hq_live_page_ms"][str(n)] = round(sorted(_timed(client, "/") for _ in range(5))[2], 1)
        one, every = [], []
        for _round in range(3):
            _one_event_each(db.url, [1], now)
            one.append(_timed(client, "/"))
            _one_event_each(db.url, list(range(1, n + 1)), now)
            every.append(_timed(client, "/"))
        out["hq_live_page_one_changed_ms"][str(n)] = round(sorted(one)[1], 1)
        out["hq_live_page_all_changed_ms"][str(n)] = round(sorted(every)[1], 1)
        app.extensions["talon"].engine.dispose()
    out["page_build_s"] = round(time.perf_counter() - began, 1)
    return out


def run(quick: bool = False, parts: tuple[str, ...] = ("live", "report", "page")) -> dict:
    sizes = QUICK if quick else FULL
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="talon-hq-bench-") as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o755)
        for part, name, measure in (("live", "hq", live_part), ("report", "hq_year", report_part),
                                    ("page", "hq_page", page_part)):
            if part not in parts:
                continue
            db = ScratchDatabase(folder, name)      # each part on a database of its own, dropped after
            try:
                out.update(measure(folder, sizes, db))
            finally:
                db.drop()
            print(f"bench hq, {part} part:", json.dumps(out), file=sys.stderr, flush=True)   # kept if the rest fails
    out["database"] = db.kind
    out["speed"] = SPEED
    out["note"] = ("offices: light offices (a real mosquitto each, bridged to head office; a simulated 6-window "
                   "office day) at office speed x60; head office: its mosquitto + the ingest (talon hq run) on the "
                   "same machine; lag from the event's office time to its ingest commit, steady phase; events_per_s: "
                   "the ingest's rate draining every office's backlog after the cut")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hq", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--part", choices=("live", "report", "page"), action="append",
                   help="only this part: the offices into head office, the network's month report, or the "
                        "all-offices live page (repeatable)")
    args = p.parse_args(argv)
    print(json.dumps(run(args.quick, tuple(args.part or ("live", "report", "page"))), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
