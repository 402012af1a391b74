"""Real Chromium through Playwright against the app served by werkzeug on a random port.

Chromium is Debian's (``chromium`` on PATH, or ``TALON_CHROMIUM``); ``playwright install``
is never needed. Screenshots go to ``TALON_SCREENSHOT_DIR`` when set (to look at them).
"""
import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from storage.queue_db import QueueDatabase
from tests.server.conftest import EXAMPLE, NOW, PASSWORDS, make_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("TALON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


@pytest.fixture
def server(sim_db_file, tmp_path):
    path = tmp_path / "talon.db"
    shutil.copy(sim_db_file, path)
    app = make_app(path, EXAMPLE.read_text(encoding="utf-8"), SSE_MAX_EVENTS=0, SSE_INTERVAL_S=1.0)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    app.extensions["talon"].engine.dispose()


@pytest.fixture
def page(tmp_path):
    if not CHROMIUM:
        pytest.skip("no chromium on PATH (set TALON_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True, locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()


def shot(page, tmp_path, name):
    folder = Path(os.environ.get("TALON_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def login(page, base, user, password):
    page.goto(base + "/auth/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button.primary")


def test_wrong_password_shows_the_message(server, page, tmp_path):
    _app, base = server
    login(page, base, "admin", "not-the-password")
    expect = playwright_api.expect
    expect(page.locator("#login-error")).to_have_text("Неверное имя пользователя или пароль.")
    shot(page, tmp_path, "login-wrong-password")


def test_dashboard_updates_live_when_a_ticket_is_issued(server, page, tmp_path):
    app, base = server
    expect = playwright_api.expect
    login(page, base, "head", PASSWORDS["head"])
    expect(page.locator("h1")).to_contain_text("МЭК")
    expect(page.locator("#status-dot.live")).to_be_visible()         # the SSE stream is connected
    expect(page.locator("#total-waiting")).to_have_text("0")
    b = app.extensions["talon"]
    db = QueueDatabase(str(b.engine.url), b.config)
    db.transaction(lambda s, o: o.sign_in(1, "ivanova", NOW - timedelta(minutes=40)))
    db.transaction(lambda s, o: o.issue("R", NOW - timedelta(minutes=30), enforce_hours=False))
    db.transaction(lambda s, o: o.issue("A", NOW - timedelta(minutes=12), enforce_hours=False))
    db.transaction(lambda s, o: o.call_next(1, NOW - timedelta(minutes=8)))
    db.transaction(lambda s, o: o.start(1, NOW - timedelta(minutes=7)))
    db.transaction(lambda s, o: o.issue("K", NOW - timedelta(minutes=2), enforce_hours=False))
    db.close()
    expect(page.locator("#total-waiting")).to_have_text("2")         # no reload: pushed by SSE
    expect(page.locator("#windows tbody tr").first).to_contain_text("ivanova")
    expect(page.locator("#alerts li.crit, #alerts li.warn").first).to_be_visible()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    shot(page, tmp_path, "dashboard-live")


def test_report_page_and_csv_download(server, page, tmp_path):
    _app, base = server
    expect = playwright_api.expect
    login(page, base, "head", PASSWORDS["head"])
    page.goto(base + "/reports/summary?period=week&date=2026-11-16")
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.locator("table.report").first).to_contain_text("нормативу")
    shot(page, tmp_path, "report-summary")
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert download.suggested_filename.endswith(".csv")
    assert "Сводный отчёт" in text and "Среднее время ожидания в очереди" in text
    page.goto(base + "/reports/monthly/print?month=2026-11")
    expect(page.locator("h1")).to_contain_text("Отчёт за месяц (накопительным итогом)")
    shot(page, tmp_path, "report-monthly-print")


def test_bad_period_and_settings_error_in_the_browser(server, page, tmp_path):
    _app, base = server
    expect = playwright_api.expect
    login(page, base, "admin", PASSWORDS["admin"])
    page.goto(base + "/reports/summary?period=custom&from=2026-11-20&to=2026-11-01")
    expect(page.locator("#report-error")).to_contain_text("дата начала позже даты окончания")
    page.goto(base + "/settings/")
    text = page.locator("textarea[name=toml]").input_value()
    page.locator("textarea[name=toml]").fill(text.replace('topics = ["D", "O"]', 'topics = ["D"]'))
    page.click("button.primary")
    expect(page.locator("#settings-error")).to_contain_text("topics[3]")
    shot(page, tmp_path, "settings-error")
