from datetime import timedelta

import pytest

from storage import disclosure, stats
from storage.queue_db import QueueDatabase
from tests.queue_core.helpers import MONDAY_10, make_config, minutes
from tests.storage.conftest import serve


def test_topic_figures_match_hand_computation(small_day):
    db = small_day
    with db.sessions() as s:
        figures = {f.key: f for f in stats.report(s, db.config, MONDAY_10 - minutes(60), MONDAY_10 + minutes(600))}
    a = figures["A"]
    assert (a.tickets, a.served, a.no_shows) == (4, 3, 1)
    assert a.mean_wait_min == pytest.approx((4 + 8 + 15) / 3, abs=0.01)
    assert a.p90_wait_min == 15
    assert a.within_wait_norm_share == pytest.approx(2 / 3, abs=1e-3)      # norm 10
    assert a.wait_compliant is True                                          # mean 9 <= 10 (МЭК: mean)
    assert a.mean_service_min == 5 and a.service_compliant is True
    assert a.mean_wait_to_service_min == pytest.approx((5 + 8 + 16) / 3, abs=0.01)
    assert figures["R"].wait_norm_min == 15 and figures["R"].mean_service_min == 12
    assert figures["R"].service_compliant is False                           # 12 > 10


def test_max_norms_are_judged_per_ticket():
    rows_cfg = make_config()
    from dataclasses import replace
    topics = tuple(replace(t, aggregation="max") for t in rows_cfg.topics)
    cfg = replace(rows_cfg, topics=topics)
    row = type("Row", (), {})
    rows = []
    for wait in (4, 8, 11):      # mean 7.67 <= 10, but one ticket is over the maximum
        r = row()
        r.topic, r.window, r.operator, r.segment, r.kind = "A", 1, "x", None, "walk_in"
        r.queued_at, r.wait_s, r.walk_s, r.service_s = MONDAY_10, wait * 60, 0, 60
        r.outcome, r.accounts, r.eta_min = "done", 1, None
        rows.append(r)
    (a,) = stats.summarize(rows, cfg, "topic")
    assert a.wait_compliant is False and a.within_wait_norm_share == pytest.approx(2 / 3, abs=1e-3)


def test_group_by_hour_and_operator(small_day):
    db = small_day
    with db.sessions() as s:
        hours = stats.report(s, db.config, MONDAY_10 - minutes(60), MONDAY_10 + minutes(600), group="hour")
        ops = stats.report(s, db.config, MONDAY_10 - minutes(60), MONDAY_10 + minutes(600), group="window")
    assert [h.key for h in hours] == [10] and hours[0].tickets == 5
    assert [(o.key, o.served) for o in ops] == [(1, 4)]


@pytest.mark.parametrize("start, end", [(MONDAY_10, MONDAY_10 - minutes(1)),
                                        (MONDAY_10, MONDAY_10 + timedelta(days=2000))])
def test_absurd_periods_are_refused(small_day, start, end):
    with small_day.sessions() as s, pytest.raises(ValueError):
        stats.report(s, small_day.config, start, end)


def test_p90_nearest_rank():
    assert stats.p90([]) is None
    assert stats.p90(list(range(1, 11))) == 9
    assert stats.p90([5.0]) == 5.0


def test_closed_days_are_rolled_up_and_stay_exact(db_url):
    """A report over closed days rolls them up in the database once (every closed day, with
    legs or not) and reads the rollups after; the figures are the same as from the legs.
    A filtered report reads the legs and keeps closed months in memory."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import func, select

    from storage.models import LegRollupRow
    db = QueueDatabase(db_url, make_config(windows=1))
    tz = ZoneInfo(db.config.timezone)
    db.transaction(lambda s, o: o.open(1, datetime(2025, 1, 6, 9, tzinfo=tz)))
    for month in (1, 2, 3):
        for i in range(3):
            t0 = datetime(2025, month, 6, 10, tzinfo=tz) + minutes(20 * i)
            serve(db, 1, "A", t0, t0 + minutes(2 + i * month), t0 + minutes(3 + i * month), t0 + minutes(8 + i))
    start, end = datetime(2025, 1, 1, tzinfo=tz), datetime(2025, 4, 1, tzinfo=tz)
    stats._closed_months = stats._ClosedMonths()
    with db.sessions() as s:
        first = [f.as_dict() for f in stats.report(s, db.config, start, end)]
        days = s.execute(select(func.count()).where(LegRollupRow.part == "topic")).scalar()
        again = [f.as_dict() for f in stats.report(s, db.config, start, end)]
        whole = [f.as_dict() for f in stats.summarize(stats.fetch_legs(s, db.config.office_id, start, end), db.config)]
        filtered = [f.as_dict() for f in stats.report(s, db.config, start, end, topic="A")]
        assert len(stats._closed_months._items) == 3
    assert days == 31 + 28 + 31
    assert first == again == whole == filtered
    assert first[0]["tickets"] == 9 and first[0]["p90_wait_min"] == 8.0     # waits 2,2,2,3,4,4,5,6,8


def test_a_transferred_leg_keeps_its_wait_and_service_and_the_visit_counts_both(db_url):
    """Issue 12: admin wait 12 / service 4, transferred; specialist wait 6 / service 10."""
    db = QueueDatabase(db_url, make_config(windows=2))
    t0 = MONDAY_10
    db.transaction(lambda s, o: o.open(1, t0))
    db.transaction(lambda s, o: o.open(2, t0))
    db.transaction(lambda s, o: o.issue("A", t0))
    db.transaction(lambda s, o: o.call_next(1, t0 + minutes(12)))
    db.transaction(lambda s, o: o.start(1, t0 + minutes(12)))
    db.transaction(lambda s, o: o.transfer(1, t0 + minutes(16), topic="R"))
    db.transaction(lambda s, o: o.call_next(2, t0 + minutes(22)))
    db.transaction(lambda s, o: o.start(2, t0 + minutes(22)))
    db.transaction(lambda s, o: o.finish(2, t0 + minutes(32)))
    period = (t0 - minutes(60), t0 + minutes(600))
    with db.sessions() as s:
        figures = {f.key: f for f in stats.report(s, db.config, *period)}
        (total,) = stats.report(s, db.config, *period, group="total")
        v = stats.visits(s, db.config, *period)
    a, r = figures["A"], figures["R"]
    assert (a.tickets, a.served, a.transfers, a.mean_wait_min, a.mean_service_min) == (1, 0, 1, 12, 4)
    assert a.service_compliant is True                                        # 4 <= 5: measured at last
    assert (r.tickets, r.served, r.mean_wait_min, r.mean_service_min) == (1, 1, 6, 10)
    assert (total.mean_wait_min, total.mean_service_min) == (9, 7)           # both stages
    assert (v.count, v.mean_total_min, v.max_total_min) == (1, 32, 32)       # 12 + 4 + 6 + 10
    assert v.total_norm_max_min is None and v.over_total_norm is None        # МЭК: no visit ceiling
    with db.sessions() as s:
        (month,) = disclosure.disclosure(s, db.config, t0.year, months=[t0.month])
    assert month["visitors"] == 1                                             # one visit, both stages in it
    assert (month["mean_wait_until_service_min"], month["mean_service_min"]) == (18, 14)


def test_an_early_booking_called_before_its_slot_waited_zero(db_url):
    """Checked in 20 min early, called 10 min before the slot: wait 0, not −10."""
    db = QueueDatabase(db_url, make_config(windows=1))
    t0 = MONDAY_10
    db.transaction(lambda s, o: o.open(1, t0))
    db.transaction(lambda s, o: o.check_in("A", t0 + minutes(20), "123456", t0))
    db.transaction(lambda s, o: o.call_next(1, t0 + minutes(10)))
    db.transaction(lambda s, o: o.start(1, t0 + minutes(11)))
    db.transaction(lambda s, o: o.finish(1, t0 + minutes(15)))
    with db.sessions() as s:
        (a,) = stats.report(s, db.config, t0 - minutes(60), t0 + minutes(600))
        v = stats.visits(s, db.config, t0 - minutes(60), t0 + minutes(600))
    assert a.mean_wait_min == 0 and a.mean_wait_to_service_min == 1 and a.mean_service_min == 4
    assert v.mean_total_min == 5                                              # from the call: 0 + 1 + 4


def test_a_negative_wait_stored_before_the_fix_reads_as_zero():
    row = type("Row", (), {})()
    row.topic, row.window, row.operator, row.segment, row.kind = "A", 1, "x", None, "booking"
    row.queued_at, row.wait_s, row.walk_s, row.service_s = MONDAY_10, -240.0, 60.0, 180.0
    row.outcome, row.accounts, row.eta_min = "done", 1, None
    (a,) = stats.summarize([row], make_config(), "topic")
    assert a.mean_wait_min == 0 and a.mean_wait_to_service_min == 1
