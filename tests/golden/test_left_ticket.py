"""A visitor who leaves the queue from the phone («Я ухожу») is counted as *left* and
nowhere else: not a no-show, not a cancellation by staff, not timed. A small closed day
through the real dispatcher and database, read live and from its roll-up."""
from __future__ import annotations

from datetime import datetime

import pytest

from broker import messages
from hub.dispatcher import Dispatcher
from queue_core.config import parse_office_config
from server.report_data import monthly_data
from storage import directory, stats
from storage.queue_db import QueueDatabase
from tests.golden.test_office_day import MONTH, TZ, Clock, office


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-16T{hhmm}:00").replace(tzinfo=TZ)


@pytest.fixture(scope="module", params=["mek", "atom"])
def day(request, tmp_path_factory):
    db = QueueDatabase(f"sqlite:///{tmp_path_factory.mktemp('left') / 'left.db'}",
                       parse_office_config(office(request.param)))
    with db.sessions() as s, s.begin():
        for device, role, window in (("kiosk-1", "kiosk", None), ("admin-1", "admin", None),
                                     ("counter-1", "counter", 1)):
            directory.add_device(s, "golden", device, role, window=window, password="x")
    clock = Clock()
    dispatcher = Dispatcher(db, clock=clock, public_url="http://hub.test")

    def send(hhmm: str, device: str, op: str, **args) -> dict:
        clock.now = at(hhmm)
        reply = list(dispatcher.handle_command(device, messages.encode(messages.request(op, args))))[0].payload
        assert reply["ok"], (op, reply)
        return reply["data"]

    send("09:00", "counter-1", "open", window=1)
    leaving = send("09:00", "kiosk-1", "issue", topic="T", kind="walk_in")["ticket"]     # А001 leaves
    send("09:00", "kiosk-1", "issue", topic="T", kind="walk_in")                        # А002 cancelled by staff
    send("09:00", "kiosk-1", "issue", topic="T", kind="walk_in")                        # А003 no-show
    send("09:00", "kiosk-1", "issue", topic="T", kind="walk_in")                        # А004 served
    clock.now = at("09:04")
    token = leaving["url"].rsplit("/", 1)[1]
    assert dispatcher.visitor_leave(token)[0]["number"] == "А001"
    assert dispatcher.visitor_leave(token)[0]["number"] == "А001"        # twice: still one ticket left
    send("09:05", "admin-1", "cancel", ticket="А002")
    assert send("09:06", "counter-1", "call_next", window=1)["ticket"]["number"] == "А003"   # А001 skipped
    send("09:08", "counter-1", "no_show", window=1)
    assert send("09:10", "counter-1", "call_next", window=1)["ticket"]["number"] == "А004"
    send("09:10", "counter-1", "start", window=1)
    send("09:20", "counter-1", "finish", window=1)
    yield db
    db.close()


def test_a_left_ticket_is_counted_under_left_only(day):
    with day.sessions() as s:
        [t] = stats.report(s, day.config, *MONTH)
        monthly = monthly_data(s, day.config, 2026, 11)
    assert (t.tickets, t.served, t.no_shows, t.cancelled, t.left, t.transfers) == (4, 1, 1, 1, 1, 0)
    assert t.mean_wait_min == 10.0 and t.mean_service_min == 10.0      # only А004 is timed
    [row] = monthly["topics"]
    assert (row["tickets"], row["served"], row["no_show"], row["left"]) == (4, 1, 1, 1)


def test_the_rolled_up_day_counts_left_as_its_legs_do(day):
    with day.sessions() as s:
        rolled = stats.reports(s, day.config, *MONTH, stats.GROUPS)
        legs = stats.reports(s, day.config, *MONTH, stats.GROUPS, rolled=False)
        for group in stats.GROUPS:
            whole = [f.as_dict() for f in stats.summarize(stats.fetch_legs(s, "golden", *MONTH), day.config, group)]
            assert [f.as_dict() for f in rolled[group]] == [f.as_dict() for f in legs[group]] == whole, group
    assert {f.left for f in rolled["total"]} == {1}
