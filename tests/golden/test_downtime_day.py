"""Golden device downtime (downtime_days.toml): the devices' statuses published on
``device/<id>/status`` are handed to the real dispatcher's status path
(``Dispatcher.handle_status``, as ``hub.service`` does), stored in a real database, and
the downtime report (``storage.downtime``) compared with the figures worked out by hand:
a kiosk out of paper for an hour in working time counts 60 min, a device off overnight
only its part inside working hours, an outage still open up to the reading only, and a
device and day over 60 min is flagged."""
from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from broker import messages
from hub.dispatcher import Dispatcher
from queue_core.config import parse_office_config
from storage import directory, downtime
from storage.models import PresenceRow
from storage.queue_db import QueueDatabase

DATA = tomllib.loads(Path(__file__).with_name("downtime_days.toml").read_text(encoding="utf-8"))
TZ = ZoneInfo("Europe/Moscow")
NOT_ACCEPTING = ("paper_out", "cover_open", "offline", "error")


def office() -> dict:
    return {
        "office": {"id": "golden", "name": "Эталонный офис", "timezone": "Europe/Moscow", "profile": "mek"},
        "topics": [{"code": "T", "prefix": "А", "form": "admin"}],
        "windows": [{"number": 1, "topics": ["T"]}, {"number": 2, "topics": ["T"]}],
        "calendar": {"hours": DATA["hours"], "breaks": DATA["breaks"]},
    }


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


class Clock:
    now = local("2026-11-16 08:00")

    def __call__(self) -> datetime:
        return self.now


def status(device: str, role: str, step: dict) -> bytes:
    """What the device publishes (retained) on device/<id>/status."""
    extra: dict = {}
    printer = None
    if "printer" in step:
        printer = {"state": step["printer"], "detail": None}
        extra["tickets"] = "stopped" if step["printer"] in NOT_ACCEPTING else "accepting"
    return messages.encode(messages.device_status(device, role, step["state"], version="0.1.0", printer=printer,
                                                  at=local(step["at"]).isoformat(), **extra))


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = QueueDatabase(f"sqlite:///{tmp_path_factory.mktemp('downtime') / 'golden.db'}",
                       parse_office_config(office()))
    with db.sessions() as s, s.begin():
        for device, role in DATA["devices"].items():
            window = int(device.rsplit("-", 1)[1]) if role == "counter" else None
            directory.add_device(s, "golden", device, role, window=window, password="device")
    clock = Clock()
    dispatcher = Dispatcher(db, clock=clock)
    for step in DATA["statuses"]:
        clock.now = local(step["at"])
        dispatcher.handle_status(step["device"], status(step["device"], DATA["devices"][step["device"]], step))
    yield db
    db.close()


def test_statuses_were_recorded_by_the_hub_once_per_change(db):
    with db.sessions() as s:
        rows = s.execute(select(PresenceRow.device, PresenceRow.state, PresenceRow.printer)
                         .order_by(PresenceRow.id)).all()
    assert len(rows) == len(DATA["statuses"]) - 1          # the repeated «ok» at 12:30 changed nothing
    assert [r.printer for r in rows if r.device == "kiosk-1"] == [
        "ok", "paper_near_end", "paper_out", "ok", "cover_open", "ok"]


@pytest.mark.parametrize("check", DATA["checks"], ids=lambda c: c["name"])
def test_downtime_matches_the_hand_worked_figures(db, check):
    with db.sessions() as s:
        devices, days = downtime.device_days(s, db.config, local(check["from"]), local(check["to"]),
                                             local(check["now"]))
    got_devices = [[d["device"], d["down_min"], d["longest_outage_min"], d["days_over_60"], d["over_60_min"]]
                   for d in devices]
    got_days = [[d["device"], d["day"], d["down_min"], d["over_60_min"]] for d in days]
    assert got_devices == check["devices"]
    assert got_days == check["days"]


def test_the_overnight_outage_is_not_the_clock_time(db):
    """The issue's case: a device off overnight while the office is closed was flagged over
    60 min (its clock time); only Tuesday 08:00-08:30 is working time."""
    overnight = (local("2026-11-17 08:30") - local("2026-11-16 19:00")).total_seconds() / 60
    with db.sessions() as s:
        devices, _days = downtime.device_days(s, db.config, local("2026-11-16 00:00"), local("2026-11-18 00:00"),
                                              local("2026-11-18 00:00"))
    board = next(d for d in devices if d["device"] == "board-1")
    assert overnight == 810 and board["down_min"] == 30.0 and not board["over_60_min"]
