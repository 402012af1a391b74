"""Real Chromium through Playwright against the app served by werkzeug on a random port.

Chromium is Debian's (``chromium`` on PATH, or ``TALON_CHROMIUM``); ``playwright install``
is never needed. Screenshots go to ``TALON_SCREENSHOT_DIR`` when set (to look at them).
"""
import csv
import io
import os
import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from storage.models import PresenceRow
from storage.queue_db import QueueDatabase
from tests.server.conftest import ARGS, CHROMIUM, EXAMPLE, NOW, PASSWORDS, make_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")


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


def test_staff_acknowledge_a_call_for_staff_on_the_dashboard(server, page, tmp_path):
    app, base = server
    expect = playwright_api.expect
    b = app.extensions["talon"]
    with b.sessions.begin() as s:
        s.add(PresenceRow(office=b.config.office_id, device="kiosk9", at=NOW - timedelta(minutes=1), state="help"))
    login(page, base, "oper", PASSWORDS["oper"])
    alert = page.locator("#alerts li[data-kind=help]")
    expect(alert).to_contain_text("kiosk9")
    alert.locator("button.ack").click()
    expect(page.locator("#alerts li[data-kind=help]")).to_have_count(0)
    page.reload()                                        # stored: gone for everyone
    expect(page.locator("#status-dot.live")).to_be_visible()
    expect(page.locator("#alerts li[data-kind=help]")).to_have_count(0)


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
    page.click("#toml-form button.primary")
    expect(page.locator("#settings-error")).to_contain_text("Тема 4 (O) — тему 'O' не обслуживает ни одно окно")
    shot(page, tmp_path, "settings-error")


# --------------------------------------------------------------------------- through a real hub
@pytest.fixture
def office_hub():
    """``OfficeRuntime`` as ``talon hub`` runs it: mosquitto, the dispatcher and the web on free
    ports; a kiosk and a counter provisioned; an office open around the clock, whose clock
    reads a quarter past noon today so the test never meets the closing hour."""
    from bench.harness import office_toml
    from hub.brokers import find_mosquitto
    from hub.runtime import OfficeRuntime, RuntimeSettings
    from queue_core.config import parse_office_toml
    from server.serve import start_office_web
    from server.users import add_user
    from storage import directory
    from tests.mqtt_fixtures import broker_dir, free_port

    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    config = parse_office_toml(office_toml(2))
    tz = ZoneInfo(config.timezone)
    real = datetime.now(tz)
    shift = real.replace(hour=12, minute=15, second=0, microsecond=0) - real
    folder = Path(broker_dir())                     # mosquitto (its own user) must reach its files
    runtime = OfficeRuntime(RuntimeSettings(
        config=config, data_dir=folder, database_url=f"sqlite:///{folder / 'talon.db'}", broker_kind="mosquitto",
        port=free_port(), web_port=free_port(), clock=lambda: datetime.now(tz) + shift), start_web=start_office_web)
    with runtime.db.sessions() as s, s.begin():
        runtime.passwords = {"kiosk-1": directory.add_device(s, config.office_id, "kiosk-1", "kiosk"),
                             "counter-1": directory.add_device(s, config.office_id, "counter-1", "counter", window=1)}
        add_user(s, "head", PASSWORDS["head"], "head")
    runtime.start()
    clients = []

    def client(device: str, role: str):
        from broker.client import HubClient
        c = HubClient(runtime.broker_url, config.office_id, device, role, password=runtime.passwords[device])
        clients.append(c)
        c.start()
        assert c.wait_ready(10), f"{device} did not connect to the broker"
        return c

    runtime.client = client
    yield runtime
    for c in clients:
        c.stop()
    runtime.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.e2e
def test_live_dashboard_report_and_exports_through_a_real_hub(office_hub, page, tmp_path):
    """Log in, see the dashboard update live when a kiosk issues a ticket through the hub,
    open a report, download its CSV and XLSX and read them back."""
    from openpyxl import load_workbook

    expect = playwright_api.expect
    base = f"http://127.0.0.1:{office_hub.web.port}"
    login(page, base, "head", PASSWORDS["head"])
    expect(page.locator("h1")).to_contain_text("Bench office")
    expect(page.locator("#status-dot.live")).to_be_visible()          # the event stream is connected
    expect(page.locator("#total-waiting")).to_have_text("0")

    counter = office_hub.client("counter-1", "counter")
    counter.request("open", {"window": 1}, timeout=10)               # a window must be open to issue
    kiosk = office_hub.client("kiosk-1", "kiosk")
    ticket = kiosk.request("issue", {"topic": "A", "kind": "walk_in"}, timeout=10)["ticket"]

    expect(page.locator("#total-waiting")).to_have_text("1")          # pushed, no reload
    expect(page.locator("#topics")).to_contain_text(ticket["number"])
    expect(page.locator("#windows tbody tr").first).to_contain_text("открыто")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    shot(page, tmp_path, "hub-dashboard-live")

    day = office_hub.hub.dispatcher.clock().date().isoformat()
    page.goto(f"{base}/reports/summary?period=day&date={day}")
    expect(page.locator("table.report").first).to_contain_text("Обслуживание администратором")
    shot(page, tmp_path, "hub-report-summary")

    with page.expect_download() as info:
        page.click("#export-csv")
    csv_file = info.value
    assert csv_file.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(csv_file.path()).read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Сводный отчёт"
    header = next(r for r in rows if r and r[0] == "По теме обращения")
    topic_row = next(r for r in rows if r and r[0].startswith("А — "))
    assert topic_row[header.index("Талонов")] == "1"

    with page.expect_download() as info:
        page.click("#export-xlsx")
    xlsx_file = info.value
    assert xlsx_file.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(xlsx_file.path()).read_bytes()), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Сводный отчёт"
    header = values[2]
    topic_row = next(r for r in values[3:] if r[0] and str(r[0]).startswith("А — "))
    assert topic_row[header.index("Талонов")] == 1                   # numbers stay numbers
