"""Head office's web (``HQ_MODE``, server/hq_web.py) over an HQ database holding three offices.

Each office's days are simulated twice with the same seed: once into the office's own
database (the office's truth, read by the office's own web) and once into the one HQ
database, saved by the same projection (``QueueStore`` through ``QueueDatabase``) that HQ's
ingest uses. Then every figure HQ shows must equal the office's own: the office's reports
byte for byte, the live state, and the network's sums of them.
"""
import csv
import io
import json
import shutil
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from queue_core.config import parse_office_toml
from queue_core.norms import PROFILES
from server import create_app
from server.db import session_scope
from server.users import add_user
from storage import hq, presence
from storage.queue_db import QueueDatabase
from tests.server.conftest import AuthActions, csrf_from

TZ = ZoneInfo("Asia/Yekaterinburg")
NOW = datetime(2026, 11, 19, 11, 0, tzinfo=TZ)
MONTH = "2026-11"
PASSWORD = "hq-pass-12345"
# office id, profile, windows, days simulated (from Monday 16 Nov), region, branch, seed
OFFICES = [("ekb-1", "mek", 3, 2, "Урал", "Екатеринбург", 1),
           ("ekb-2", "oek", 2, 2, "Урал", "Екатеринбург", 2),
           ("msk-1", "atom", 2, 1, "Центр", "Москва", 3)]


def _toml(office, profile, windows, first_wait_norm=None):
    """The office's configuration as the TOML it publishes (hq/config): one topic per service form."""
    forms = PROFILES[profile].forms
    codes = [chr(ord("A") + i) for i in range(len(forms))]
    text = (f'[office]\nid = "{office}"\nname = "Офис {office}"\ntimezone = "Asia/Yekaterinburg"\n'
            f'profile = "{profile}"\n')
    for i, (code, form) in enumerate(zip(codes, forms)):
        text += f'\n[[topics]]\ncode = "{code}"\nform = "{form.code}"\n'
        if i == 0 and first_wait_norm is not None:
            text += f"wait_norm_min = {first_wait_norm}\n"
    for n in range(1, windows + 1):
        text += f'\n[[windows]]\nnumber = {n}\ntopics = {json.dumps(codes)}\n'
    days = ", ".join(f'{d} = "08:00-20:00"' for d in ("mon", "tue", "wed", "thu", "fri"))
    return text + f"\n[calendar]\nhours = {{ {days} }}\n"


def _config(office, profile, windows):
    text = _toml(office, profile, windows)
    return parse_office_toml(text), text


def _live_morning(db: QueueDatabase, config):
    """Thursday: three visitors served and rated 5, 4 and 2 from 9:00; 10:20-10:50 one
    visitor called and three waiting."""
    at = NOW - timedelta(minutes=40)
    window = config.windows[0].number
    topic = config.topics[0].code
    early = NOW - timedelta(hours=2)
    db.transaction(lambda s, o: o.sign_in(window, "op-1", early))
    for i, score in enumerate((5, 4, 2)):
        t0 = early + timedelta(minutes=10 * i)
        t = db.transaction(lambda s, o, t0=t0: o.issue(topic, t0))[0]
        db.transaction(lambda s, o, t0=t0: o.call_next(window, t0 + timedelta(minutes=1)))
        db.transaction(lambda s, o, t0=t0: o.start(window, t0 + timedelta(minutes=2)))
        db.transaction(lambda s, o, t0=t0: o.finish(window, t0 + timedelta(minutes=6)))
        db.transaction(lambda s, o, t0=t0, t=t, score=score: o.rate(window, t.number, score, t0 + timedelta(minutes=7)))
    for i in range(4):
        db.transaction(lambda s, o, i=i: o.issue(topic, at + timedelta(minutes=5 + i)))
    db.transaction(lambda s, o: o.call_next(window, at + timedelta(minutes=10)))


def _simulate(url: str, config, days: int, seed: int) -> None:
    from simulation.simulator import simulate
    from simulation.workload import Workload

    db = QueueDatabase(url, config)
    simulate(db, days, date(2026, 11, 16), Workload(load=0.8), seed=seed)
    _live_morning(db, config)
    db.close()


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    """The HQ database with three offices, and each office's own database."""
    folder = tmp_path_factory.mktemp("hq")
    hq_url = f"sqlite:///{folder / 'hq.db'}"
    offices = {}
    for office, profile, windows, days, region, branch, seed in OFFICES:
        config, text = _config(office, profile, windows)
        own = folder / f"{office}.db"
        _simulate(f"sqlite:///{own}", config, days, seed)
        _simulate(hq_url, config, days, seed)
        offices[office] = {"config": config, "toml": text, "db": own, "region": region, "branch": branch}
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": hq_url, "HQ_MODE": True})
    with app.app_context(), session_scope(write=True) as s:
        for office, o in offices.items():
            hq.record_config(s, office, "v1", datetime(2026, 1, 1, tzinfo=timezone.utc), o["toml"])
            hq.describe(s, office, name=o["config"].name_ru, region=o["region"], branch=o["branch"])
            hq.touch(s, office, 1, NOW)
        # one device of msk-1 went offline 20 minutes ago
        presence.record(s, "msk-1", [presence.Status("kiosk-1", NOW - timedelta(minutes=20), "offline")])
    app.extensions["talon"].engine.dispose()
    own_msk = QueueDatabase(f"sqlite:///{offices['msk-1']['db']}", offices["msk-1"]["config"])
    with own_msk.sessions() as s, s.begin():
        presence.record(s, "msk-1", [presence.Status("kiosk-1", NOW - timedelta(minutes=20), "offline")])
    own_msk.close()
    return folder, offices


def _hq_app(folder, tmp_path, now=NOW, clock=None):
    path = tmp_path / "hq.db"
    shutil.copy(folder / "hq.db", path)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{path}", "HQ_MODE": True,
                      "CLOCK": clock or (lambda: now)})
    with app.app_context(), session_scope(write=True) as s:
        add_user(s, "analyst", PASSWORD, "head")
        add_user(s, "head-ekb2", PASSWORD, "head", office="ekb-2")
    return app


def _office_app(office: dict, tmp_path):
    path = tmp_path / "office.db"
    shutil.copy(office["db"], path)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{path}",
                      "OFFICE_TOML": office["toml"], "CLOCK": lambda: NOW})
    with app.app_context(), session_scope(write=True) as s:
        add_user(s, "head", PASSWORD, "head")
    return app


@pytest.fixture
def hq_app(databases, tmp_path):
    folder, _offices = databases
    app = _hq_app(folder, tmp_path)
    yield app
    app.extensions["talon"].engine.dispose()


def _login(app, user):
    client = app.test_client()
    r = AuthActions(client).login(user, PASSWORD)
    assert r.status_code == 302
    return client


@pytest.fixture
def analyst(hq_app):
    return _login(hq_app, "analyst")


def _office_client(databases, office, tmp_path):
    _folder, offices = databases
    app = _office_app(offices[office], tmp_path / office)
    return app, _login(app, "head")


@pytest.mark.parametrize("office", [o[0] for o in OFFICES])
@pytest.mark.parametrize("page", [f"monthly.csv?month={MONTH}", "summary.csv?period=month&date=2026-11-01",
                                  "operators.csv?period=month&date=2026-11-01", "csat.csv?year=2026&half=2",
                                  "disclosure.csv?year=2026", "noshows.csv?period=week&date=2026-11-16"])
def test_an_office_report_at_head_office_equals_the_office_own(databases, analyst, tmp_path, office, page):
    (tmp_path / office).mkdir()
    app, own = _office_client(databases, office, tmp_path)
    try:
        mine = own.get(f"/reports/{page}")
        theirs = analyst.get(f"/offices/{office}/reports/{page}")
        assert mine.status_code == theirs.status_code == 200
        assert theirs.data == mine.data
        assert b"\xd0" in mine.data                # a real report with Russian text, not an empty file
    finally:
        app.extensions["talon"].engine.dispose()


def test_the_office_report_page_at_head_office_shows_the_same_tables(databases, analyst, tmp_path):
    (tmp_path / "ekb-1").mkdir()
    app, own = _office_client(databases, "ekb-1", tmp_path)
    try:
        mine = own.get(f"/reports/monthly?month={MONTH}").text
        theirs = analyst.get(f"/offices/ekb-1/reports/monthly?month={MONTH}").text
        table = mine[mine.index("<table"):mine.rindex("</table>")]
        assert table and table == theirs[theirs.index("<table"):theirs.rindex("</table>")]
        assert 'action="/offices/ekb-1/reports/monthly"' in theirs       # the form stays on the office
        assert "/offices/ekb-1/reports/monthly.xlsx?month=2026-11" in theirs
        assert "disclosure-inputs" not in analyst.get("/offices/ekb-1/reports/disclosure?year=2026").text
    finally:
        app.extensions["talon"].engine.dispose()


def test_live_state_of_every_office_equals_each_office_own_snapshot(databases, analyst, tmp_path):
    live = analyst.get("/live.json").json
    rows = {r["office"]: r for r in live["offices"]}
    assert list(rows) == ["ekb-1", "ekb-2", "msk-1"]           # Урал/Екатеринбург first, then Центр/Москва
    for office in rows:
        (tmp_path / office).mkdir()
        app, own = _office_client(databases, office, tmp_path)
        try:
            snap = own.get("/snapshot.json").json
        finally:
            app.extensions["talon"].engine.dispose()
        assert rows[office]["waiting"] == snap["totals"]["waiting"] == 3
        assert rows[office]["windows_open"] == snap["totals"]["windows_open"] == 1
        assert rows[office]["devices_offline"] == sum(d["state"] == "offline" for d in snap["devices"])
        assert rows[office]["alerts_crit"] + rows[office]["alerts_warn"] == len(snap["alerts"])
    assert rows["msk-1"]["devices_offline"] == 1 and rows["ekb-1"]["devices_offline"] == 0
    page = analyst.get("/").text
    assert "Урал" in page and "Центр" in page and 'id="office-msk-1"' in page
    assert 'href="/offices/ekb-2/"' in page


def _monthly(databases, office, tmp_path):
    """The office's own monthly figures, from its own database (``talon report monthly --json``'s),
    with its disclosure row and its ratings of the month."""
    from server.report_data import monthly_data
    from storage import csat, disclosure, stats

    (tmp_path / office).mkdir(exist_ok=True)
    app, _own = _office_client(databases, office, tmp_path)
    try:
        with app.app_context(), session_scope() as s:
            config = app.extensions["talon"].config
            data = monthly_data(s, config, 2026, 11)
            data["disclosure"] = disclosure.disclosure(s, config, 2026, months=(11,))[0]
            data["csat"] = csat.csat(s, config, *stats.month_bounds(2026, 11, TZ))
            return data
    finally:
        app.extensions["talon"].engine.dispose()


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_network_month_adds_up_the_offices_and_ranks_them(databases, analyst, tmp_path):
    own = {o[0]: _monthly(databases, o[0], tmp_path) for o in OFFICES}
    from flask import g

    from server import hq_web
    app = analyst.application
    with app.test_request_context("/network?month=2026-11"), session_scope() as s:
        g.scope = None                                  # an analyst: every office
        months = {o.office: t for o, _c, t in hq_web.office_months(s, 2026, 11, NOW)}
        network = hq_web.network_report(s, 2026, 11, NOW)
    for office, t in months.items():
        mine = own[office]
        f = t.figures()
        assert f["tickets"] == sum(x["tickets"] for x in mine["topics"]) == mine["total"]["tickets"]
        assert f["served"] == mine["total"]["served"]
        assert f["mean_wait_min"] == mine["total"]["mean_wait_min"]
        assert f["mean_service_min"] == mine["total"]["mean_service_min"]
        # within the wait norm: each topic judged by its own norm, added up over the office's topics
        judged = [(x["served"] + x["transferred"], x["within_wait_norm_share"]) for x in mine["topics"]
                  if x["wait_norm_min"] is not None and x["served"] + x["transferred"]]
        assert t.judged == sum(n for n, _share in judged)
        assert t.within == sum(round(n * share) for n, share in judged)
    total = network.tables[0].rows[0]
    assert total["tickets"] == sum(m["total"]["tickets"] for m in own.values())
    assert total["served"] == sum(m["total"]["served"] for m in own.values())
    judged = sum(t.judged for t in months.values())
    assert total["within_wait_norm_share"] == round(sum(t.within for t in months.values()) / judged, 4)
    names = {o: f"Офис {o}" for o in own}
    disclosed = {r["office"]: r for r in network.tables[3].rows}
    rated = {r["office"]: r for r in network.tables[4].rows}
    for office, mine in own.items():
        for key in ("visitors", "mean_wait_until_service_min", "mean_service_min"):
            assert disclosed[names[office]][key] == mine["disclosure"][key], (office, key)
        assert rated[names[office]]["distribution"] == mine["csat"]["distribution"]
    assert disclosed["Офисов: 3"]["visitors"] == sum(m["disclosure"]["visitors"] for m in own.values())
    assert rated["Офисов: 3"]["ratings"] == sum(m["csat"]["ratings"] for m in own.values()) == 9
    assert rated["Офисов: 3"]["csat"] == round(6 / 9, 4)
    by_region = {(r["region"], r["branch"]): r for r in network.tables[1].rows}
    assert by_region[("Урал", "Екатеринбург")]["tickets"] == own["ekb-1"]["total"]["tickets"] + \
        own["ekb-2"]["total"]["tickets"]
    ranking = analyst.get(f"/ranking?month={MONTH}").text
    shares = sorted(months, key=lambda o: -months[o].within / months[o].judged)
    positions = [ranking.index(f'/offices/{o}/reports/monthly?month={MONTH}') for o in shares]
    assert positions == sorted(positions)


def test_network_exports_are_csv_and_xlsx(analyst):
    rows = _csv(analyst.get(f"/network.csv?month={MONTH}").data)
    assert rows[0][0] == "Отчёт по сети за месяц"
    assert any(r and r[0] == "Вся сеть" for r in rows)
    r = analyst.get(f"/ranking.xlsx?month={MONTH}")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(r.data)).worksheets[0]
    assert [sheet.cell(4 + i, 1).value for i in range(3)] == [1, 2, 3]


def test_an_office_head_sees_only_their_office(hq_app):
    head = _login(hq_app, "head-ekb2")
    assert [r["office"] for r in head.get("/live.json").json["offices"]] == ["ekb-2"]
    assert head.get("/offices/ekb-2/reports/monthly").status_code == 200
    assert head.get("/offices/ekb-1/reports/monthly").status_code == 403
    assert head.get("/offices/ekb-1/").status_code == 403
    network = _csv(head.get(f"/network.csv?month={MONTH}").data)
    assert not any("ekb-1" in cell or "msk-1" in cell for row in network for cell in row)
    assert "Офис ekb-1" not in head.get("/ranking").text


def test_head_office_only_reads_and_refuses_what_it_does_not_know(analyst):
    page = analyst.get("/offices/ekb-1/")
    assert page.status_code == 200 and 'id="announcement"' not in page.text   # the office's own to set
    token = csrf_from(page.text)
    r = analyst.post("/offices/ekb-1/alerts/ack", data={"key": "ticket:A001", "csrf_token": token})
    assert r.status_code == 403
    assert analyst.get("/offices/nowhere/reports/monthly").status_code == 404
    assert analyst.get("/offices/ekb-1/settings").status_code == 404        # no settings page at HQ
    assert analyst.get("/network?month=2026-13").status_code == 400
    assert analyst.get("/reports/monthly").status_code == 404               # no office of its own


def test_pages_need_a_login(hq_app):
    client = hq_app.test_client()
    for path in ("/", "/ranking", "/network", "/offices/ekb-1/", "/offices/ekb-1/reports/monthly"):
        r = client.get(path)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], path


def test_an_office_without_configuration_yet_is_listed_but_not_opened(hq_app, analyst):
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.touch(s, "new-1", 5, NOW)
    rows = {r["office"]: r for r in analyst.get("/live.json").json["offices"]}
    assert rows["new-1"]["ready"] is False
    assert analyst.get("/offices/new-1/").status_code == 404
    assert "Данные офиса ещё не получены" in analyst.get("/").text
    assert analyst.get(f"/network?month={MONTH}").status_code == 200


# --------------------------------------------------------------------------- an office stuck at head office
STUCK_REASON = "event 2 (started) cannot be applied: QueueError('no ticket Z999')"


def test_an_office_whose_events_cannot_be_applied_is_an_urgent_red_card(hq_app, analyst):
    found = datetime(2026, 11, 19, 5, 42, tzinfo=timezone.utc)          # 10:42 in Yekaterinburg
    before = _rows(analyst)
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.mark_stuck(s, [("ekb-2", 2, STUCK_REASON, found)])           # applied up to 1: stuck at 2
    rows = _rows(analyst)
    text = f"Данные офиса не применяются с 19.11.2026 10:42: {STUCK_REASON}"
    assert rows["ekb-2"]["stuck"] == {"seq": 2, "since": found.isoformat(), "reason": STUCK_REASON}
    assert rows["ekb-2"]["first_alert"] == text
    assert rows["ekb-2"]["alerts_crit"] == before["ekb-2"]["alerts_crit"] + 1
    assert rows["ekb-1"] == before["ekb-1"] and "stuck" not in rows["ekb-1"]
    page = analyst.get("/").text
    card = page[page.index('id="office-ekb-2"') - 40:]
    card = card[:card.index("</section>")]
    assert 'class="hq-tile crit"' in card and str(escape(text)) in card     # the reason escaped, as all text
    assert page.count("Данные офиса не применяются") == 1
    analyst.get("/?lang=en")
    assert _rows(analyst)["ekb-2"]["first_alert"] == f"The office's data has not been applied since 19.11.2026 10:42: {STUCK_REASON}"


def test_marking_the_same_event_again_keeps_when_it_was_found(hq_app, analyst):
    first = datetime(2026, 11, 19, 5, 42, tzinfo=timezone.utc)
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.mark_stuck(s, [("ekb-2", 2, STUCK_REASON, first)])
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.mark_stuck(s, [("ekb-2", 2, STUCK_REASON, first + timedelta(minutes=5))])   # the next batch
        hq.mark_stuck(s, [])
    assert _rows(analyst)["ekb-2"]["stuck"]["since"] == first.isoformat()
    with hq_app.app_context(), session_scope(write=True) as s:       # stuck again, further on: a new mark
        hq.touch(s, "ekb-2", 6, NOW)
        hq.mark_stuck(s, [("ekb-2", 7, "x" * 900, first + timedelta(hours=1))])
    stuck = _rows(analyst)["ekb-2"]["stuck"]
    assert stuck["seq"] == 7 and stuck["since"] == (first + timedelta(hours=1)).isoformat()
    assert stuck["reason"] == "x" * hq.REASON_MAX


def test_an_office_is_no_longer_stuck_once_its_events_pass_the_stuck_one(hq_app, analyst):
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.mark_stuck(s, [("ekb-2", 2, STUCK_REASON, NOW)])
    assert "stuck" in _rows(analyst)["ekb-2"]
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.touch(s, "ekb-2", 2, NOW)                  # a new configuration let the event through
        assert hq.stuck_offices(s) == {}
    row = _rows(analyst)["ekb-2"]
    assert "stuck" not in row and "Данные офиса не применяются" not in analyst.get("/").text


def test_a_stuck_office_without_its_configuration_still_shows_why(hq_app, analyst):
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.touch(s, "new-1", 5, NOW)
        hq.mark_stuck(s, [("new-1", 6, STUCK_REASON, datetime(2026, 11, 19, 5, 42, tzinfo=timezone.utc))])
    row = _rows(analyst)["new-1"]
    assert row["ready"] is False and row["alerts_crit"] == 1
    assert row["first_alert"] == f"Данные офиса не применяются с 19.11.2026 05:42: {STUCK_REASON}"   # UTC
    page = analyst.get("/").text
    assert 'class="hq-tile crit" id="office-new-1"' in page


def test_the_ingest_state_marks_the_office_and_the_live_page_shows_it(tmp_path):
    """The real ingest refuses an office's impossible event; the one line the ingest is to call
    once a batch (``hq.mark_stuck`` with its broken offices) makes it show at head office."""
    from broker import messages
    from hq.ingest import Ingest
    from storage.engine import make_engine, make_sessionmaker
    from tests.hq.conftest import SimOffice

    url = f"sqlite:///{tmp_path / 'hq.db'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": url, "HQ_MODE": True})
    with app.app_context(), session_scope(write=True) as s:
        add_user(s, "analyst", PASSWORD, "head")
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    found = datetime(2026, 10, 5, 5, 30, tzinfo=timezone.utc)
    ingest = Ingest(sessions, lambda topic, payload: None, now=lambda: found)
    ingest.start()
    office = SimOffice("mek-1")
    try:
        office.work(visitors=2)
        seq = office.events[-1]["seq"]
        impossible = messages.event(seq + 1, "started", ticket="Z999", topic="A", window=1,
                                    at=office.clock.now.isoformat())
        ingest.handle([office.config_message(), *office.event_messages(), *office.event_messages([impossible])])
        with sessions() as session, session.begin():      # the line proposed for Ingest.handle
            hq.mark_stuck(session, [(f.id, f.last_seq + 1, f.broken, ingest.now())
                                    for f in ingest.feeds.values() if f.broken])
        app.config["CLOCK"] = lambda: office.clock.now
        row = _rows(_login(app, "analyst"))["mek-1"]
        assert row["stuck"]["seq"] == seq + 1 and f"event {seq + 1} (started)" in row["stuck"]["reason"]
        assert row["first_alert"].startswith("Данные офиса не применяются с 05.10.2026 10:30: event ")
    finally:
        office.close()
        engine.dispose()
        app.extensions["talon"].engine.dispose()


# --------------------------------------------------------------------------- the live page keeps offices
def _rows(client) -> dict[str, dict]:
    return {r["office"]: r for r in client.get("/live.json").json["offices"]}


def _nothing_kept(app) -> None:
    """Forget every office the live page keeps: the next render reads them all afresh."""
    from server.hq_web import LiveOffices
    app.extensions["hq_live"] = LiveOffices()


@pytest.fixture
def reads(monkeypatch):
    """What the live page reads per office: ``load`` (the office rebuilt), ``events`` (its new
    events replayed), ``devices`` (its devices' statuses)."""
    import server.live_feed
    from storage.store import QueueStore
    seen: dict[str, list[str]] = {}
    load, events_between, latest = QueueStore.load, server.live_feed.events_between, presence.latest

    def spy_load(self, session, config):
        seen.setdefault("load", []).append(self.office_id)
        return load(self, session, config)

    def spy_events(session, office, *args):
        seen.setdefault("events", []).append(office)
        return events_between(session, office, *args)

    def spy_latest(session, office):
        seen.setdefault("devices", []).append(office)
        return latest(session, office)

    monkeypatch.setattr(QueueStore, "load", spy_load)
    monkeypatch.setattr(server.live_feed, "events_between", spy_events)
    monkeypatch.setattr(presence, "latest", spy_latest)
    return seen


def _visitor_takes_a_ticket(path, config, at):
    """A ticket issued at the office, stored in head office's database as its ingest stores it:
    the event and the projection, and the office's applied seq moved on."""
    db = QueueDatabase(f"sqlite:///{path}", config)
    try:
        _ticket, events = db.transaction(lambda s, o: o.issue(config.topics[0].code, at))
        with db.sessions() as s, s.begin():
            hq.touch(s, config.office_id, events[-1].seq, events[-1].at)
    finally:
        db.close()


def test_the_live_page_reads_again_only_the_offices_that_changed(databases, tmp_path, reads):
    _folder, offices = databases
    app = _hq_app(databases[0], tmp_path)
    analyst = _login(app, "analyst")
    try:
        first = _rows(analyst)
        assert sorted(reads.pop("load")) == ["ekb-1", "ekb-2", "msk-1"]
        reads.clear()
        assert _rows(analyst) == first
        assert reads == {}                          # all three kept: nothing read but the offices' marks

        # a visitor takes a ticket at ekb-1; msk-1's kiosk comes back online
        _visitor_takes_a_ticket(tmp_path / "hq.db", offices["ekb-1"]["config"], NOW - timedelta(minutes=2))
        with app.app_context(), session_scope(write=True) as s:
            presence.record(s, "msk-1", [presence.Status("kiosk-1", NOW - timedelta(minutes=1), "online")])
        reads.clear()                               # (the office's own loader ran to issue the ticket)
        now = _rows(analyst)
        assert reads == {"events": ["ekb-1"], "devices": ["msk-1"]}     # ekb-1 caught up by replay, not reloaded
        assert now["ekb-1"]["waiting"] == first["ekb-1"]["waiting"] + 1
        assert now["msk-1"]["devices_offline"] == 0 and first["msk-1"]["devices_offline"] == 1
        assert now["ekb-2"] == first["ekb-2"]
        assert "Ожидают сейчас" in analyst.get("/").text

        _nothing_kept(app)                           # what it shows is what a page reading everything shows
        assert _rows(analyst) == now
    finally:
        app.extensions["talon"].engine.dispose()


def test_a_new_configuration_rebuilds_that_office(databases, tmp_path, reads):
    """ekb-1 publishes a new configuration (a new name, its first topic's wait norm 10 hours):
    that office alone is rebuilt, judged by the new norms."""
    app = _hq_app(databases[0], tmp_path)
    analyst = _login(app, "analyst")
    try:
        first = _rows(analyst)
        reads.clear()
        text = _toml("ekb-1", "mek", 3, first_wait_norm=600).replace('"Офис ekb-1"', '"Офис ekb-1, Малышева"')
        with app.app_context(), session_scope(write=True) as s:
            hq.record_config(s, "ekb-1", "v2", NOW - timedelta(hours=1), text)
        now = _rows(analyst)
        assert reads == {"load": ["ekb-1"]}
        assert now["ekb-1"]["name"] == "Офис ekb-1, Малышева"
        assert now["ekb-1"]["over_norm"] == 0 and first["ekb-1"]["over_norm"] == 1
        assert now["ekb-2"] == first["ekb-2"]
        _nothing_kept(app)
        assert _rows(analyst) == now
    finally:
        app.extensions["talon"].engine.dispose()


def test_kept_offices_follow_the_clock(databases, tmp_path, reads):
    """Nothing changes in the database for 40 minutes: the waits, the minutes since the last
    event and the alerts still move (a call for staff from 12:55 is no longer news at 13:40),
    as a page reading everything would show them."""
    clock = [NOW]
    app = _hq_app(databases[0], tmp_path, clock=lambda: clock[0])
    analyst = _login(app, "analyst")
    try:
        with app.app_context(), session_scope(write=True) as s:
            presence.record(s, "ekb-2", [presence.Status("kiosk-1", NOW - timedelta(minutes=5), presence.HELP)])
        before = _rows(analyst)
        clock[0] = NOW + timedelta(minutes=40)
        reads.clear()
        later = _rows(analyst)
        assert reads == {}
        assert later["ekb-1"]["oldest_wait_min"] == before["ekb-1"]["oldest_wait_min"] + 40
        assert later["ekb-1"]["silent_min"] == before["ekb-1"]["silent_min"] + 40
        assert "помощь" in before["ekb-2"]["first_alert"]
        _nothing_kept(app)
        assert _rows(analyst) == later               # the call for staff too: kept, yet no longer shown
    finally:
        app.extensions["talon"].engine.dispose()


def test_configurations_in_force_of_every_office_follow_the_one_office_rule(hq_app):
    """``hq.configs_in_force`` (all offices in one query) answers as ``hq.config_in_force`` does for
    each: the newest version from before the moment, or the earliest for a time before them all."""
    with hq_app.app_context(), session_scope(write=True) as s:
        hq.record_config(s, "ekb-1", "v2", datetime(2026, 6, 1, tzinfo=timezone.utc), "# v2")
        hq.record_config(s, "ekb-1", "v0", datetime(2026, 3, 1, tzinfo=timezone.utc), "# v0")
        offices = ["ekb-1", "ekb-2", "msk-1", "none-such"]
        for when in (datetime(2025, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc),
                     datetime(2026, 4, 1, tzinfo=timezone.utc), NOW):
            each = {o: found[0] for o in offices if (found := hq.config_in_force(s, o, when))}
            assert hq.configs_in_force(s, offices, when) == each
        assert hq.configs_in_force(s, offices, NOW)["ekb-1"] == "v2"
        assert hq.configs_in_force(s, offices, datetime(2025, 1, 1, tzinfo=timezone.utc))["ekb-1"] == "v1"
        assert hq.config_texts(s, [("ekb-1", "v2"), ("ekb-1", "v9")]) == {("ekb-1", "v2"): "# v2"}
        assert hq.presence_marks(s, offices) == {"msk-1": presence.last_id(s, "msk-1")}
        presence.record(s, "ekb-2", [presence.Status("board-1", NOW, "online"), presence.Status("kiosk-1", NOW, "offline")])
        presence.record(s, "msk-1", [presence.Status("kiosk-1", NOW, "online")])
        assert hq.presence_marks(s, offices) == {o: presence.last_id(s, o) for o in ("ekb-2", "msk-1")}
        assert hq.presence_marks(s, ["ekb-2"]) == {"ekb-2": presence.last_id(s, "ekb-2")}


def test_an_office_report_uses_the_norms_in_force_that_month(databases, tmp_path):
    """In January, with ekb-1's first topic given a 1-minute wait norm from December:
    November's report keeps November's norm, December's (its year to date holds November's
    visitors) judges by the new one."""
    app = _hq_app(databases[0], tmp_path, now=datetime(2027, 1, 15, 12, 0, tzinfo=TZ))
    with app.app_context(), session_scope(write=True) as s:
        hq.record_config(s, "ekb-1", "v2", datetime(2026, 12, 1, tzinfo=TZ), _toml("ekb-1", "mek", 3, 1))
    analyst = _login(app, "analyst")
    norm_column = "Норматив ожидания"

    def first_topic_norms(month):
        rows = _csv(analyst.get(f"/offices/ekb-1/reports/monthly.csv?month={month}").data)
        header = next(r for r in rows if norm_column in r)
        column = header.index(norm_column)
        return [r[column] for r in rows if r and r[0].startswith("А — ")]     # topic A's rows

    old = f"{PROFILES['mek'].forms[0].wait_min:g}"
    assert set(first_topic_norms(MONTH)) == {old}
    assert set(first_topic_norms("2026-12")) == {"1,0"}
    app.extensions["talon"].engine.dispose()


def test_users_cli_scopes_a_user_to_an_office(tmp_path, capsys, monkeypatch):
    from talon.cli import main
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("long-password-1\n"))
    assert main(["users", "--database", url, "add", "anna", "--role", "head", "--office", "ekb-1",
                 "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("long-password-1\n"))
    assert main(["users", "--database", url, "add", "bad", "--role", "head", "--office", "no such!",
                 "--password-stdin"]) == 1
    assert main(["users", "--database", url, "list"]) == 0
    out = capsys.readouterr().out
    assert "office ekb-1" in out and "cannot add user: office" in out


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_all_offices_page_in_chromium(databases, tmp_path, width):
    """The all-offices page and the network report in real Chromium, a phone's width and a
    desktop's: nothing wider than the screen but the tables' own scroll boxes. Screenshots go
    to ``TALON_SCREENSHOT_DIR`` when set (docs/screens/hq-*.png come from here)."""
    import os
    import threading
    from pathlib import Path

    from werkzeug.serving import make_server

    from tests.server.test_browser import ARGS, CHROMIUM, playwright_api
    if not CHROMIUM:
        pytest.skip("no chromium on PATH (set TALON_CHROMIUM)")
    app = _hq_app(databases[0], tmp_path)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    folder = Path(os.environ.get("TALON_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_context(viewport={"width": width, "height": 900}, locale="ru-RU").new_page()
            page.set_default_timeout(15000)
            page.goto(base + "/auth/login")
            page.fill("input[name=username]", "analyst")
            page.fill("input[name=password]", PASSWORD)
            page.click("button.primary")
            playwright_api.expect(page.locator("#office-msk-1")).to_contain_text("Устройств не в сети")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(folder / f"hq-offices-{width}.png"), full_page=True)
            # an office whose events head office cannot apply: its card turns red, saying why
            with app.app_context(), session_scope(write=True) as s:
                hq.mark_stuck(s, [("ekb-2", 2, STUCK_REASON, NOW)])
            page.reload()
            card = page.locator("#office-ekb-2")
            playwright_api.expect(card.locator(".alert.stuck")).to_contain_text("Данные офиса не применяются с 19.11.2026 11:00")
            red = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bad')").strip()
            assert card.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb({}, {}, {})".format(
                *(int(red[i:i + 2], 16) for i in (1, 3, 5)))          # the page's own red (--bad)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.goto(base + f"/network?month={MONTH}")
            playwright_api.expect(page.locator("h1")).to_contain_text("Отчёт по сети за месяц")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(folder / f"hq-network-{width}.png"), full_page=True)
            page.goto(base + f"/ranking?month={MONTH}")
            page.click("#ranking a >> nth=0")
            playwright_api.expect(page.locator("h1")).to_contain_text("Отчёт за месяц")
            browser.close()
    finally:
        httpd.shutdown()
        app.extensions["talon"].engine.dispose()
