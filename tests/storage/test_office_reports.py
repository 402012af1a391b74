"""Disclosure, CSAT and downtime (issue 12 items 5, 6, 9): figures computed by hand."""

from datetime import date, datetime

import pytest

from queue_core.config import parse_office_config
from storage import csat, disclosure, downtime
from storage.models import PresenceRow
from storage.queue_db import QueueDatabase
from tests.queue_core.helpers import MONDAY_10, minutes, office_dict


def test_disclosure_months(small_day):
    db = small_day
    with db.sessions() as s:
        months = disclosure.disclosure(s, db.config, 2026)
    assert len(months) == 12 and months[10]["visitors"] == 4
    assert months[10]["mean_service_min"] == pytest.approx((3 + 5 + 7 + 12) / 4, abs=0.01)
    assert months[0]["visitors"] == 0 and months[0]["mean_service_min"] is None


def test_csat_share_of_four_and_five(small_day):
    db = small_day
    t, _ = db.transaction(lambda s, o: o.issue("A", MONDAY_10 + minutes(50)))
    db.transaction(lambda s, o: o.call_next(1, MONDAY_10 + minutes(50)))
    db.transaction(lambda s, o: o.start(1, MONDAY_10 + minutes(51)))
    db.transaction(lambda s, o: o.finish(1, MONDAY_10 + minutes(55)))
    db.transaction(lambda s, o: o.rate(1, t.number, 4, MONDAY_10 + minutes(56)))
    start, end = csat.half_year(2026, 2, db.office.tz)
    with db.sessions() as s:
        c = csat.csat(s, db.config, start, end)
    assert c["ratings"] == 1 and c["csat"] == 1.0 and c["distribution"][4] == 1


def add_status(db, device, rows):
    with db.sessions() as s, s.begin():
        for at, state, *printer in rows:
            s.add(PresenceRow(office=db.config.office_id, device=device, at=at, state=state,
                              printer=printer[0] if printer else None))


def down(db, start, end, now):
    with db.sessions() as s:
        devices, days = downtime.device_days(s, db.config, start, end, now)
    return {d["device"]: d for d in devices}, days


DAY0 = MONDAY_10 - minutes(600)          # Monday 23.11.2026 00:00, office time


def test_downtime_counts_outages(small_day):
    db = small_day
    t0 = MONDAY_10
    add_status(db, "kiosk-1", [(t0, "online"), (t0 + minutes(10), "offline"), (t0 + minutes(85), "online"),
                               (t0 + minutes(100), "offline")])
    with db.sessions() as s:
        (d,) = downtime.downtime(s, db.config, t0, t0 + minutes(110), t0 + minutes(110))
    assert d == {"device": "kiosk-1", "down_min": 85.0, "longest_outage_min": 75.0, "days_over_60": 1,
                 "over_60_min": True}


def test_downtime_a_kiosk_off_overnight_while_the_office_is_closed_is_no_downtime(small_day):
    """Office hours 08:00-20:00: off from 20:05 to 07:50 the next morning → 0 working minutes."""
    db = small_day
    add_status(db, "kiosk-1", [(DAY0 + minutes(8 * 60), "online"), (DAY0 + minutes(20 * 60 + 5), "offline"),
                               (DAY0 + minutes(31 * 60 + 50), "online")])
    devices, days = down(db, DAY0, DAY0 + minutes(2 * 24 * 60), DAY0 + minutes(3 * 24 * 60))
    assert devices["kiosk-1"]["down_min"] == 0 and devices["kiosk-1"]["over_60_min"] is False and days == []


def test_downtime_a_kiosk_out_of_paper_for_three_working_hours_is_flagged(small_day):
    """Online all day, printer paper_out 10:00-13:00 (a visitor's «help» at 11:00 changes nothing) → 180 min."""
    db = small_day
    add_status(db, "kiosk-1", [(DAY0 + minutes(8 * 60), "online", "ok"), (DAY0 + minutes(10 * 60), "online", "paper_out"),
                               (DAY0 + minutes(11 * 60), "help"), (DAY0 + minutes(13 * 60), "online", "ok")])
    add_status(db, "board-1", [(DAY0 + minutes(8 * 60), "online"), (DAY0 + minutes(9 * 60), "offline"),
                               (DAY0 + minutes(10 * 60 + 30), "online")])
    devices, days = down(db, DAY0, DAY0 + minutes(24 * 60), DAY0 + minutes(24 * 60))
    assert devices["kiosk-1"]["down_min"] == 180 and devices["kiosk-1"]["over_60_min"] is True
    assert devices["board-1"]["down_min"] == 90 and devices["board-1"]["longest_outage_min"] == 90
    assert {"device": "kiosk-1", "day": "2026-11-23", "down_min": 180.0, "over_60_min": True} in days


def test_downtime_an_open_outage_counts_up_to_now_not_to_the_end_of_the_period(small_day):
    db = small_day
    now = DAY0 + minutes(12 * 60)
    add_status(db, "kiosk-1", [(DAY0 + minutes(8 * 60), "online"), (now - minutes(30), "offline")])
    devices, days = down(db, DAY0, DAY0 + minutes(24 * 60), now)
    assert devices["kiosk-1"]["down_min"] == 30 and devices["kiosk-1"]["over_60_min"] is False
    assert days == [{"device": "kiosk-1", "day": "2026-11-23", "down_min": 30.0, "over_60_min": False}]


def _office_with_lunch(db_url):
    d = office_dict(windows=1)
    d["calendar"] = {"hours": {day: "08:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")},
                     "breaks": ["12:00-13:00"], "holidays": ["2026-11-24"]}
    return QueueDatabase(db_url, parse_office_config(d))


def test_downtime_across_the_lunch_break_and_on_a_holiday(db_url):
    """Off 11:30-13:45 with lunch 12:00-13:00 → 30 + 45 = 75 working minutes, flagged; off all
    Tuesday, a holiday → 0; off Saturday (closed) → 0."""
    db = _office_with_lunch(db_url)
    add_status(db, "kiosk-1", [(DAY0 + minutes(8 * 60), "online"), (DAY0 + minutes(11 * 60 + 30), "offline"),
                               (DAY0 + minutes(13 * 60 + 45), "online"),
                               (DAY0 + minutes(24 * 60 + 7 * 60), "offline"), (DAY0 + minutes(48 * 60 + 7 * 60), "online"),
                               (DAY0 + minutes(5 * 24 * 60 + 9 * 60), "offline"),
                               (DAY0 + minutes(5 * 24 * 60 + 15 * 60), "online")])
    devices, days = down(db, DAY0, DAY0 + minutes(7 * 24 * 60), DAY0 + minutes(8 * 24 * 60))
    assert devices["kiosk-1"]["down_min"] == 75 and devices["kiosk-1"]["longest_outage_min"] == 75
    assert days == [{"device": "kiosk-1", "day": "2026-11-23", "down_min": 75.0, "over_60_min": True}]


def test_disclosure_yearly_rows_and_entered_inputs(small_day):
    db = small_day
    with db.sessions() as s:
        y = disclosure.yearly(s, db.config, 2026)
    assert y["appeals"] == 4                  # four tickets served (the no-show is no appeal)
    assert (y["claims"], y["complaints"], y["measures"], y["remote_channels"]) == (None, None, "", "")
    assert len(y["months"]) == 12
    at = datetime(2027, 1, 20, 9, 0, tzinfo=db.office.tz)
    with db.sessions() as s, s.begin():
        disclosure.save_inputs(s, db.config.office_id, 2026, disclosure.Inputs(3, 1, " Новый зал ", "Пн–Пт 8–17"),
                               "head", at)
    with db.sessions() as s, s.begin():     # saved again: replaced, not added
        disclosure.save_inputs(s, db.config.office_id, 2026, disclosure.Inputs(2, 1, "Новый зал", "Пн–Пт 8–17"),
                               "head", at)
    with db.sessions() as s:
        y = disclosure.yearly(s, db.config, 2026)
        other = disclosure.yearly(s, db.config, 2025)
    assert (y["claims"], y["complaints"], y["measures"], y["remote_channels"]) == (2, 1, "Новый зал", "Пн–Пт 8–17")
    assert other["claims"] is None and other["appeals"] == 0
    with db.sessions() as s, pytest.raises(ValueError):
        disclosure.save_inputs(s, db.config.office_id, 2026, disclosure.Inputs(-1), "head", at)


def rated(db, topic, segment, score, at):
    t, _ = db.transaction(lambda s, o: o.issue(topic, at, segment=segment))
    db.transaction(lambda s, o: o.call_next(1, at + minutes(1)))
    db.transaction(lambda s, o: o.start(1, at + minutes(1)))
    db.transaction(lambda s, o: o.finish(1, at + minutes(3)))
    db.transaction(lambda s, o: o.rate(1, t.number, score, at + minutes(4)))


def test_csat_split_by_segment_and_topic_with_paper_questionnaires(small_day):
    """Queue: A/b2c 5, R/b2b 2, A/b2c 3; paper: 10 × 5, 5 × 4, 5 × 1. Totals: 23 ratings,
    positive 5+5+10+... = 16 (4–5), neutral 1, negative 6 (1–2); CSAT 16/23; mean 85/23."""
    db = small_day
    rated(db, "A", "b2c", 5, MONDAY_10 + minutes(50))
    rated(db, "R", "b2b", 2, MONDAY_10 + minutes(60))
    rated(db, "A", "b2c", 3, MONDAY_10 + minutes(70))
    start, end = csat.half_year(2026, 2, db.office.tz)
    with db.sessions() as s, s.begin():
        csat.save_paper_counts(s, db.config.office_id, 2026, 2, {5: 10, 4: 5, 1: 5})
    with db.sessions() as s:
        paper = csat.paper_counts(s, db.config.office_id, 2026, 2)
        c = csat.csat(s, db.config, start, end, paper)
        segments = {r["key"]: r for r in csat.split(s, db.config, start, end, "segment")}
        topics = {r["key"]: r for r in csat.split(s, db.config, start, end, "topic")}
        assert csat.paper_counts(s, db.config.office_id, 2026, 1) == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert paper == {1: 5, 2: 0, 3: 0, 4: 5, 5: 10}
    assert (c["ratings"], c["electronic"], c["paper"]) == (23, 3, 20)
    assert (c["positive"], c["neutral"], c["negative"]) == (16, 1, 6)
    assert c["csat"] == round(16 / 23, 4) and c["mean"] == round(85 / 23, 2)
    assert (segments["b2c"]["ratings"], segments["b2c"]["positive"], segments["b2c"]["csat"]) == (2, 1, 0.5)
    assert (segments["b2b"]["negative"], segments["b2b"]["csat"]) == (1, 0.0)
    assert (topics["A"]["ratings"], topics["R"]["ratings"], topics["R"]["mean"]) == (2, 1, 2.0)
    with db.sessions() as s, pytest.raises(ValueError):
        csat.save_paper_counts(s, db.config.office_id, 2026, 3, {5: 1})


@pytest.mark.parametrize(("today", "expected"), [(date(2026, 7, 5), (2026, 1)), (date(2027, 1, 15), (2026, 2)),
                                                 (date(2026, 6, 30), (2025, 2)), (date(2026, 12, 31), (2026, 1))])
def test_csat_defaults_to_the_last_completed_half_year(today, expected):
    assert csat.last_completed_half(today) == expected


def test_downtime_an_outage_begun_before_the_period_counts_from_its_start(small_day):
    """Off since Sunday 22:00 (after an older online), back Monday 09:00; the report for Monday
    (office 08:00-20:00) → 60 min, not over the limit."""
    db = small_day
    add_status(db, "kiosk-1", [(DAY0 - minutes(30 * 60), "online"), (DAY0 - minutes(2 * 60), "offline"),
                               (DAY0 + minutes(9 * 60), "online")])
    devices, days = down(db, DAY0, DAY0 + minutes(24 * 60), DAY0 + minutes(24 * 60))
    assert devices["kiosk-1"]["down_min"] == 60 and devices["kiosk-1"]["over_60_min"] is False
