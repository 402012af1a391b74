import json
import re
from datetime import datetime, timedelta

import pytest

from queue_core.model import TicketKind
from storage.models import PresenceRow
from storage.queue_db import QueueDatabase
from tests.server.conftest import NOW, TINY_TOML, TZ, AuthActions, make_app


def live_db(app) -> QueueDatabase:
    b = app.extensions["talon"]
    return QueueDatabase(str(b.engine.url), b.config)


def test_dashboard_page_embeds_a_snapshot(client, auth):
    auth.login("oper")
    r = client.get("/")
    assert r.status_code == 200
    assert 'id="snapshot"' in r.text and "dashboard.js" in r.text and "Окна" in r.text
    assert "cdn" not in r.text.lower()


def test_snapshot_shows_waiting_tickets_windows_and_alerts(app, client, auth):
    db = live_db(app)
    db.transaction(lambda s, o: o.sign_in(1, "ivanova", NOW - timedelta(minutes=30)))
    db.transaction(lambda s, o: o.issue("A", NOW - timedelta(minutes=25), enforce_hours=False))  # wait norm 10
    db.transaction(lambda s, o: o.issue("A", NOW - timedelta(minutes=3), enforce_hours=False))
    db.transaction(lambda s, o: o.issue("R", NOW - timedelta(minutes=20), enforce_hours=False))
    db.transaction(lambda s, o: o.call_next(1, NOW - timedelta(minutes=19)))     # fifo-ish: oldest of A/R
    db.transaction(lambda s, o: o.start(1, NOW - timedelta(minutes=18)))
    db.close()
    auth.login("oper")
    snap = client.get("/snapshot.json").get_json()
    topics = {t["code"]: t for t in snap["topics"]}
    windows = {w["number"]: w for w in snap["windows"]}
    w1 = windows[1]
    assert w1["state"] == "open" and w1["operator"] == "ivanova" and w1["ticket_state"] == "serving"
    assert w1["service_min"] == 18.0
    served_topic = w1["topic"]
    waiting_a = 2 - (served_topic == "A")
    assert topics["A"]["waiting"] == waiting_a
    assert snap["totals"]["waiting"] == 2
    if served_topic == "R":
        assert topics["A"]["oldest_wait_min"] == 25.0 and topics["A"]["over_norm"] is True
    # a service running 18 min against a norm of 5 (A) or 10 (R) is an alert
    assert any(a["kind"] == "service" for a in snap["alerts"])
    assert windows[2]["state"] == "closed"


def test_queue_threshold_alert(app, client, auth):
    app.config["ALERT_QUEUE_THRESHOLD"] = 3
    db = live_db(app)
    for i in range(3):
        db.transaction(lambda s, o, i=i: o.issue("K", NOW - timedelta(minutes=i), enforce_hours=False))
    db.close()
    auth.login("head")
    snap = client.get("/snapshot.json").get_json()
    texts = [a["text"] for a in snap["alerts"] if a["kind"] == "queue"]
    assert texts and "3 чел. (порог 3)" in texts[0]


def test_offline_device_alert_grows_towards_the_60_minute_rule(app, client, auth):
    b = app.extensions["talon"]
    with b.sessions.begin() as s:
        s.add(PresenceRow(office=b.config.office_id, device="kiosk1", at=NOW - timedelta(minutes=50), state="offline"))
        s.add(PresenceRow(office=b.config.office_id, device="board1", at=NOW - timedelta(minutes=5), state="offline"))
        s.add(PresenceRow(office=b.config.office_id, device="kiosk2", at=NOW - timedelta(minutes=5), state="online",
                          printer="paper_out"))
    auth.login("oper")
    snap = client.get("/snapshot.json").get_json()
    alerts = {a["text"]: a["level"] for a in snap["alerts"]}
    assert alerts["Устройство kiosk1 не в сети 50 мин в рабочее время (предел 60 мин)"] == "crit"
    assert alerts["Устройство board1 не в сети 5 мин в рабочее время (предел 60 мин)"] == "warn"
    assert alerts["Принтер kiosk2: paper_out"] == "warn"
    assert {d["device"]: d["state"] for d in snap["devices"]} == {"board1": "offline", "kiosk1": "offline",
                                                                  "kiosk2": "online"}


NINE_TO_SIX = TINY_TOML.replace("08:00-20:00", "09:00-18:00")


@pytest.mark.parametrize(("seen", "expected"), [
    ((18, 23, 0), None),                  # the kiosk was switched off for the night: not an alert at night
    ((19, 8, 55), None),                  # ... nor in the morning before the office opens
    ((19, 9, 5), ("warn", 5)),            # 5 minutes of working time down
    ((19, 9, 44), ("warn", 44)),
    ((19, 9, 45), ("crit", 45)),          # urgent from 45 working minutes, as before
    ((19, 13, 20), ("crit", 240)),        # 9:00-13:00; the lunch break counts nothing
    ((19, 13, 40), ("crit", 250)),        # ... and from 13:30 again
])
def test_the_offline_alert_counts_only_working_time(tmp_path, seen, expected):
    """A device offline since 19:00 on Wednesday (the office works 9:00-18:00, lunch 13:00-13:30)."""
    day, hour, minute = seen
    app = make_app(tmp_path / "t.db", NINE_TO_SIX, CLOCK=lambda: datetime(2026, 11, day, hour, minute, tzinfo=TZ))
    try:
        b = app.extensions["talon"]
        with b.sessions.begin() as s:
            s.add(PresenceRow(office="test", device="kiosk1", at=datetime(2026, 11, 18, 19, 0, tzinfo=TZ),
                              state="offline"))
        client = app.test_client()
        AuthActions(client).login("oper")
        snap = client.get("/snapshot.json").get_json()
    finally:
        app.extensions["talon"].engine.dispose()
    device = [a for a in snap["alerts"] if a["kind"] == "device"]
    assert snap["devices"][0]["state"] == "offline"
    if expected is None:
        assert device == []
    else:
        level, minutes = expected
        assert device == [{"level": level, "kind": "device",
                           "text": f"Устройство kiosk1 не в сети {minutes} мин в рабочее время (предел 60 мин)"}]


def test_dashboard_in_english(client, auth):
    auth.login("oper")
    client.get("/?lang=en")
    snap = client.get("/snapshot.json").get_json()
    assert snap["office"] == "MEK customer office"


def _events(response) -> list[dict]:
    text = b"".join(response.response).decode()
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def test_event_stream_sends_json_snapshots(client, auth):
    auth.login("oper")
    r = client.get("/events/stream")
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    events = _events(r)
    assert len(events) == 2 and all("topics" in e and "windows" in e for e in events)


def test_event_stream_pushes_a_new_ticket(app, client, auth):
    auth.login("oper")
    app.config["SSE_MAX_EVENTS"] = 1
    before = _events(client.get("/events/stream"))[0]
    db = live_db(app)
    db.transaction(lambda s, o: o.issue("D", NOW - timedelta(minutes=1), enforce_hours=False))
    db.close()
    after = _events(client.get("/events/stream"))[0]
    assert after["version"][0] > before["version"][0]
    assert after["totals"]["waiting"] == before["totals"]["waiting"] + 1


def test_a_visitors_call_for_staff_is_an_alert_for_ten_minutes(app, client, auth):
    b = app.extensions["talon"]
    with b.sessions.begin() as s:
        s.add(PresenceRow(office=b.config.office_id, device="kiosk1", at=NOW - timedelta(minutes=30), state="online"))
        s.add(PresenceRow(office=b.config.office_id, device="kiosk1", at=NOW - timedelta(minutes=2), state="help"))
        s.add(PresenceRow(office=b.config.office_id, device="kiosk1", at=NOW - timedelta(minutes=25), state="help"))
    auth.login("oper")
    snap = client.get("/snapshot.json").get_json()
    help_alerts = [a for a in snap["alerts"] if a["kind"] == "help"]
    assert [a["text"] for a in help_alerts] == ["Посетителю нужна помощь у kiosk1 (2 мин назад)"]
    assert {d["device"]: d["state"] for d in snap["devices"]} == {"kiosk1": "online"}   # still online


def test_alerts_write_numbers_as_the_tables_do(app, client, auth):
    """«48,4» in Russian, as in the tables, and «48.4» in English."""
    db = live_db(app)
    db.transaction(lambda s, o: o.issue("A", NOW - timedelta(minutes=48, seconds=24), enforce_hours=False))
    db.close()
    auth.login("oper")
    wait = [a["text"] for a in client.get("/snapshot.json").get_json()["alerts"] if a["kind"] == "wait"]
    assert wait and "ждёт 48,4 мин" in wait[0] and "48.4" not in wait[0]
    client.get("/?lang=en")
    wait = [a["text"] for a in client.get("/snapshot.json").get_json()["alerts"] if a["kind"] == "wait"]
    assert "waited 48.4 min" in wait[0]


def test_staff_appear_by_name_not_by_sign_in_code(app, client, auth):
    from storage import directory
    with app.extensions["talon"].sessions.begin() as s:
        directory.add_operator(s, app.extensions["talon"].config.office_id, "ivanova", "Иванова Мария", "1234")
        directory.add_operator(s, app.extensions["talon"].config.office_id, "operator1", "Петров Пётр", "1234")
    db = live_db(app)
    db.transaction(lambda s, o: o.sign_in(1, "ivanova", NOW - timedelta(minutes=30)))
    db.close()
    auth.login("head")
    w1 = client.get("/snapshot.json").get_json()["windows"][0]
    assert w1["operator"] == "ivanova" and w1["operator_name"] == "Иванова Мария"
    page = client.get("/reports/operators?period=week&date=2026-11-16").text
    assert '<option value="operator1" >Петров Пётр</option>' in page      # the filter: a name, sent as the code
    table = page[page.index("<tbody>"):]
    assert "Петров Пётр" in table and ">operator1<" not in table
    summary = client.get("/reports/summary?period=week&date=2026-11-16&group=operator").text
    assert "Петров Пётр" in summary[summary.index("<tbody>"):]
    assert "Петров Пётр" in client.get("/reports/operators.csv?period=week&date=2026-11-16").data.decode()


def test_device_table_has_a_header(client, auth):
    auth.login("oper")
    html = client.get("/").text
    devices = html[html.index('id="devices"'):]
    assert "<thead>" in devices[:devices.index("</table>")] and "Устройство" in devices


def _ack(client, key):
    token = re.search(r'"csrf": "([^"]+)"', client.get("/").text).group(1)
    return client.post("/alerts/ack", data={"key": key}, headers={"X-CSRF-Token": token})


def test_staff_acknowledge_a_visitors_call_for_staff(app, client, auth):
    b = app.extensions["talon"]
    with b.sessions.begin() as s:
        s.add(PresenceRow(office=b.config.office_id, device="kiosk1", at=NOW - timedelta(minutes=2), state="help"))
    auth.login("oper")
    help_alerts = [a for a in client.get("/snapshot.json").get_json()["alerts"] if a["kind"] == "help"]
    assert [a["ack"] for a in help_alerts] == ["kiosk1"]
    assert _ack(client, "kiosk1").status_code == 204
    snap = client.get("/snapshot.json").get_json()
    assert not [a for a in snap["alerts"] if a["kind"] == "help"]
    assert [d["device"] for d in snap["devices"]] == []          # an acknowledgement is no device


def test_an_assisted_ticket_is_an_alert_until_staff_acknowledge_it(tmp_path):
    """АтомЭнергоСбыт's individual format (004:945-949): the ticket is marked, staff are alerted."""
    app = make_app(tmp_path / "t.db", TINY_TOML + '\n[priority]\nmode = "individual"\n')
    client = app.test_client()
    db = live_db(app)
    t, _ = db.transaction(lambda s, o: o.issue("A", NOW - timedelta(minutes=3), TicketKind.PRIORITY,
                                            category="veteran", enforce_hours=False))
    db.transaction(lambda s, o: o.issue("A", NOW - timedelta(minutes=2), enforce_hours=False))
    db.close()
    AuthActions(client).login("oper")
    assist = [a for a in client.get("/snapshot.json").get_json()["alerts"] if a["kind"] == "assist"]
    assert [(a["ticket"], a["ack"], a["level"]) for a in assist] == [(t.number, f"ticket:{t.number}", "crit")]
    assert "Ветераны" in assist[0]["text"] and "3 мин назад" in assist[0]["text"]
    assert _ack(client, assist[0]["ack"]).status_code == 204
    assert not [a for a in client.get("/snapshot.json").get_json()["alerts"] if a["kind"] == "assist"]
    app.extensions["talon"].engine.dispose()


def test_acknowledging_needs_a_login_and_the_form_token(client, auth):
    assert client.post("/alerts/ack", data={"key": "kiosk1"}).status_code in (400, 302, 401)
    auth.login("oper")
    assert client.post("/alerts/ack", data={"key": "kiosk1"}).status_code == 400    # no CSRF token
