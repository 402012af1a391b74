from sqlalchemy import func, select

from storage.models import SettingRow
from tests.server.conftest import EXAMPLE, csrf_from


def count_settings(app) -> int:
    with app.extensions["talon"].sessions() as s:
        return s.execute(select(func.count(SettingRow.id))).scalar()


def post_toml(client, text, token=None):
    token = token if token is not None else csrf_from(client.get("/settings/").text)
    return client.post("/settings/", data={"toml": text, "csrf_token": token})


def test_settings_page_shows_toml_and_structure(client, auth):
    auth.login("admin")
    r = client.get("/settings/")
    assert r.status_code == 200
    assert 'id = &#34;mek-center&#34;' in r.text or "mek-center" in r.text
    assert "Темы обращений" in r.text and "Договоры" in r.text and "Окна" in r.text


def test_valid_change_is_saved_applied_and_pushed(app, client, auth):
    pushed = []
    app.config["ON_SETTINGS_SAVED"] = pushed.append
    auth.login("admin")
    text = EXAMPLE.read_text(encoding="utf-8").replace('name = "Консультация для населения"',
                                                      'name = "Консультации для жителей"')
    r = post_toml(client, text)
    assert r.status_code == 302
    assert "Сохранено." in client.get("/settings/").text
    assert count_settings(app) == 1
    assert app.extensions["talon"].config.topic("R").name_ru == "Консультации для жителей"
    assert len(pushed) == 1 and pushed[0].topic("R").name_ru == "Консультации для жителей"
    with app.extensions["talon"].sessions() as s:
        row = s.execute(select(SettingRow)).scalar_one()
    assert row.saved_by == "admin" and row.office == "mek-center" and "Консультации для жителей" in row.toml


def test_saved_settings_win_after_restart(app, client, auth, tmp_path):
    from server import create_app
    auth.login("admin")
    text = EXAMPLE.read_text(encoding="utf-8").replace('history = 8', 'history = 12')
    post_toml(client, text)
    again = create_app({"TESTING": True, "DATABASE_URL": str(app.extensions["talon"].engine.url),
                        "OFFICE_TOML": EXAMPLE.read_text(encoding="utf-8")})
    assert again.extensions["talon"].config.board_history == 12
    again.extensions["talon"].engine.dispose()


BROKEN = [
    ('topics = ["D", "O"]', 'topics = ["D"]', "topics[3]", "served by no window"),
    ('form = "admin"                 # wait 10 / service 5 (000:739-740)',
     'form = "admin"\nwait_norm_min = -5', "topics[0].wait_norm_min", "positive number of minutes"),
    ('topics = ["D", "O"]', 'topics = ["D", "Z"]', "windows[2].topics[1]", "unknown topic"),
    ('id = "mek-center"', 'id = "other-office"', "office.id", "Нельзя сменить идентификатор офиса"),
    ('[queue]', '[queue\n', "(file)", "not valid TOML"),
]


def test_breaking_changes_are_refused_with_key_and_nothing_saved(app, client, auth):
    pushed = []
    app.config["ON_SETTINGS_SAVED"] = pushed.append
    auth.login("admin")
    before = app.extensions["talon"].config
    for old, new, key, problem in BROKEN:
        text = EXAMPLE.read_text(encoding="utf-8").replace(old, new, 1)
        assert text != EXAMPLE.read_text(encoding="utf-8"), old
        r = post_toml(client, text)
        assert r.status_code == 400, key
        assert "Изменения не сохранены" in r.text and key in r.text and problem in r.text
        assert new.split("\n")[0] in r.text.replace("&#34;", '"')      # the admin's text stays in the form
    assert count_settings(app) == 0 and pushed == [] and app.extensions["talon"].config is before


def test_settings_without_csrf_token_saves_nothing(app, client, auth):
    auth.login("admin")
    r = client.post("/settings/", data={"toml": EXAMPLE.read_text(encoding="utf-8")})
    assert r.status_code == 400 and "Форма устарела" in r.text
    assert count_settings(app) == 0


def test_oversized_request_is_refused_and_nothing_saved(app, client, auth):
    auth.login("admin")
    token = csrf_from(client.get("/settings/").text)
    huge = EXAMPLE.read_text(encoding="utf-8") + "#" + "x" * (300 * 1024)
    r = client.post("/settings/", data={"toml": huge, "csrf_token": token})
    assert r.status_code == 413 and "Запрос слишком большой (не более 256 КБ)" in r.text
    assert count_settings(app) == 0


def test_settings_hook_failure_does_not_lose_the_save(app, client, auth):
    def broken_hook(config):
        raise RuntimeError("hub unreachable")
    app.config["ON_SETTINGS_SAVED"] = broken_hook
    auth.login("admin")
    assert post_toml(client, EXAMPLE.read_text(encoding="utf-8")).status_code == 302
    assert count_settings(app) == 1
