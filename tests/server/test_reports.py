"""Report figures against a hand computation on a tiny fixed day, plus periods and exports."""
import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from queue_core.config import parse_office_toml
from storage.models import PresenceRow
from storage.queue_db import QueueDatabase
from tests.server.conftest import TINY_TOML, TZ, make_app

T0 = datetime(2026, 11, 16, 10, 0, tzinfo=TZ)      # Monday 10:00


def m(n):
    return T0 + timedelta(minutes=n)


@pytest.fixture
def tiny(tmp_path):
    """Window 1, operator "petrova". Topic A (norms: wait 10, service 5):
    waits 4, 8, 15 and services 3, 5, 7, plus one no-show; topic R (wait 15, service 10):
    one visitor, wait 3, service 12, then rated 5; another A visitor rated 2."""
    path = tmp_path / "tiny.db"
    db = QueueDatabase(f"sqlite:///{path}", parse_office_toml(TINY_TOML))
    db.transaction(lambda s, o: o.sign_in(1, "petrova", m(0)))

    def serve(topic, issued, called, started, finished, rating=None):
        t, _e = db.transaction(lambda s, o: o.issue(topic, m(issued)))
        db.transaction(lambda s, o: o.call_next(1, m(called)))
        db.transaction(lambda s, o: o.start(1, m(started)))
        db.transaction(lambda s, o: o.finish(1, m(finished)))
        if rating:
            db.transaction(lambda s, o: o.rate(1, t.number, rating, m(finished + 0.5)))

    serve("A", 0, 4, 5, 8)
    serve("A", 2, 10, 10, 15, rating=2)
    serve("A", 5, 20, 21, 28)
    db.transaction(lambda s, o: o.issue("A", m(29)))
    db.transaction(lambda s, o: o.call_next(1, m(30)))
    db.transaction(lambda s, o: o.no_show(1, m(32)))
    serve("R", 30, 33, 33, 45, rating=5)
    db.close()
    app = make_app(path, TINY_TOML)
    yield app
    app.extensions["talon"].engine.dispose()


@pytest.fixture
def head(tiny):
    from tests.server.conftest import AuthActions
    c = tiny.test_client()
    AuthActions(c).login("head")
    return c


DAY = "period=day&date=2026-11-16"


def read_csv(data: bytes) -> list[list[str]]:
    """The CSV as a Russian Excel reads it: UTF-8 with a BOM, «;» between cells."""
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def num(cell: str) -> float:
    """A number written with a decimal comma («8,75»), as a Russian Excel reads it."""
    assert "." not in cell, cell
    return float(cell.replace(",", "."))


def test_summary_csv_matches_hand_computation(head):
    rows = read_csv(head.get(f"/reports/summary.csv?{DAY}").data)
    header = next(r for r in rows if r and r[0] == "По теме обращения")
    a = dict(zip(header, next(r for r in rows if r and r[0].startswith("А —"))))
    assert a["Талонов"] == "4" and a["Обслужено"] == "3" and a["Не явились"] == "1"
    assert num(a["Среднее время ожидания в очереди"]) == pytest.approx((4 + 8 + 15) / 3, abs=0.01)
    assert num(a["Ожидание, p90"]) == 15                        # nearest rank: ceil(0.9*3) = 3rd
    assert num(a["Доля в нормативе (ожидание)"]) == pytest.approx(2 / 3, abs=1e-3)   # 4, 8 <= 10
    assert a["Ожидание"] == "Соответствует нормативу"             # mean 9 <= 10 (МЭК judges the mean)
    assert num(a["Среднее время приёма"]) == pytest.approx(5.0)   # (3 + 5 + 7) / 3
    assert num(a["Доля в нормативе (приём)"]) == pytest.approx(2 / 3, abs=1e-3)      # 3, 5 <= 5
    r = dict(zip(header, next(r for r in rows if r and r[0].startswith("Р —"))))
    assert num(r["Среднее время приёма"]) == 12 and r["Приём"] == "Не соответствует нормативу"   # 12 > 10
    hours = rows[rows.index(["Нагрузка по часам"]) + 2:]
    assert hours[0][:3] == ["10:00", "5", "4"]


def test_summary_page_shows_verdicts_and_svg_charts(head):
    r = head.get(f"/reports/summary?{DAY}")
    assert r.status_code == 200
    assert "Соответствует нормативу" in r.text and "Не соответствует нормативу" in r.text
    assert r.text.count("<svg") == 2 and "Нагрузка по часам" in r.text
    assert "9,0" in r.text                                        # mean wait of A, Russian decimal comma


def test_summary_xlsx_matches_hand_computation(head):
    r = head.get(f"/reports/summary.xlsx?{DAY}")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[3]]
    line = next(line for line in ws.iter_rows(min_row=4) if str(line[0].value).startswith("А —"))
    a = dict(zip(header, [c.value for c in line]))
    assert a["Талонов"] == 4 and a["Среднее время ожидания в очереди"] == pytest.approx(9.0)
    assert a["Доля в нормативе (ожидание)"] == pytest.approx(0.6667, abs=1e-4)
    assert line[header.index("Доля в нормативе (ожидание)")].number_format == "0.0%"
    assert len(wb.worksheets) == 2                                # summary + per-hour


@pytest.mark.parametrize("query, expected_served", [
    ("topic=R", 1), ("topic=A", 3), ("window=1", 4), ("operator=petrova", 4), ("operator=nobody", 0),
    ("segment=b2b", 0)])
def test_summary_filters(head, query, expected_served):
    rows = read_csv(head.get(f"/reports/summary.csv?{DAY}&group=total&{query}").data)
    total = [r for r in rows if r and r[0] == "итого"]
    assert (int(total[0][2]) if total else 0) == expected_served


@pytest.mark.parametrize("group, first_cell", [("window", "Окно 1"), ("operator", "petrova"),
                                               ("hour", "10:00"), ("day", "2026-11-16"), ("segment", "—")])
def test_summary_groupings(head, group, first_cell):
    rows = read_csv(head.get(f"/reports/summary.csv?{DAY}&group={group}").data)
    assert rows[4][0] == first_cell


@pytest.mark.parametrize("query", ["period=week&date=2026-11-18", "period=month&date=2026-11-30",
                                   "period=half&date=2026-10-01", "period=year&date=2026-01-01",
                                   "period=custom&from=2026-11-16&to=2026-11-16"])
def test_every_period_kind_includes_the_day(head, query):
    rows = read_csv(head.get(f"/reports/summary.csv?{query}&group=total").data)
    assert [r for r in rows if r and r[0] == "итого"][0][1] == "5"


@pytest.mark.parametrize("query, problem", [
    ("period=custom&from=2026-11-20&to=2026-11-01", "дата начала позже даты окончания"),
    ("period=custom&from=2010-01-01&to=2026-01-01", "период длиннее трёх лет"),
    ("period=day&date=1700-01-01", "год вне диапазона 2000–2100"),
    ("period=day&date=2026-13-45", "неверная дата"),
    ("period=decade", "неизвестный период"),
])
def test_bad_periods_show_a_clear_message(head, query, problem):
    r = head.get(f"/reports/summary?{query}")
    assert r.status_code == 400
    assert "Период задан неверно" in r.text and problem in r.text
    assert head.get(f"/reports/summary.csv?{query}").status_code == 400


def test_disclosure_matches_hand_computation(head):
    rows = read_csv(head.get("/reports/disclosure.csv?year=2026").data)
    nov = next(r for r in rows if r and r[0] == "2026-11")
    # wait until service starts: A 5, 8, 16 and R 3 -> 8; service 3, 5, 7, 12 -> 6.75
    assert nov[1] == "4" and num(nov[2]) == pytest.approx(8.0) and num(nov[3]) == pytest.approx(6.75)
    assert next(r for r in rows if r and r[0] == "2026-10")[2] == ""


def test_csat_matches_hand_computation(head):
    rows = read_csv(head.get("/reports/csat.csv?year=2026&half=2").data)
    main = next(r for r in rows if r and r[0].startswith("2026"))   # the total: no paper questionnaires
    # period, source, ratings, positive, neutral, negative, mean, CSAT: ratings 2 and 5
    assert main[2:6] == ["2", "1", "0", "1"] and num(main[6]) == 3.5 and num(main[7]) == 0.5
    dist = {r[0]: r[1] for r in rows if r and r[0] in "12345" and len(r) == 4}
    assert dist == {"1": "0", "2": "1", "3": "0", "4": "0", "5": "1"}
    assert head.get("/reports/csat?year=2026&half=3").status_code == 400


def test_operator_productivity(head):
    rows = read_csv(head.get(f"/reports/operators.csv?{DAY}").data)
    header = rows[3]
    p = dict(zip(header, rows[4]))
    assert p["Сотрудник"] == "petrova" and p["Обслужено"] == "4" and p["Дней"] == "1"
    assert num(p["Часов приёма"]) == pytest.approx((3 + 5 + 7 + 12) / 60, abs=0.01)
    # within the norm of each leg's own topic: A 3, 5 of 3, 5, 7 (norm 5); R 12 > 10 -> 2 of 4
    assert num(p["Доля в нормативе (приём)"]) == 0.5
    assert p["Не явились"] == "1"


def test_noshows_report(head):
    rows = read_csv(head.get(f"/reports/noshows.csv?{DAY}").data)
    a = next(r for r in rows if r and r[0].startswith("А —"))
    assert a[1:4] == ["4", "1", "0,25"]


def test_downtime_report(tiny, head):
    b = tiny.extensions["talon"]
    with b.sessions.begin() as s:
        s.add(PresenceRow(office="test", device="kiosk1", at=m(0), state="offline"))
        s.add(PresenceRow(office="test", device="kiosk1", at=m(75), state="online"))
    rows = read_csv(head.get(f"/reports/downtime.csv?{DAY}").data)
    k = next(r for r in rows if r and r[0] == "kiosk1")   # 10:00-11:15, working hours, no break
    assert num(k[1]) == 75 and num(k[2]) == 75 and k[3:5] == ["1", "да"]


def test_monthly_report_and_print_page(head):
    r = head.get("/reports/monthly?month=2026-11")
    assert r.status_code == 200 and "С начала года" in r.text and "Версия для печати" in r.text
    p = head.get("/reports/monthly/print?month=2026-11")
    assert p.status_code == 200 and "print.css" in p.text and "Тестовый офис" in p.text
    assert "Отчёт за месяц (накопительным итогом): 11.2026" in p.text
    rows = read_csv(head.get("/reports/monthly.csv?month=2026-11").data)
    assert any(r and r[0].startswith("А —") and r[1] == "4" for r in rows)
    assert head.get("/reports/monthly?month=2026-99").status_code == 400


def test_every_named_report_exports_csv_and_xlsx(head):
    for name in ("summary", "monthly", "disclosure", "csat", "operators", "noshows", "downtime"):
        for fmt in ("csv", "xlsx"):
            r = head.get(f"/reports/{name}.{fmt}")
            assert r.status_code == 200, (name, fmt)
            assert "attachment" in r.headers["Content-Disposition"]
    assert head.get("/reports/nope").status_code == 404


def test_reports_on_simulated_data(client, auth):
    auth.login("head")
    r = client.get("/reports/summary?period=week&date=2026-11-16")
    assert r.status_code == 200 and "нормативу" in r.text
    rows = read_csv(client.get("/reports/summary.csv?period=week&date=2026-11-16&group=total").data)
    total = [x for x in rows if x and x[0] == "итого"][0]
    assert int(total[1]) > 50


def test_reports_index_redirects_to_the_summary(head):
    r = head.get("/reports/?period=day&date=2026-11-16")
    assert r.status_code == 302 and r.location.startswith("/reports/summary?")


def test_reports_in_english(head):
    r = head.get(f"/reports/summary?{DAY}&lang=en")
    assert "Summary report" in r.text and "Meets the norm" in r.text and "9.0" in r.text


def test_csv_for_a_russian_excel_and_an_english_one(head):
    """Russian: «;» and decimal commas (Excel set to Russian splits and reads them); English: decimal points."""
    text = head.get(f"/reports/summary.csv?{DAY}").data.decode("utf-8-sig")
    assert text.splitlines()[0] == "Сводный отчёт;16.11.2026" and "9,0" in text
    rows = read_csv(head.get(f"/reports/summary.csv?{DAY}&lang=en").data)
    header = next(r for r in rows if r and r[0] == "By topic")
    a = dict(zip(header, next(r for r in rows if r and r[0].startswith("А —"))))
    assert a["Mean wait"] == "9.0"
    head.get("/?lang=ru")


def test_monthly_report_shows_the_visits(head):
    """Visits from issue to the end of service: 8, 13, 23 (A) and 15 (R) minutes; МЭК has no ceiling."""
    rows = read_csv(head.get("/reports/monthly.csv?month=2026-11").data)
    title = next(i for i, r in enumerate(rows) if r and r[0].startswith("Визиты: общее время обслуживания"))
    assert "предела нет" in rows[title][0]
    month = dict(zip(rows[title + 1], rows[title + 2]))
    assert month["Период"] == "11.2026" and month["Визитов"] == "4"
    assert num(month["Среднее общее время"]) == 14.75 and num(month["Наибольшее общее время"]) == 23
    assert month["Сверх предела"] == "" and month["Общее время"] == ""
