import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from queue_core.errors import NoTicket
from queue_core.model import TicketKind, TicketState
from storage.models import EventRow, LegRow, TicketRow
from storage.queue_db import QueueDatabase
from tests.queue_core.helpers import MONDAY_10, make_config, minutes


def busy_morning(db: QueueDatabase) -> None:
    t = MONDAY_10
    for w in (1, 2, 3):
        db.transaction(lambda s, o, w=w: o.open(w, t))
    for i in range(6):
        db.transaction(lambda s, o, i=i: o.issue("AR"[i % 2], t + minutes(i)))
    db.transaction(lambda s, o: o.issue("A", t + minutes(7), TicketKind.PRIORITY))
    db.transaction(lambda s, o: o.call_next(1, t + minutes(8)))
    db.transaction(lambda s, o: o.start(1, t + minutes(9)))
    db.transaction(lambda s, o: o.finish(1, t + minutes(12)))
    db.transaction(lambda s, o: o.call_next(2, t + minutes(13)))
    db.transaction(lambda s, o: o.transfer(2, t + minutes(14), topic="C"))
    db.transaction(lambda s, o: o.call_next(3, t + minutes(15)))


def test_restart_rebuilds_the_same_live_office(db_url):
    db = QueueDatabase(db_url, make_config())
    busy_morning(db)
    before = db.office.digest()
    db.close()
    again = QueueDatabase(db_url, make_config())
    assert again.office.digest() == before
    # numbering continues without gaps or repeats after the restart
    (t, _) = again.transaction(lambda s, o: o.issue("A", MONDAY_10 + minutes(30)))
    assert t.number == "А005"


def test_event_log_is_complete_and_ordered(db_url):
    db = QueueDatabase(db_url, make_config())
    busy_morning(db)
    with db.sessions() as s:
        seqs = s.execute(select(EventRow.seq).order_by(EventRow.id)).scalars().all()
    assert seqs == list(range(1, db.office.seq + 1))


def test_timings_are_stored_on_legs(db_url):
    db = QueueDatabase(db_url, make_config())
    busy_morning(db)
    with db.sessions() as s:
        leg = s.execute(select(LegRow).where(LegRow.outcome == "done")).scalar_one()
        transferred = s.execute(select(TicketRow).where(TicketRow.number == "А001")).scalar_one()
        legs = [(g.outcome, g.topic, g.window) for g in transferred.legs]
    assert (leg.wait_s, leg.walk_s, leg.service_s) == (8 * 60.0 - 7 * 60.0, 60.0, 180.0)  # priority А004 at 7
    # А001 was transferred from window 2 to topic C, then window 3 called it (original issue time kept)
    assert legs == [("transferred", "A", 2), (None, "C", 3)]
    assert transferred.state == TicketState.CALLED


def test_refused_operation_changes_nothing(db_url):
    db = QueueDatabase(db_url, make_config())
    busy_morning(db)
    with db.sessions() as s:
        events_before = s.execute(select(func.count(EventRow.id))).scalar()
    with pytest.raises(NoTicket):
        db.transaction(lambda s, o: o.finish(2, MONDAY_10))
    with db.sessions() as s:
        assert s.execute(select(func.count(EventRow.id))).scalar() == events_before


def test_failed_commit_reloads_memory_from_database(db_url):
    db = QueueDatabase(db_url, make_config())
    busy_morning(db)
    before = db.office.digest()

    def issue_then_crash(session, office):
        office.issue("A", MONDAY_10 + minutes(40))
        raise RuntimeError("disk unplugged")

    with pytest.raises(RuntimeError):
        db.transaction(issue_then_crash)
    assert db.office.digest() == before


def test_database_refuses_a_duplicate_number(db_url):
    db = QueueDatabase(db_url, make_config())
    busy_morning(db)
    with db.sessions() as s, pytest.raises(IntegrityError):
        with s.begin():
            row = s.execute(select(TicketRow).limit(1)).scalar_one()
            s.add(TicketRow(office=row.office, day=row.day, number=row.number, seq_no=row.seq_no,
                            issue_topic=row.issue_topic, kind="walk_in", state="waiting", issued_at=row.issued_at))


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    db = QueueDatabase(f"sqlite:///{tmp_path / 't.db'}", make_config())
    with db.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 2   # FULL


def test_committed_ticket_survives_a_killed_process(tmp_path):
    """The process dies right after the commit (os._exit: no cleanup, no checkpoint)."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    script = textwrap.dedent(f"""
        import os
        from storage.queue_db import QueueDatabase
        from tests.queue_core.helpers import MONDAY_10, make_config
        db = QueueDatabase({url!r}, make_config())
        db.transaction(lambda s, o: o.open(1, MONDAY_10))
        db.transaction(lambda s, o: o.issue("A", MONDAY_10))
        os._exit(9)
    """)
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    db = QueueDatabase(url, make_config())
    assert list(db.office.tickets) == ["А001"]


def test_migrations_upgrade_a_database_from_the_first_schema(db_url):
    """An office on the first schema keeps its tickets through every later migration."""
    from sqlalchemy import inspect

    from storage.engine import make_engine
    from storage.migrate import upgrade
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(text("INSERT INTO tickets (office, day, number, seq_no, issue_topic, kind, state, issued_at, "
                       "people_ahead) VALUES ('test', '2026-11-23', 'А001', 1, 'A', 'walk_in', 'waiting', 0, 0)"))
    upgrade(engine)
    names = {ix["name"] for ix in inspect(engine).get_indexes("tickets")}
    assert "ix_tickets_office_state" in names
    with engine.connect() as c:
        assert c.execute(text("SELECT number FROM tickets")).scalar() == "А001"
    engine.dispose()
