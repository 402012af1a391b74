"""Every storage test runs on SQLite and, when TALON_TEST_POSTGRES_URL is set, on PostgreSQL."""
import os

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("TALON_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'talon.db'}"
    if not PG_URL:
        pytest.skip("TALON_TEST_POSTGRES_URL is not set (CI sets it)")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL
