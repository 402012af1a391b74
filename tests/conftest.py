"""Process-wide test setup: Kivy renders offscreen, escpos keeps its cache in a temp dir;
``db_url``, a fresh database on SQLite and (when TALON_TEST_POSTGRES_URL is set) PostgreSQL."""
import os
import sys
import tempfile

import pytest
from sqlalchemy import create_engine, text

_tmp = tempfile.mkdtemp(prefix="talon-tests-")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", os.path.join(_tmp, "kivy"))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", os.path.join(_tmp, "escpos"))


@pytest.fixture(autouse=True)
def _kivy_event_loop_running():
    """A Kivy app test ends by closing the event loop, after which ``EventLoop.idle()``
    does nothing (no layout, blank screenshots). Reopen it for the next Kivy test."""
    base = sys.modules.get("kivy.base")
    if base is not None and base.EventLoop.quit:
        base.EventLoop.quit = False
        base.EventLoop.status = "started"
    yield


PG_URL = os.environ.get("TALON_TEST_POSTGRES_URL")


def fresh_postgres() -> str:
    """The test PostgreSQL with an empty public schema; skips the test where there is none."""
    if not PG_URL:
        pytest.skip("TALON_TEST_POSTGRES_URL is not set (CI sets it)")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """An empty database: an SQLite file, and the test PostgreSQL when there is one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'talon.db'}"
    return fresh_postgres()
