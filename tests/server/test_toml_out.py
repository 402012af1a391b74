import pytest

from queue_core.config import office_from_profile, parse_office_toml
from server.toml_out import config_to_toml
from tests.server.conftest import EXAMPLE, TINY_TOML, make_app


@pytest.mark.parametrize("config", [
    parse_office_toml(EXAMPLE.read_text(encoding="utf-8")), parse_office_toml(TINY_TOML),
    office_from_profile("mek", windows=4), office_from_profile("atom", windows=2, policy="fifo"),
    office_from_profile("oek", windows=3)], ids=["example", "tiny", "mek", "atom", "oek"])
def test_config_round_trips_through_toml(config):
    assert parse_office_toml(config_to_toml(config)) == config


def test_settings_page_edits_an_office_given_as_an_object(sim_db_file, tmp_path):
    """The hub hands the app an OfficeConfig, not a file: the page still shows editable TOML."""
    import shutil

    from server import create_app
    from tests.server.conftest import AuthActions
    shutil.copy(sim_db_file, tmp_path / "t.db")
    seeded = make_app(tmp_path / "t.db", EXAMPLE.read_text(encoding="utf-8"))   # adds the users
    seeded.extensions["talon"].engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
                      "OFFICE_CONFIG": parse_office_toml(EXAMPLE.read_text(encoding="utf-8"))})
    c = app.test_client()
    AuthActions(c).login("admin")
    page = c.get("/settings/").text
    assert "[[windows]]" in page and "mek-center" in page
    app.extensions["talon"].engine.dispose()
