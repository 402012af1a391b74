"""flaskr-style fixtures: a fresh app per test on a temporary SQLite file.

The simulated database is made once per session (three office days of the example
office) and copied for each test, so every test starts from the same data.
"""
import os
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_core.config import parse_office_toml
from server import create_app
from server.db import session_scope
from server.users import add_user

EXAMPLE = Path(__file__).parents[2] / "docs" / "office.example.toml"
TZ = ZoneInfo("Asia/Yekaterinburg")
SIM_START = date(2026, 11, 16)                          # Monday; three days simulated
NOW = datetime(2026, 11, 19, 11, 0, tzinfo=TZ)          # "now" for every test app
PASSWORDS = {"oper": "oper-pass-1", "head": "head-pass-1", "admin": "admin-pass-1"}
ROLES = {"oper": "operator", "head": "head", "admin": "admin"}
API_TOKEN = "test-token-0123456789"
# Debian's Chromium, driven by Playwright (``playwright install`` is never needed)
CHROMIUM = os.environ.get("TALON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]

TINY_TOML = """
[office]
id = "test"
name = "Тестовый офис"
timezone = "Asia/Yekaterinburg"
profile = "mek"

[[topics]]
code = "A"
form = "admin"

[[topics]]
code = "R"
form = "oprsn"

[[topics]]
code = "C"
form = "osir_reports"

[[windows]]
number = 1
topics = ["A", "R", "C"]

[calendar]
hours = { mon = "08:00-20:00", tue = "08:00-20:00", wed = "08:00-20:00", thu = "08:00-20:00", fri = "08:00-20:00" }
breaks = ["13:00-13:30"]

[queue]
policy = "fifo"
"""


@pytest.fixture(scope="session")
def sim_db_file(tmp_path_factory):
    from simulation.simulator import simulate
    from simulation.workload import Workload
    from storage.queue_db import QueueDatabase

    path = tmp_path_factory.mktemp("sim") / "talon.db"
    db = QueueDatabase(f"sqlite:///{path}", parse_office_toml(EXAMPLE.read_text(encoding="utf-8")))
    simulate(db, 3, SIM_START, Workload(load=0.8))
    db.close()
    return path


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a test module's pages; skips where there is none."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM:
        pytest.skip("no chromium on PATH (set TALON_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def make_app(db_path: Path, toml: str, **extra):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": f"sqlite:///{db_path}",
                      "OFFICE_TOML": toml, "CLOCK": lambda: NOW, "API_TOKENS": (API_TOKEN,),
                      "SSE_INTERVAL_S": 0.05, "SSE_MAX_EVENTS": 2, **extra})
    with app.app_context(), session_scope(write=True) as s:
        for name, password in PASSWORDS.items():
            add_user(s, name, password, ROLES[name])
    return app


@pytest.fixture
def app(sim_db_file, tmp_path):
    path = tmp_path / "talon.db"
    shutil.copy(sim_db_file, path)
    app = make_app(path, EXAMPLE.read_text(encoding="utf-8"))
    yield app
    app.extensions["talon"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def token(self, path="/auth/login"):
        return csrf_from(self._client.get(path).text)

    def login(self, username="admin", password=None):
        password = PASSWORDS.get(username, "x") if password is None else password
        return self._client.post("/auth/login", data={"username": username, "password": password,
                                                      "csrf_token": self.token()})

    def logout(self):
        return self._client.post("/auth/logout", data={"csrf_token": self.token("/")})


@pytest.fixture
def auth(client):
    return AuthActions(client)
