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


# the place as a person sees it (counted from one, the topic's code, the window's number), in Russian
BROKEN = [
    ('topics = ["D", "O"]', 'topics = ["D"]', "Тема 4 (O)", "тему 'O' не обслуживает ни одно окно"),
    ('form = "admin"                 # wait 10 / service 5 (000:739-740)',
     'form = "admin"\nwait_norm_min = -5', "Тема 1 (A): норматив ожидания, мин", "нужно положительное число минут"),
    ('topics = ["D", "O"]', 'topics = ["D", "Z"]', "Окно 3: темы, 2-я запись", "неизвестная тема 'Z'"),
    ('id = "mek-center"', 'id = "other-office"', "Офис: идентификатор", "Нельзя сменить идентификатор офиса"),
    ('[queue]', '[queue\n', "Файл настроек", "ошибка в записи файла (TOML)"),
    ('name = "Офис-центр', 'name = "' + "Очень длинное название " * 450 + 'Офис-центр', "Офис: название",
     "длиннее 120 символов"),          # a pasted page once stretched the dashboard to 189,264 px
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
        assert "Изменения не сохранены" in r.text and key in r.text and problem in r.text.replace("&#39;", "'")
        assert "[" not in r.text.split("Изменения не сохранены")[1].split("</p>")[0]    # no topics[0]
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


def form_fields(html: str) -> dict[str, str]:
    """The settings form's inputs as a browser would send them back unchanged."""
    import html as html_lib
    import re
    form = html[html.index('id="settings-form"'):html.index("</form>", html.index('id="settings-form"'))]
    out = {m.group(1): html_lib.unescape(m.group(2))
           for m in re.finditer(r'<input name="([^"]+)" value="([^"]*)"', form)}
    out.update({m.group(1): html_lib.unescape(m.group(2))
                for m in re.finditer(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', form)})
    return out


def test_settings_form_saves_names_and_norms_with_a_decimal_comma(app, client, auth):
    pushed = []
    app.config["ON_SETTINGS_SAVED"] = pushed.append
    auth.login("admin")
    page = client.get("/settings/").text
    data = form_fields(page)
    assert data["office.name"] == "Офис-центр ООО «МЭК»" and data["topics[1].name"] == "Консультация для населения"
    data.update({"office.name": "Офис на Ленина", "topics[1].wait_norm_min": "12,5", "topics[3].service_norm_min": "",
                 "board.notice": "Обед с 12:00 до 12:45", "mode": "form", "csrf_token": csrf_from(page)})
    r = client.post("/settings/", data=data)
    assert r.status_code == 302, r.text[:2000]
    config = app.extensions["talon"].config
    assert config.name_ru == "Офис на Ленина" and config.topic("R").wait_norm_min == 12.5
    assert config.topics[3].service_norm_min is None and config.notice_ru == "Обед с 12:00 до 12:45"
    assert config.topic("A").wait_norm_min == 10 and len(pushed) == 1 and count_settings(app) == 1
    assert 'value="12,5"' in client.get("/settings/").text or 'value="12.5"' in client.get("/settings/").text


def test_settings_form_refuses_a_bad_value_naming_its_field_and_keeps_the_input(app, client, auth):
    auth.login("admin")
    page = client.get("/settings/").text
    before = app.extensions["talon"].config
    for key, value, words in [("topics[0].slot_min", "1", "Тема 1 (A): слот записи, мин — должно быть от 5 до 240"),
                              ("topics[2].wait_norm_min", "десять", "Тема 3 (D): норматив ожидания, мин — нужно"),
                              ("office.name", "Я" * 10_240, "Офис: название — длиннее 120 символов (10240)")]:
        data = dict(form_fields(page), mode="form", csrf_token=csrf_from(page))
        data[key] = value
        r = client.post("/settings/", data=data)
        assert r.status_code == 400 and words in r.text, key
        start = r.text.index(f'name="{key}"')
        field = r.text[start:r.text.index("</label>", start)]
        assert f'value="{value}"' in field or f">{value}<" in field
        assert 'aria-invalid="true"' in field
    assert count_settings(app) == 0 and app.extensions["talon"].config is before
