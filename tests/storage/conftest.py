"""Every storage test runs on SQLite and, when TALON_TEST_POSTGRES_URL is set, on PostgreSQL
(``db_url``, tests/conftest.py)."""
import pytest

from storage.queue_db import QueueDatabase
from tests.queue_core.helpers import MONDAY_10, make_config, minutes


def serve(db, window, topic, issued, called, started, finished):
    """One visit from issue to finish, each step in its own transaction (as the hub runs them)."""
    t, _ = db.transaction(lambda s, o: o.issue(topic, issued))
    db.transaction(lambda s, o: o.call_next(window, called))
    db.transaction(lambda s, o: o.start(window, started))
    db.transaction(lambda s, o: o.finish(window, finished))
    return t


@pytest.fixture
def small_day(db_url):
    """Three served A tickets (waits 4, 8, 15; services 3, 5, 7), one no-show, one R ticket."""
    db = QueueDatabase(db_url, make_config(windows=1))
    t0 = MONDAY_10
    db.transaction(lambda s, o: o.open(1, t0))
    serve(db, 1, "A", t0, t0 + minutes(4), t0 + minutes(5), t0 + minutes(8))
    serve(db, 1, "A", t0 + minutes(2), t0 + minutes(10), t0 + minutes(10), t0 + minutes(15))
    serve(db, 1, "A", t0 + minutes(5), t0 + minutes(20), t0 + minutes(21), t0 + minutes(28))
    db.transaction(lambda s, o: o.issue("A", t0 + minutes(29)))
    db.transaction(lambda s, o: o.call_next(1, t0 + minutes(30)))
    db.transaction(lambda s, o: o.no_show(1, t0 + minutes(32)))
    serve(db, 1, "R", t0 + minutes(30), t0 + minutes(33), t0 + minutes(33), t0 + minutes(45))
    return db
