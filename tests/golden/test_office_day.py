"""A golden office day (office_day.toml) replayed through the real dispatcher and database
for each norm profile; the monthly report's figures compared one by one with the figures
worked out by hand in the same file, and with a brute-force recomputation (brute.py)."""
from __future__ import annotations

import json
import random
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from broker import messages
from hub.dispatcher import Dispatcher
from queue_core.config import parse_office_config
from server.report_data import monthly_data
from storage import directory, stats
from storage.bookings import Bookings
from storage.models import LegRow
from storage.queue_db import QueueDatabase
from tests.golden import brute

DATA = tomllib.loads(Path(__file__).with_name("office_day.toml").read_text(encoding="utf-8"))
TZ = ZoneInfo("Europe/Moscow")
DAY = date.fromisoformat(DATA["day"])
MONTH = (datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ))
FORMS = {"mek": ("admin", "oprsn"), "oek": ("dispatch", "contracts"), "atom": ("consult", "consult_cash")}
PROFILES = tuple(FORMS)


def office(profile: str) -> dict:
    return {
        "office": {"id": "golden", "name": "Эталонный офис", "timezone": "Europe/Moscow", "profile": profile},
        "topics": [{"code": "T", "prefix": "А", "form": FORMS[profile][0]},
                   {"code": "S", "prefix": "Б", "form": FORMS[profile][1]}],
        "windows": [{"number": 1, "topics": ["T", "S"]}, {"number": 2, "topics": ["T", "S"]},
                    {"number": 3, "topics": ["S"]}],
        "calendar": {"hours": {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
        "queue": {"policy": "fifo"},
        "priority": {"mode": "out_of_turn"},
    }


class Clock:
    now = datetime.combine(DAY, time(9), TZ)

    def __call__(self) -> datetime:
        return self.now


def at(hhmm: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmm), TZ)


def replay(url: str, profile: str, until: datetime | None = None) -> tuple[QueueDatabase, Clock]:
    """The golden day's steps (up to ``until``) as device commands to the real dispatcher."""
    db = QueueDatabase(url, parse_office_config(office(profile)))
    with db.sessions() as s, s.begin():
        directory.add_device(s, "golden", "kiosk-1", "kiosk", password="kiosk")
        directory.add_device(s, "golden", "admin-1", "admin", password="admin")
        for n in (1, 2, 3):
            directory.add_device(s, "golden", f"counter-{n}", "counter", window=n, password="counter")
    clock = Clock()
    dispatcher = Dispatcher(db, clock=clock)
    codes: dict[str, str] = {}
    for step in DATA["steps"]:
        clock.now = at(step["at"])
        if until is not None and clock.now > until:
            break
        if step["op"] == "book":
            with db.sessions() as s, s.begin():
                codes[step["booking"]] = Bookings(s, "golden").book(
                    step["topic"], at(step["slot"]), clock.now, rng=random.Random(len(codes))).code
            continue
        args = dict(step.get("args", {}), **({"code": codes[step["booking"]]} if "booking" in step else {}))
        pubs = list(dispatcher.handle_command(step["device"], messages.encode(messages.request(step["op"], args))))
        reply = pubs[0].payload
        assert reply["ok"], (step, reply)
        if "expect" in step:
            assert (reply["data"]["ticket"] or {}).get("number") == step["expect"], step
    return db, clock


@pytest.fixture(scope="module", params=PROFILES)
def golden(request, tmp_path_factory):
    profile = request.param
    db, _clock = replay(f"sqlite:///{tmp_path_factory.mktemp(profile) / 'golden.db'}", profile)
    yield profile, db
    db.close()


def expected(profile: str) -> dict:
    """The hand-worked figures: the common ones with the profile's on top ("none" is null)."""
    def merge(common: dict, own: dict) -> dict:
        return {k: merge(common.get(k, {}), own.get(k, {})) if isinstance(common.get(k, own.get(k)), dict)
                else own.get(k, common.get(k)) for k in {*common, *own}}

    def nulls(d):
        return {k: nulls(v) for k, v in d.items()} if isinstance(d, dict) else None if d == "none" else d
    return nulls(merge(DATA["expected"]["common"], DATA["expected"][profile]))


def test_monthly_figures_match_the_hand_worked_ones(golden):
    profile, db = golden
    want = expected(profile)
    with db.sessions() as s:
        got = monthly_data(s, db.config, 2026, 11)
        v = stats.visits(s, db.config, *MONTH).as_dict()
    topics = {t["code"]: t for t in got["topics"]}
    assert sorted(topics) == ["S", "T"]
    for code in ("T", "S"):
        for key, value in want[code].items():
            assert topics[code][key] == pytest.approx(value) if isinstance(value, float) else \
                topics[code][key] == value, (profile, code, key, topics[code][key], value)
    for key, value in want["total"].items():
        assert got["total"][key] == pytest.approx(value), (profile, "total", key)
    for key, value in want["visits"].items():
        assert v[key] == (pytest.approx(value) if isinstance(value, float) else value), (profile, "visits", key)
        if key in got["visits"]:
            assert got["visits"][key] == v[key]
    assert got["period"] == {"from": "2026-11-01T00:00:00+03:00", "to": "2026-12-01T00:00:00+03:00"}


def test_transferred_legs_keep_their_service_and_early_waits_are_zero(golden):
    """The issue's reproduction: admin wait 12 / service 4, transferred, then specialist wait
    6 / service 10; and the early booking called 10 min before its slot waited 0, not −10."""
    _profile, db = golden
    with db.sessions() as s:
        legs = {(r.topic, r.outcome, r.wait_s, r.service_s) for r in s.execute(select(LegRow)).scalars()}
    assert ("T", "transferred", 12 * 60, 4 * 60) in legs and ("S", "done", 6 * 60, 10 * 60) in legs
    assert ("S", "done", 0.0, 10 * 60) in legs
    assert all(w is None or w >= 0 for _t, _o, w, _s in legs)


def test_figures_equal_a_brute_force_recomputation(golden):
    _profile, db = golden
    with db.sessions() as s:
        rows = brute.tickets(s, db.config, *MONTH)
        by_topic = {f.key: f for f in stats.report(s, db.config, *MONTH)}
        v = stats.visits(s, db.config, *MONTH)
        for code, b in brute.legs_by_topic(rows, db.config).items():
            f = by_topic[code]
            assert (f.tickets, f.served, f.transfers, f.no_shows) == (b["tickets"], b["served"], b["transferred"],
                                                                      b["no_show"])
            assert f.mean_wait_min == brute.mean(b["waits"]) and f.p90_wait_min == brute.r(brute.p90(b["waits"]))
            assert f.mean_service_min == brute.mean(b["services"])
            assert f.p90_service_min == brute.r(brute.p90(b["services"]))
        totals = brute.visits(rows, db.config)
    assert v.count == len(totals) and v.mean_total_min == brute.mean([t for t, _j in totals])
    assert v.max_total_min == brute.r(max(t for t, _j in totals))


def test_the_rolled_up_day_reports_the_figures_of_its_legs(golden):
    """Issue 12, fast cold reports: the golden day (closed) read from its rollup gives every
    figure of every grouping, and the visits, exactly as computed from its legs."""
    from sqlalchemy import func

    from storage.models import LegRollupRow
    _profile, db = golden
    with db.sessions() as s:
        rolled = stats.reports(s, db.config, *MONTH, stats.GROUPS)
        assert s.execute(select(func.count()).where(LegRollupRow.day == DAY.isoformat())).scalar() == 7
        again = stats.reports(s, db.config, *MONTH, stats.GROUPS)
        for group in stats.GROUPS:
            whole = [f.as_dict() for f in stats.summarize(stats.fetch_legs(s, db.config.office_id, *MONTH),
                                                          db.config, group)]
            assert [f.as_dict() for f in rolled[group]] == [f.as_dict() for f in again[group]] == whole, group
        assert stats.visits(s, db.config, *MONTH) == stats.visits(s, db.config, *MONTH, rolled=False)


def test_the_report_command_prints_the_same_json(golden, tmp_path, capsys):
    from talon.cli import main

    profile, db = golden
    config = tmp_path / "office.toml"
    config.write_text(_toml(office(profile)), encoding="utf-8")
    assert main(["report", "monthly", "--month", "2026-11", "--json", "--config", str(config),
                 "--database", str(db.engine.url), "--data", str(tmp_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    with db.sessions() as s:
        assert printed == monthly_data(s, db.config, 2026, 11)
    assert list(printed) == ["period", "topics", "visits", "total"]
    assert list(printed["topics"][0]) == [
        "code", "tickets", "served", "transferred", "no_show", "left", "mean_wait_min", "p90_wait_min", "wait_norm_min",
        "within_wait_norm_share", "wait_verdict", "mean_service_min", "p90_service_min", "service_norm_min",
        "service_verdict"]
    assert list(printed["visits"]) == ["count", "mean_total_min", "max_total_min", "total_norm_max_min",
                                       "over_total_norm"]


@pytest.mark.parametrize("profile, alert", [("oek", True), ("atom", True), ("mek", False)])
def test_a_visit_past_its_ceiling_raises_a_live_alert(tmp_path, profile, alert):
    """At 09:31 visit А001 (issued 09:00, now at its second stage) is 31 min old: past the
    ОЭК ceiling (30) and АтомЭнергоСбыт's (28); МЭК has none."""
    from flask import Flask

    from server.live import snapshot

    db, _clock = replay(f"sqlite:///{tmp_path / 'live.db'}", profile, until=at("09:31"))
    with Flask("test").app_context(), db.sessions() as s:
        alerts = [a for a in snapshot(s, db.config, at("09:31"))["alerts"] if a["kind"] == "visit"]
        early = [a for a in snapshot(s, db.config, at("09:29"))["alerts"] if a["kind"] == "visit"]
    db.close()
    if alert:
        assert len(alerts) == 1 and "А001" in alerts[0]["text"] and "31" in alerts[0]["text"]
        assert early == [] if profile == "oek" else len(early) == 1        # 29 min: within 30, not 28
    else:
        assert alerts == [] and early == []


def _toml(d: dict) -> str:
    """The small office dict above as TOML (strings, lists of strings and ints, nested tables)."""
    def value(v):
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return str(v).lower() if isinstance(v, bool) else str(v)
    out = []
    for section, body in d.items():
        if isinstance(body, list):
            out += [f"[[{section}]]\n" + "".join(f"{k} = {value(x)}\n" for k, x in item.items()) for item in body]
        else:
            out.append(f"[{section}]\n" + "".join(f"{k} = {value(x)}\n" for k, x in body.items()))
    return "\n".join(out)
