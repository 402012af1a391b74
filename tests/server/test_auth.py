import pytest
from sqlalchemy import select

from server import create_app
from storage.models import UserRow
from tests.server.conftest import EXAMPLE, NOW, PASSWORDS, csrf_from


def test_login_page_is_russian_first(client):
    r = client.get("/auth/login")
    assert r.status_code == 200 and "Вход" in r.text and "Имя пользователя" in r.text


def test_english_switch_is_kept_in_the_session(client):
    assert "Log in" in client.get("/auth/login?lang=en").text
    assert "Username" in client.get("/auth/login").text
    assert "Имя пользователя" in client.get("/auth/login?lang=ru").text


@pytest.mark.parametrize("username", ["oper", "head", "admin"])
def test_login_each_role(client, auth, username):
    r = auth.login(username)
    assert r.status_code == 302 and r.location == "/"
    assert username in client.get("/").text


def test_wrong_password_shows_message(client, auth):
    r = auth.login("admin", "wrong-password")
    assert r.status_code == 401
    assert "Неверное имя пользователя или пароль." in r.text
    assert client.get("/").status_code == 302            # still not logged in


def test_login_is_rate_limited_per_ip_and_user(app, client, auth):
    for _i in range(5):
        assert auth.login("admin", "wrong-password").status_code == 401
    r = auth.login("admin")                               # the right password is refused while locked
    assert r.status_code == 429
    assert "Слишком много неудачных попыток входа" in r.text and "60 с" in r.text
    assert auth.login("head").status_code == 302         # another username is not locked
    app.config["CLOCK"] = lambda: NOW.replace(minute=NOW.minute + 1, second=1)   # 61 s later
    assert auth.login("admin").status_code == 302


def test_no_default_user_exists(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                      "OFFICE_TOML": EXAMPLE.read_text(encoding="utf-8")})
    c = app.test_client()
    token = csrf_from(c.get("/auth/login").text)
    for user, password in [("admin", "admin"), ("admin", ""), ("root", "root")]:
        r = c.post("/auth/login", data={"username": user, "password": password, "csrf_token": token})
        assert r.status_code == 401
    from server.db import session_scope
    with app.app_context(), session_scope() as s:
        assert s.execute(select(UserRow)).first() is None


def test_passwords_are_stored_hashed(app):
    from server.db import session_scope
    with app.app_context(), session_scope() as s:
        row = s.get(UserRow, "admin")
    assert PASSWORDS["admin"] not in row.password_hash and row.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_post_without_csrf_token_is_refused(client):
    client.get("/auth/login")
    r = client.post("/auth/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert r.status_code == 400 and "Форма устарела" in r.text
    assert client.get("/").status_code == 302             # nothing happened: not logged in


def test_post_with_wrong_csrf_token_is_refused(client, auth):
    auth.login("admin")
    r = client.post("/auth/logout", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert client.get("/").status_code == 200             # still logged in


def test_logout(client, auth):
    auth.login("head")
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_session_cookie_flags(client, auth):
    r = auth.login("admin")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_is_configurable(sim_db_file, tmp_path):
    import shutil

    from tests.server.conftest import make_app
    shutil.copy(sim_db_file, tmp_path / "t.db")
    app = make_app(tmp_path / "t.db", EXAMPLE.read_text(encoding="utf-8"), SESSION_COOKIE_SECURE=True)
    c = app.test_client()
    r = c.get("/auth/login")
    assert "Secure" in r.headers["Set-Cookie"]


def test_next_parameter_cannot_redirect_off_site(client, auth):
    token = auth.token()
    r = client.post("/auth/login?next=//evil.example/x", data={"username": "head", "password": PASSWORDS["head"],
                                                              "csrf_token": token})
    assert r.location == "/"
    auth.logout()
    token = auth.token()
    r = client.post("/auth/login?next=/reports/summary", data={"username": "head", "password": PASSWORDS["head"],
                                                              "csrf_token": token})
    assert r.location == "/reports/summary"


ROUTES = [("/", "operator"), ("/snapshot.json", "operator"), ("/events/stream", "operator"),
          ("/reports/summary", "head"), ("/reports/monthly", "head"), ("/reports/disclosure", "head"),
          ("/reports/csat", "head"), ("/reports/operators", "head"), ("/reports/noshows", "head"),
          ("/reports/downtime", "head"), ("/reports/summary.csv", "head"), ("/reports/summary.xlsx", "head"),
          ("/reports/monthly/print", "head"), ("/settings/", "admin")]
RANK = {"operator": 0, "head": 1, "admin": 2}


@pytest.mark.parametrize("path, needed", ROUTES)
def test_anonymous_is_sent_to_login(client, path, needed):
    r = client.get(path)
    assert r.status_code == 302 and r.location.startswith("/auth/login")


@pytest.mark.parametrize("user", ["oper", "head", "admin"])
@pytest.mark.parametrize("path, needed", ROUTES)
def test_every_route_and_role(client, auth, user, path, needed):
    from tests.server.conftest import ROLES
    auth.login(user)
    r = client.get(path)
    if RANK[ROLES[user]] >= RANK[needed]:
        assert r.status_code == 200, r.text[:500]
    else:
        assert r.status_code == 403 and "Недостаточно прав" in r.text


def test_public_booking_page_needs_no_login(client):
    assert client.get("/book").status_code == 200


def test_error_pages_speak_russian_and_english_on_request(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "Страница не найдена" in r.text and 'lang="ru"' in r.text
    assert "Not Found" not in r.text and "requested URL" not in r.text
    r = client.get("/no-such-page?lang=en")
    assert r.status_code == 404 and "Page not found" in r.text
    client.get("/?lang=ru")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = client.get("/boom")
    assert r.status_code == 500 and "На сервере произошла ошибка" in r.text and "Internal Server Error" not in r.text


def test_the_demo_login_opens_every_page(tmp_path):
    """The demo makes its web user an admin: settings are the admin's (server/auth.py), and
    whoever runs the demo owns the office."""
    from types import SimpleNamespace

    from simulation.demo_cli import _web_login
    from storage.engine import init_db, make_engine, make_sessionmaker
    from storage.users import get

    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    init_db(engine)
    sessions = make_sessionmaker(engine)
    user, _password = _web_login(SimpleNamespace(runtime=SimpleNamespace(db=SimpleNamespace(sessions=sessions))))
    with sessions() as s:
        assert get(s, user).role == "admin"
    engine.dispose()
