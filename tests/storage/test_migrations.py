"""The Alembic revisions: one line of history, and the schema they build is the models'."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from storage.engine import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Base


def test_the_revisions_have_a_single_head():
    """Two helpers adding a revision on the same parent would leave two heads: ``upgrade head``
    then fails on every office."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads


def test_the_migrated_schema_is_the_models(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        names = {ix["name"] for ix in inspect(engine).get_indexes("presence")}
        assert "ix_presence_office_id" in names
        assert {"stuck_seq", "stuck_since", "stuck_reason"} <= {c["name"] for c in inspect(engine).get_columns("hq_offices")}
    finally:
        engine.dispose()


def test_the_head_office_revision_goes_down_and_up_again(db_url):
    from alembic import command

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        cfg = alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007")
        assert "ix_presence_office_id" not in {ix["name"] for ix in inspect(engine).get_indexes("presence")}
        upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()
