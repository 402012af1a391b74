"""``storage.batch_store``'s PostgreSQL statements of arrays write what the ordinary statements
write, and step aside where they cannot (tests/hq/test_ingest.py checks whole office days)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import batch_store
from storage.engine import init_db, make_engine
from storage.models import WindowRow
from storage.store import INSERT_WINDOW, UPDATE_WINDOW
from tests.conftest import fresh_postgres


@pytest.fixture
def pg():
    engine = make_engine(fresh_postgres())
    init_db(engine)
    yield engine
    engine.dispose()


def _window(office: str, number: int, **values) -> dict:
    row = dict(state="closed", break_kind=None, operator=None, ticket=None, priority_streak=0, last_finished=None)
    return dict(office=office, number=number, **{**row, **values})


def _windows(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(select(WindowRow).order_by(WindowRow.office, WindowRow.number)
                                           .with_only_columns(*WindowRow.__table__.c))]


def _updates(rows: list[dict]) -> list[dict]:
    return [dict(w_office=r.pop("office"), w_number=r.pop("number"), **r) for r in rows]


@pytest.mark.postgres
def test_an_update_of_arrays_writes_what_the_statement_per_row_writes(pg):
    changes = [_window("a", 1, state="open", operator="ivanova", ticket="A001", priority_streak=2),
               _window("b", 1, state="paused", break_kind="lunch", last_finished="R007")]
    results = []
    for by_arrays in (False, True):
        with pg.begin() as conn:
            conn.execute(WindowRow.__table__.delete())
            conn.execute(INSERT_WINDOW, [_window("a", 1), _window("a", 2), _window("b", 1)])
            rows = _updates([dict(c) for c in changes])
            if by_arrays:
                assert batch_store._update_arrays(conn, batch_store._WINDOW_KEY, rows)
            else:
                conn.execute(UPDATE_WINDOW, rows)
            results.append(_windows(conn))
    assert results[0] == results[1]
    assert [r[2] for r in results[1]] == ["open", "closed", "paused"]


@pytest.mark.postgres
def test_two_updates_of_one_row_are_left_to_the_statement_per_row(pg):
    with pg.begin() as conn:
        conn.execute(INSERT_WINDOW, [_window("a", 1)])
        rows = _updates([_window("a", 1, state="open"), _window("a", 1, state="paused", break_kind="lunch")])
        assert not batch_store._update_arrays(conn, batch_store._WINDOW_KEY, rows)
        assert [r[2] for r in _windows(conn)] == ["closed"]       # nothing written: the caller writes them in order


@pytest.mark.postgres
def test_an_insert_of_arrays_steps_aside_for_a_column_with_a_default_of_its_own(pg):
    with pg.begin() as conn:
        row = _window("a", 1)
        del row["priority_streak"]                                # insert() would fill in its default (0)
        assert batch_store._insert_arrays(conn, WindowRow.__table__, [row]) is None
        assert _windows(conn) == []
        assert batch_store._insert_arrays(conn, WindowRow.__table__, [_window("a", 1, state="open")]) is True
        assert [r[2] for r in _windows(conn)] == ["open"]
