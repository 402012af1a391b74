"""The repositories and the hub's unit of work (SQLite, and PostgreSQL when configured)."""
import random
from datetime import timedelta

import pytest

from queue_core.errors import QueueError
from storage import commands, directory, events, presence, settings, tickets
from storage.bookings import Bookings, SlotFull, purge_personal_data
from storage.credentials import verify_secret
from storage.queue_db import QueueDatabase
from tests.queue_core.helpers import MONDAY_10, make_config, minutes
from tests.saved_settings import SAVED_TOML


@pytest.fixture
def db(db_url):
    database = QueueDatabase(db_url, make_config())
    yield database
    database.close()


# ---------------------------------------------------------------------- effective settings
def test_without_saved_settings_the_file_is_used(db):
    config = make_config()
    with db.sessions() as s:
        effective = settings.effective_config(s, config, "file text")
    assert effective.config is config and effective.toml == "file text" and effective.source == "file"


def test_saved_web_settings_win_over_the_file(db):
    with db.sessions.begin() as s:
        settings.save(s, "test", "[office]\nid = 'test'\n# an older version", "boss", MONDAY_10)
        settings.save(s, "test", SAVED_TOML, "boss", MONDAY_10 + minutes(1))
    with db.sessions() as s:
        effective = settings.effective_config(s, make_config())
        history = settings.history(s, "test", 5)
    assert effective.source == "saved" and effective.toml == SAVED_TOML
    assert effective.config.name_ru == "Сохранено на сайте" and len(effective.config.windows) == 1
    assert effective.saved_at == MONDAY_10 + minutes(1)
    assert [h.saved_at for h in history] == [MONDAY_10 + minutes(1), MONDAY_10]     # newest first


def test_saved_text_equal_to_the_file_is_the_file(db):
    with db.sessions.begin() as s:
        settings.save(s, "test", SAVED_TOML, None, MONDAY_10)
    config = make_config()
    with db.sessions() as s:
        effective = settings.effective_config(s, config, SAVED_TOML)
    assert effective.config is config and effective.source == "file"


@pytest.mark.parametrize("broken", [
    "[office\nid = 'test'",                                   # no longer TOML
    SAVED_TOML.replace('form = "admin"', 'form = "no-such-form"'),  # a key this version refuses
    SAVED_TOML.replace('id = "test"', 'id = "elsewhere"'),          # another office's settings
])
def test_saved_text_that_no_longer_fits_falls_back_to_the_file(db, broken, caplog):
    with db.sessions.begin() as s:
        settings.save(s, "test", broken, "boss", MONDAY_10)
    config = make_config()
    with db.sessions() as s:
        effective = settings.effective_config(s, config, "file text")
    assert effective.config is config and effective.toml == "file text" and effective.source == "file"
    assert "using the file" in caplog.text


def test_settings_of_another_office_are_not_seen(db):
    with db.sessions.begin() as s:
        settings.save(s, "other", SAVED_TOML.replace('"test"', '"other"'), None, MONDAY_10)
    with db.sessions() as s:
        assert settings.latest(s, "test") is None
        assert settings.effective_config(s, make_config()).source == "file"


# ---------------------------------------------------------------------- directory
def test_devices_and_operators(db):
    with db.sessions.begin() as s:
        password = directory.add_device(s, "test", "kiosk-1", "kiosk")
        directory.add_device(s, "test", "counter-1", "counter", window=1, password="c")
        directory.add_operator(s, "test", "ivanova", "Иванова Анна", "1234")
        with pytest.raises(ValueError, match="already exists"):
            directory.add_device(s, "test", "kiosk-1", "kiosk")
        with pytest.raises(ValueError, match="needs --window"):
            directory.add_device(s, "test", "rating-1", "rating")
        with pytest.raises(ValueError, match="role must be one of"):
            directory.add_device(s, "test", "x-1", "hub")
        with pytest.raises(ValueError, match="bad device id"):
            directory.add_device(s, "test", "bad/id", "kiosk")
        with pytest.raises(ValueError, match="4-12 digits"):
            directory.add_operator(s, "test", "petrov", "Петров", "12")
    with db.sessions() as s:
        devices = directory.list_devices(s, "test")
        assert [(d.device, d.role, d.window) for d in devices] == [("counter-1", "counter", 1), ("kiosk-1", "kiosk", None)]
        assert verify_secret(password, devices[1].password_hash)
        assert directory.check_pin(s, "test", "ivanova", "1234") == "Иванова Анна"
        assert directory.check_pin(s, "test", "ivanova", "4321") is None
        assert directory.check_pin(s, "test", "nobody", "1234") is None
        found, names = directory.snapshot(s, "test")
        assert set(found) == {"kiosk-1", "counter-1"} and names == {"ivanova": "Иванова Анна"}
        assert directory.snapshot(s, "other") == ({}, {})
    with db.sessions.begin() as s:
        assert directory.remove_device(s, "test", "kiosk-1") and not directory.remove_device(s, "test", "kiosk-1")
        assert directory.remove_operator(s, "test", "ivanova")
        assert [o.code for o in directory.list_operators(s, "test")] == []


def test_provision_replaces_a_device_with_a_fresh_password(db_url):
    first = directory.provision(db_url, "test", [("kiosk-1", "kiosk", None), ("counter-1", "counter", 1)])
    with pytest.raises(ValueError, match="already exists"):
        directory.provision(db_url, "test", [("kiosk-1", "kiosk", None)])
    again = directory.provision(db_url, "test", [("kiosk-1", "kiosk", None)], replace=True)
    assert set(first) == {"kiosk-1", "counter-1"} and again["kiosk-1"] != first["kiosk-1"]


def test_storage_keeps_the_buses_device_rules():
    from broker import roles

    assert directory.DEVICE_ROLES == roles.DEVICE_ROLES
    assert directory.RESERVED_DEVICE_IDS == roles.RESERVED_DEVICE_IDS
    for device in ("kiosk-1", "hub", "Anonymous", "bad/id", "x" * 33):
        try:
            roles.check_device_id(device)
            expected = None
        except ValueError as exc:
            expected = str(exc)
        try:
            directory.check_device_id(device)
            got = None
        except ValueError as exc:
            got = str(exc)
        assert got == expected


# ---------------------------------------------------------------------- bookings
def test_bookings_book_claim_and_purge(db):
    slot = MONDAY_10 + timedelta(days=1)
    with db.sessions.begin() as s:
        b = Bookings(s, "test")
        first = b.book("A", slot, MONDAY_10, name="Иванов", phone="+7 900", capacity=2)
        second = b.book("A", slot, MONDAY_10, capacity=2)
        with pytest.raises(SlotFull):
            b.book("A", slot, MONDAY_10, capacity=2)
        b.book("A", slot, MONDAY_10)                                   # no capacity given: no limit
        assert len(first.code) == 6 and first.code.isdigit() and first.code != second.code
        assert b.booked("A", slot) == 3 and b.booked("R", slot) == 0
    with db.sessions.begin() as s:
        b = Bookings(s, "test")
        found = b.unclaimed(first.code)
        assert found.topic == "A" and found.slot_start == slot and found.ticket is None
        b.claim(found, "Б001")
        assert b.unclaimed(first.code) is None and Bookings(s, "other").unclaimed(second.code) is None
    with db.sessions.begin() as s:
        assert purge_personal_data(s, 30, slot + timedelta(days=29)) == 0
        assert purge_personal_data(s, 30, slot + timedelta(days=31)) == 1
    with db.sessions() as s:
        (kept, *_rest) = Bookings(s, "test").all()
        assert kept.code == first.code and kept.name is None and kept.phone is None and kept.ticket == "Б001"


def test_seeded_codes_repeat(db):
    slot = MONDAY_10 + timedelta(days=1)
    with db.sessions.begin() as s:
        a = Bookings(s, "test").book("A", slot, MONDAY_10, rng=random.Random(7))
        b = Bookings(s, "other").book("A", slot, MONDAY_10, rng=random.Random(7))
    assert a.code == b.code          # codes are unique per office


# ---------------------------------------------------------------------- presence, events, commands, tickets
def test_presence(db):
    t = MONDAY_10
    with db.writing() as uow:
        uow.record_presence([presence.Status("kiosk-1", t, "online", "ok"),
                             presence.Status("kiosk-1", t + minutes(1), "help"),
                             presence.Status("board-1", t + minutes(2), "online"),
                             presence.Status("kiosk-1", t + minutes(3), "offline")])
    with db.sessions() as s:
        assert [(p.device, p.state) for p in presence.latest(s, "test")] == [("board-1", "online"),
                                                                             ("kiosk-1", "offline")]
        assert [h.device for h in presence.help_requests(s, "test", t)] == ["kiosk-1"]
        assert presence.help_requests(s, "test", t + minutes(2)) == []
        assert [p.state for p in presence.history(s, "test", "kiosk-1")] == ["online", "help", "offline"]
        assert presence.last_id(s, "test") > 0 and presence.last_id(s, "other") == 0


def test_recent_calls_and_last_seq(db):
    t = MONDAY_10
    db.transaction(lambda s, o: o.open(1, t))
    for i in range(3):
        db.transaction(lambda s, o, i=i: o.issue("A", t + minutes(i)))
    db.transaction(lambda s, o: o.call_next(1, t + minutes(5)))
    db.transaction(lambda s, o: o.recall(1, t + minutes(6)))
    with db.reading() as uow:
        calls = uow.recent_calls(10)
        assert [(c.ticket, c.window, c.recall) for c in calls] == [("А001", 1, False), ("А001", 1, True)]
        assert [c.recall for c in uow.recent_calls(1)] == [True]
        assert events.last_seq(uow.session, "test") == db.office.seq


def test_command_log(db):
    with db.writing() as uow:
        for i in range(3):
            uow.record_reply("kiosk-1", f"c{i}", "issue", MONDAY_10 + minutes(i), {"ok": True, "n": i})
    with db.reading() as uow:
        assert uow.stored_reply("kiosk-1", "c1") == {"ok": True, "n": 1}
        assert uow.stored_reply("kiosk-2", "c1") is None
        assert uow.recent_commands(2) == [("kiosk-1", "c1"), ("kiosk-1", "c2")]       # oldest first
        assert commands.recent_keys(uow.session, "other", 5) == []


def test_ticket_numbers(db):
    db.transaction(lambda s, o: o.open(1, MONDAY_10))
    db.transaction(lambda s, o: o.issue("A", MONDAY_10))
    db.transaction(lambda s, o: o.issue("R", MONDAY_10 + minutes(1)))
    with db.sessions() as s:
        stored = tickets.numbers(s, "test")
        assert len(stored) == 2 and stored[0] == ("2026-11-23", "А001", "waiting") and tickets.numbers(s) == stored
        assert tickets.numbers(s, "test", since_day="2026-11-24") == []
        assert tickets.duplicate_numbers(s, "test") == 0
        day = tickets.on_day(s, "test", "2026-11-23")
        assert [len(t.legs) for t in day] == [1, 1]


# ---------------------------------------------------------------------- the unit of work
def test_unit_of_work_checks_in_a_booking_in_one_transaction(db):
    slot = MONDAY_10 + minutes(10)
    with db.sessions.begin() as s:
        code = Bookings(s, "test").book("R", slot, MONDAY_10 - timedelta(days=1)).code
        directory.add_operator(s, "test", "ivanova", "Иванова Анна", "1234")

    def check_in(uow):
        assert uow.operators.check_pin("ivanova", "1234") == "Иванова Анна"
        booking = uow.bookings.unclaimed(code)
        t = uow.office.check_in(booking.topic, booking.slot_start, code, MONDAY_10)
        uow.bookings.claim(booking, t.number)
        uow.record_reply("kiosk-1", "x1", "checkin", MONDAY_10, {"ok": True})
        return t

    t, evs = db.unit_of_work(check_in)
    assert t.kind == "booking" and [e.kind for e in evs] == ["issued"]
    with db.reading() as uow:
        assert uow.bookings.unclaimed(code) is None and uow.stored_reply("kiosk-1", "x1") == {"ok": True}

    def refused(uow):
        uow.record_reply("kiosk-1", "x2", "issue", MONDAY_10, {"ok": True})
        uow.office.issue("Z", MONDAY_10)          # no such topic: refused

    with pytest.raises(QueueError):
        db.unit_of_work(refused)
    with db.reading() as uow:
        assert uow.stored_reply("kiosk-1", "x2") is None     # a refusal stores nothing
