from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.bookings import purge_personal_data
from storage.models import BookingRow
from tests.server.conftest import NOW, csrf_from

# NOW is Thu 2026-11-19 11:00; the example office works Mon-Thu 08-18, Fri 08-17, lunch 12:00-12:45.
# Topic R (slot 15 min) is served by windows 1 and 2; topic D by window 3 only.


def book(client, **body):
    data = {"topic": "R", "date": "2026-11-20", "time": "10:07", **body}
    return client.post("/api/bookings", json=data)


def bookings(app):
    with app.extensions["talon"].sessions() as s:
        return s.execute(select(BookingRow).order_by(BookingRow.id)).scalars().all()


def test_booking_gets_a_code_and_a_slot_on_the_grid(app, client):
    r = book(client, name="Иванов И.", phone="+7 900 000-00-00")
    assert r.status_code == 201
    body = r.get_json()
    assert len(body["code"]) == 6 and body["code"].isdigit()
    assert body["slot_start"] == "2026-11-20T10:00:00+05:00"          # 10:07 lies in the 10:00-10:15 slot
    (row,) = bookings(app)
    assert row.code == body["code"] and row.topic == "R" and row.name == "Иванов И." and row.ticket is None


def test_a_slot_takes_as_many_bookings_as_windows_serve_the_topic(client):
    assert book(client).status_code == 201
    assert book(client, time="10:14").status_code == 201                # windows 1 and 2 serve R
    r = book(client, time="10:01")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "slot_full"
    assert book(client, time="10:15").status_code == 201                # the next slot is free
    assert book(client, topic="D").status_code == 201
    assert book(client, topic="D").status_code == 409                   # D: window 3 only


@pytest.mark.parametrize("body, code", [
    ({"topic": "ZZ"}, "unknown_topic"),
    ({"date": "2026-11-21"}, "closed"),                    # Saturday
    ({"time": "07:30"}, "closed"),
    ({"time": "17:50"}, "closed"),                         # R has a 17:30 cut-off
    ({"time": "12:10"}, "break"),
    ({"date": "2026-11-19", "time": "09:00"}, "in_past"),
    ({"date": "2027-06-01"}, "too_far"),
    ({"date": "tomorrow"}, "bad_schema"),
    ({"phone": "call me"}, "bad_schema"),
    ({"name": "x" * 101}, "bad_schema"),
])
def test_bad_bookings_are_refused(app, client, body, code):
    r = book(client, **body)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code
    assert r.get_json()["error"]["message"]
    assert bookings(app) == []


def test_booking_api_needs_json(app, client):
    r = client.post("/api/bookings", data={"topic": "R", "date": "2026-11-20", "time": "10:00"})
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "bad_json"
    assert client.post("/api/bookings", data="[1,", content_type="application/json").status_code == 400
    assert bookings(app) == []


def test_oversized_booking_request_is_a_json_error(app, client):
    r = client.post("/api/bookings", data='{"name": "' + "x" * 300_000 + '"}', content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    assert bookings(app) == []


def test_public_booking_page(app, client):
    page = client.get("/book")
    assert "Предварительная запись" in page.text and "удаляются через 30 дн." in page.text
    r = client.post("/book", data={"topic": "R", "date": "2026-11-20", "time": "11:00", "name": "Пётр",
                                   "csrf_token": csrf_from(page.text)})
    assert r.status_code == 200 and "Вы записаны. Ваш код:" in r.text and "20.11.2026 11:00" in r.text
    assert client.post("/book", data={"topic": "R", "date": "2026-11-20", "time": "11:00"}).status_code == 400
    r = client.post("/book", data={"topic": "R", "date": "2026-11-21", "time": "11:00",
                                   "csrf_token": csrf_from(page.text)})
    assert "не работает" in r.text
    assert len(bookings(app)) == 1


def test_purge_blanks_personal_data_after_retention(app, client):
    book(client, name="Иванов", phone="+7 900 000 00 00")
    book(client, time="11:00", name="Петров", phone="+7 900 000 00 01")
    later = NOW + timedelta(days=32)   # both slots (20.11 10:00 and 11:00) are 30+ days old
    with app.extensions["talon"].sessions.begin() as s:
        assert purge_personal_data(s, 40, later) == 0
        assert purge_personal_data(s, 30, later) == 2
    rows = bookings(app)
    assert all(r.name is None and r.phone is None for r in rows)
    assert all(len(r.code) == 6 and r.topic == "R" for r in rows)       # the booking itself stays
    with app.extensions["talon"].sessions.begin() as s:
        assert purge_personal_data(s, 30, later) == 0


def test_talon_web_purge_now(app, client, tmp_path, capsys, monkeypatch):
    from talon.cli import main
    from tests.server.conftest import EXAMPLE
    book(client, name="Иванов")
    with app.extensions["talon"].sessions.begin() as s:     # make it an old booking
        s.execute(BookingRow.__table__.update().values(slot_start=NOW - timedelta(days=90)))
    monkeypatch.setenv("TALON_DATA_DIR", str(tmp_path / "data"))
    url = str(app.extensions["talon"].engine.url)
    assert main(["web", "--database", url, "--office-config", str(EXAMPLE), "--purge-now"]) == 0
    assert "purged personal data of 1 bookings" in capsys.readouterr().out
    assert bookings(app)[0].name is None
    assert (tmp_path / "data" / "web-secret.key").exists()


def test_talon_web_without_office_config_says_so(tmp_path, capsys, monkeypatch):
    from talon.cli import main
    monkeypatch.delenv("TALON_OFFICE_CONFIG", raising=False)
    monkeypatch.setenv("TALON_DATA_DIR", str(tmp_path))
    assert main(["web", "--database", f"sqlite:///{tmp_path / 'x.db'}", "--purge-now"]) == 1
    assert "no office configuration" in capsys.readouterr().out
