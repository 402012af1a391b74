"""Disclosure, CSAT and downtime pages (issue 12 items 5, 6, 9): defaults, entry forms, new rows."""
import csv
import io
from datetime import datetime, timedelta

import pytest

from queue_core.config import parse_office_toml
from storage.models import PresenceRow
from storage.queue_db import QueueDatabase
from tests.server.conftest import NOW, TINY_TOML, TZ, AuthActions, csrf_from, make_app

T0 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)      # Monday 10:00; the app's "now" is Thursday 19.11 11:00


def m(n):
    return T0 + timedelta(minutes=n)


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture
def head(tmp_path):
    """Rated visits: A/b2c 5, R/b2b 2. Kiosk 1 off since 10:30 on Thursday (30 min before
    now); kiosk 2 off overnight Wednesday 20:30 → Thursday 07:30 (office 08:00-20:00)."""
    path = tmp_path / "tiny.db"
    db = QueueDatabase(f"sqlite:///{path}", parse_office_toml(TINY_TOML))
    db.transaction(lambda s, o: o.sign_in(1, "petrova", m(0)))
    def rated(topic, segment, score, at):
        t, _e = db.transaction(lambda s, o: o.issue(topic, m(at), segment=segment))
        db.transaction(lambda s, o: o.call_next(1, m(at + 1)))
        db.transaction(lambda s, o: o.start(1, m(at + 1)))
        db.transaction(lambda s, o: o.finish(1, m(at + 5)))
        db.transaction(lambda s, o: o.rate(1, t.number, score, m(at + 6)))

    rated("A", "b2c", 5, 0)
    rated("R", "b2b", 2, 10)
    db.close()
    app = make_app(path, TINY_TOML)
    with app.extensions["talon"].sessions.begin() as s:
        s.add_all([PresenceRow(office="test", device="kiosk1", at=NOW - timedelta(hours=3), state="online"),
                   PresenceRow(office="test", device="kiosk1", at=NOW - timedelta(minutes=30), state="offline"),
                   PresenceRow(office="test", device="kiosk2", at=datetime(2026, 11, 18, 20, 30, tzinfo=TZ),
                               state="offline"),
                   PresenceRow(office="test", device="kiosk2", at=datetime(2026, 11, 19, 7, 30, tzinfo=TZ),
                               state="online")])
    c = app.test_client()
    AuthActions(c).login("head")
    yield c
    app.extensions["talon"].engine.dispose()


def test_disclosure_defaults_to_the_past_year_and_lists_every_row_of_the_seed(head):
    r = head.get("/reports/disclosure")
    assert r.status_code == 200 and "2025" in r.text and 'value="2025"' in r.text
    for row in ("Перечень мероприятий", "Количество обращений", "Количество претензий", "Количество жалоб",
                "Режим работы каналов заочного обслуживания", "Среднее за календарный месяц время ожидания"):
        assert row in r.text


def test_disclosure_inputs_entered_on_the_page_show_and_export(head):
    page = head.get("/reports/disclosure?year=2026")
    assert 'id="disclosure-inputs"' in page.text
    r = head.post("/reports/disclosure/inputs", data={
        "csrf_token": csrf_from(page.text), "year": "2026", "claims": "3", "complaints": "1",
        "measures": "Открыт второй зал ожидания", "remote_channels": "Пн–Пт 08:00–20:00"})
    assert r.status_code == 302 and "year=2026" in r.headers["Location"]
    page = head.get("/reports/disclosure?year=2026")
    assert "Открыт второй зал ожидания" in page.text and "сохранены" in page.text
    rows = {r[0]: r[1] for r in read_csv(head.get("/reports/disclosure.csv?year=2026").data) if len(r) == 3}
    assert rows["Количество претензий"] == "3" and rows["Количество обращений (обслуженных визитов)"] == "2"
    assert rows["Количество жалоб на действия гарантирующего поставщика"] == "1"
    assert rows["Режим работы каналов заочного обслуживания в течение года"] == "Пн–Пт 08:00–20:00"
    bad = head.post("/reports/disclosure/inputs", data={"csrf_token": csrf_from(page.text), "year": "2026",
                                                        "claims": "-2"})
    assert bad.status_code == 400
    other = {r[0]: r[1] for r in read_csv(head.get("/reports/disclosure.csv?year=2025").data) if len(r) == 3}
    assert other["Количество претензий"] == "не внесено"


def test_csat_defaults_to_the_last_completed_half_year(head):
    r = head.get("/reports/csat")      # now is 19.11.2026: the first half of 2026 is the last one ended
    assert r.status_code == 200 and "2026, I полугодие" in r.text
    assert "CSAT = (оценки 4 и 5) / (все оценки) × 100 %" in r.text


def test_csat_paper_questionnaires_merge_and_the_split_by_segment_and_topic(head):
    page = head.get("/reports/csat?year=2026&half=2")
    assert 'id="csat-paper"' in page.text and "По группам потребителей" in page.text
    r = head.post("/reports/csat/paper", data={"csrf_token": csrf_from(page.text), "year": "2026", "half": "2",
                                               "score_5": "3", "score_1": "1", "score_3": ""})
    assert r.status_code == 302
    rows = read_csv(head.get("/reports/csat.csv?year=2026&half=2").data)
    total, queue, paper = [r for r in rows if r and r[0] == "2026, II полугодие"]
    # queue 5 and 2, paper 3 × 5 and 1 × 1: 6 ratings, positive 4, neutral 0, negative 2, CSAT 4/6
    assert total[2:6] == ["6", "4", "0", "2"] and total[7] == "0,6667"
    assert queue[2:6] == ["2", "1", "0", "1"] and paper[2:6] == ["4", "3", "0", "1"]
    segments = {r[0]: r for r in rows if r and r[0] in ("Частные клиенты", "Корпоративные клиенты")}
    assert segments["Частные клиенты"][1:3] == ["1", "1"] and segments["Корпоративные клиенты"][4] == "1"
    topics = {r[0].split(" — ")[0]: r for r in rows if r and " — " in r[0]}
    assert topics["А"][1:3] == ["1", "1"] and topics["Р"][1:3] == ["1", "0"]   # Cyrillic prefixes
    assert head.post("/reports/csat/paper", data={"csrf_token": csrf_from(page.text), "year": "2026",
                                                  "half": "3"}).status_code == 400


def test_downtime_counts_working_time_only_and_open_outages_up_to_now(head):
    rows = read_csv(head.get("/reports/downtime.csv?period=week&date=2026-11-19").data)
    devices = {r[0]: r for r in rows if r and r[0].startswith("kiosk") and len(r) == 5}
    assert devices["kiosk1"][1] == "30,0" and devices["kiosk1"][4] == "нет"    # 10:30 → now (11:00)
    assert devices["kiosk2"][1] == "0,0"                                       # overnight, office closed
    days = [r for r in rows if r and r[0].startswith("kiosk") and len(r) == 4]
    assert days == [["kiosk1", "2026-11-19", "30,0", "нет"]]
    page = head.get("/reports/downtime?period=week&date=2026-11-19")
    assert "По дням" in page.text and "в рабочее время" in page.text


def test_only_the_head_enters_disclosure_and_paper_questionnaires(head):
    token = csrf_from(head.get("/reports/csat").text)
    head.post("/auth/logout", data={"csrf_token": token})
    AuthActions(head).login("oper")
    token = csrf_from(head.get("/").text)
    assert head.post("/reports/disclosure/inputs", data={"csrf_token": token, "year": "2026",
                                                         "claims": "1"}).status_code == 403
    assert head.post("/reports/csat/paper", data={"csrf_token": token, "year": "2026", "half": "2",
                                                  "score_5": "1"}).status_code == 403
