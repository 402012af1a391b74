"""Closed days rolled up in the database (issue 12, fast cold reports): exact, and rebuilt
when a closed day's legs change."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bench.core import generate_office_year
from queue_core.config import office_from_profile
from storage import stats
from storage.models import LegRollupRow
from storage.queue_db import QueueDatabase
from storage.rollups import exact_sum
from tests.queue_core.helpers import make_config, minutes


def rollup_days(session, part="topic") -> int:
    return session.execute(select(func.count()).where(LegRollupRow.part == part)).scalar()


def from_legs(s, config, start, end, group):
    return [f.as_dict() for f in stats.summarize(stats.fetch_legs(s, config.office_id, start, end), config, group)]


@pytest.mark.parametrize("profile", ["mek", "atom"])
def test_a_generated_office_year_reports_the_same_figures_rolled_up(db_url, profile):
    """Every grouping, every figure (p90 and shares included), over the year, a month and a
    stretch starting mid-day, equals the figures computed from the legs; visits too."""
    config = office_from_profile(profile, windows=4)
    tz = ZoneInfo(config.timezone)
    today = datetime.now(tz).date()
    now = datetime(today.year, today.month, today.day, 11, 0, tzinfo=tz)
    data = generate_office_year(db_url, config, 4000, now, seed=7)
    sessions = QueueDatabase(db_url, config).sessions
    year = (datetime.combine(datetime.fromisoformat(data["first_day"]).date(), datetime.min.time(), tz),
            now + timedelta(days=1))
    last_month = stats.month_bounds(*((today.replace(day=1) - timedelta(days=1)).timetuple()[:2]), tz)
    mid_day = (year[0] + timedelta(days=40, hours=13), now + timedelta(hours=2))
    with sessions() as s:
        assert rollup_days(s) == 0
        for start, end in (year, last_month, mid_day):
            for rolled in (True, True, False):        # built, then read back; then the legs
                got = stats.reports(s, config, start, end, stats.GROUPS, rolled=rolled)
                for group in stats.GROUPS:
                    assert [f.as_dict() for f in got[group]] == from_legs(s, config, start, end, group), group
                assert stats.visits(s, config, start, end, rolled=rolled) == stats.visits(s, config, start, end,
                                                                                          rolled=False)
        assert rollup_days(s) == data["days"] - 1 + (365 - data["days"])     # every closed day, open or not
        assert stats.visits(s, config, *year).count > 3000


def test_exact_sum_keeps_every_bit():
    import math
    import random
    rng = random.Random(3)
    values = [rng.expovariate(1 / 7) / 60 * 1e-3 ** rng.randint(0, 3) for _ in range(5000)]
    parts = [exact_sum(values[i:i + 37]) for i in range(0, len(values), 37)]
    assert math.fsum(p for part in parts for p in part) == math.fsum(values)


def test_kth_of_sorted_runs_is_the_kth_of_their_union():
    import random
    rng = random.Random(5)
    runs = [sorted(round(rng.expovariate(1 / 5), rng.choice((1, 2, 6))) for _ in range(rng.randint(0, 400)))
            for _ in range(60)]
    union = sorted(v for r in runs for v in r)
    for k in (0, 1, len(union) // 2, int(len(union) * 0.9), len(union) - 1):
        assert stats._kth(runs, k) == union[k]


def test_a_late_finish_after_midnight_rebuilds_the_closed_day(db_url):
    """The hub finishes a ticket of yesterday after midnight: yesterday's rollup (figures
    and visits) is deleted with the write and built again, with the finish in it."""
    db = QueueDatabase(db_url, make_config(windows=2))
    tz = ZoneInfo(db.config.timezone)
    day = datetime.now(tz).date() - timedelta(days=3)
    t0 = datetime(day.year, day.month, day.day, 17, 30, tzinfo=tz)
    db.transaction(lambda s, o: o.open(1, t0))
    db.transaction(lambda s, o: o.open(2, t0))
    for i, window in ((0, 1), (1, 2)):
        at = t0 + minutes(10 * i)
        db.transaction(lambda s, o, at=at: o.issue("A", at))
        db.transaction(lambda s, o, w=window, at=at: o.call_next(w, at + minutes(5)))
        db.transaction(lambda s, o, w=window, at=at: o.start(w, at + minutes(6)))
    db.transaction(lambda s, o: o.finish(1, t0 + minutes(20)))
    period = (t0 - timedelta(hours=17, minutes=30), t0 + timedelta(days=2))
    with db.sessions() as s:
        before = stats.report(s, db.config, *period)[0]
        assert before.served == 1 and rollup_days(s) == 2
        assert stats.visits(s, db.config, *period).count == 1 and rollup_days(s, "visits") == 2
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1)
    db.transaction(lambda s, o: o.finish(2, midnight + minutes(10)))      # the second ticket ends after midnight
    with db.sessions() as s:
        assert s.execute(select(LegRollupRow.day).where(LegRollupRow.part == "topic")).scalars().all() == [
            (day + timedelta(days=1)).isoformat()]
        after = stats.report(s, db.config, *period)[0]
        v = stats.visits(s, db.config, *period)
        assert rollup_days(s) == 2
        assert after.as_dict() == from_legs(s, db.config, *period, "topic")[0]
        assert v == stats.visits(s, db.config, *period, rolled=False)
    assert after.served == 2 and after.mean_service_min == pytest.approx((14 + 384) / 2, abs=0.01)      # 17:46 → 00:10
    assert v.count == 2


def test_two_readers_building_the_same_days_store_them_once(db_url):
    """Two reports at once over closed days nobody rolled up yet: both get the figures of
    the legs, and each day is stored once."""
    import threading
    db = QueueDatabase(db_url, make_config(windows=1))
    tz = ZoneInfo(db.config.timezone)
    day = datetime.now(tz).date() - timedelta(days=5)
    t0 = datetime(day.year, day.month, day.day, 10, tzinfo=tz)
    db.transaction(lambda s, o: o.open(1, t0))
    for i in range(4):
        at = t0 + minutes(15 * i)
        db.transaction(lambda s, o, at=at: o.issue("A", at))
        db.transaction(lambda s, o, at=at, i=i: o.call_next(1, at + minutes(1 + i)))
        db.transaction(lambda s, o, at=at, i=i: o.start(1, at + minutes(2 + i)))
        db.transaction(lambda s, o, at=at, i=i: o.finish(1, at + minutes(9 + i)))
    period = (t0 - timedelta(days=3), t0 + timedelta(days=3))
    got, start = [], threading.Barrier(2)

    def read():
        with db.sessions() as s:
            start.wait()
            got.append(([f.as_dict() for f in stats.report(s, db.config, *period)], stats.visits(s, db.config, *period)))
    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with db.sessions() as s:
        want = (from_legs(s, db.config, *period, "topic"), stats.visits(s, db.config, *period, rolled=False))
        days = s.execute(select(LegRollupRow.day, func.count()).group_by(LegRollupRow.day)).all()
    assert got == [want, want]
    assert len(days) == 5 and all(n == 7 for _day, n in days)       # the whole closed days: day−2 .. day+2
