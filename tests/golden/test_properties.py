"""Properties of the timings over random office days run through the real dispatcher:
no negative duration anywhere; a visit's legs add up to its total; the report's figures
equal a brute-force recomputation from the stored timestamps (brute.py)."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from broker import messages
from hub.dispatcher import Dispatcher
from queue_core.config import parse_office_config
from storage import directory, stats
from storage.bookings import Bookings
from storage.models import LegRow, TicketRow
from storage.queue_db import QueueDatabase
from tests.golden import brute
from tests.golden.test_office_day import MONTH, PROFILES, TZ, office

START = datetime(2026, 11, 16, 8, 0, tzinfo=TZ)

step = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(["T", "S"]), st.sampled_from(["walk_in", "walk_in", "priority"])),
    st.tuples(st.just("booking"), st.sampled_from(["T", "S"]), st.integers(-10, 30)),   # slot − check-in, min
    st.tuples(st.sampled_from(["call_next", "start", "finish", "recall", "no_show", "serve", "serve", "take"]),
              st.integers(1, 3), st.integers(1, 4)),                                    # window, accounts
    st.tuples(st.just("transfer"), st.integers(1, 3), st.sampled_from(["T", "S", 1, 2, 3])),
    st.tuples(st.just("cancel"), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("wait"), st.integers(0, 12), st.integers(0, 59)),                 # minutes, seconds
)


def run_day(profile: str, steps) -> QueueDatabase:
    config = parse_office_config(dict(office(profile), calendar={"hours": {
        d: "07:00-23:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}))
    db = QueueDatabase(f"sqlite:///file:/talon-golden-{uuid.uuid4().hex}?vfs=memdb&uri=true", config)
    with db.sessions() as s, s.begin():
        directory.add_device(s, "golden", "kiosk-1", "kiosk", password="kiosk")
        directory.add_device(s, "golden", "admin-1", "admin", password="admin")
        for n in (1, 2, 3):
            directory.add_device(s, "golden", f"counter-{n}", "counter", window=n, password="counter")
    now = [START]
    d = Dispatcher(db, clock=lambda: now[0])
    issued: list[str] = []

    def send(device, op, **args):
        reply = next(iter(d.handle_command(device, messages.encode(messages.request(op, args))))).payload
        if reply["ok"] and (reply.get("data") or {}).get("ticket") and op in ("issue", "checkin"):
            issued.append(reply["data"]["ticket"]["number"])
        return reply

    for n in (1, 2, 3):
        send(f"counter-{n}", "open", window=n)
    for op, a, b in steps:
        _step(db, send, now, issued, op, a, b)
    return db


def _step(db, send, now: list, issued: list, op: str, a, b) -> None:
    """One generated step: a device command (refusals are fine) or time passing."""
    if op == "wait":
        now[0] += timedelta(minutes=a, seconds=b)
    elif op == "issue":
        send("kiosk-1", "issue", topic=a, kind=b)
    elif op == "booking":
        with db.sessions() as s, s.begin():
            code = Bookings(s, "golden").book(a, now[0] + timedelta(minutes=b), now[0],
                                              rng=random.Random(len(issued))).code
        send("kiosk-1", "checkin", code=code)
    elif op == "transfer":
        send(f"counter-{a}", "transfer", window=a, **({"topic": b} if isinstance(b, str) else {"to_window": b}))
    elif op == "cancel":
        if issued:
            send("admin-1", "cancel", ticket=issued[a % len(issued)])
    elif op == "finish":
        send(f"counter-{a}", "finish", window=a, accounts=b)
    elif op in ("serve", "take"):        # call, walk a minute, start (and serve b × 3 min, done)
        send(f"counter-{a}", "call_next", window=a)
        now[0] += timedelta(minutes=1)
        send(f"counter-{a}", "start", window=a)
        if op == "serve":
            now[0] += timedelta(minutes=3 * b)
            send(f"counter-{a}", "finish", window=a, accounts=b)
    else:
        send(f"counter-{a}", op, window=a)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=st.sampled_from(PROFILES), steps=st.lists(step, min_size=5, max_size=60))
def test_timings_are_consistent(profile, steps):
    db = run_day(profile, steps)
    try:
        with db.sessions() as s:
            legs = s.execute(select(LegRow)).scalars().all()
            assert all(v is None or v >= 0 for g in legs for v in (g.wait_s, g.walk_s, g.service_s))
            rows = brute.tickets(s, db.config, *MONTH)
            for t in s.execute(select(TicketRow)).scalars():
                if t.legs[-1].outcome in brute.SERVED:        # a visit that ended in service
                    parts = sum((g.wait_s or 0) + (g.walk_s or 0) + (g.service_s or 0) for g in t.legs)
                    total = brute.minutes(brute.wait_start(t, 0, t.legs[0]), t.legs[-1].finished_at) * 60
                    assert abs(parts - total) < 1e-6, (t.number, parts, total)
            by_topic = {f.key: f for f in stats.report(s, db.config, *MONTH)}
            for code, b in brute.legs_by_topic(rows, db.config).items():
                f = by_topic[code]
                assert (f.tickets, f.served, f.transfers, f.no_shows) == (
                    b["tickets"], b["served"], b["transferred"], b["no_show"])
                assert f.mean_wait_min == brute.mean(b["waits"])
                assert f.p90_wait_min == brute.r(brute.p90(b["waits"]))
                assert f.mean_service_min == brute.mean(b["services"])
                assert f.p90_service_min == brute.r(brute.p90(b["services"]))
            v = stats.visits(s, db.config, *MONTH)
            totals = brute.visits(rows, db.config)
            assert v.count == len(totals)
            assert v.mean_total_min == brute.mean([t for t, _j in totals])
            assert v.max_total_min == brute.r(max((t for t, _j in totals), default=None) if totals else None)
            ceiling = db.config.profile.total_visit_max_min
            if ceiling is not None and totals:
                assert v.over_total_norm == sum(j > ceiling for _t, j in totals)
                assert v.total_compliant == all(j <= ceiling for _t, j in totals)
    finally:
        db.close()
