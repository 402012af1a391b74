"""Every web page on the screens it is used on: an office monitor (1366×768) and a phone (390×844).

Real Chromium through Playwright (as ``test_browser.py``). For each page, logged in with the
role that opens it: nothing scrolls the page sideways, the menu and «Выйти» can be reached
(at once or after the menu button), and axe-core (``axe-playwright-python`` ships it) finds
no serious or critical accessibility problem. Screenshots of every page at both sizes go to
``TALON_SCREENSHOT_DIR`` when it is set, to look at them.
"""
import csv
import io
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.server.conftest import EXAMPLE, PASSWORDS, make_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
SCREENS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
DAY = "period=day&date=2026-11-16"
# name, who logs in (None: nobody), address, the menu entries that user must reach
PAGES = [
    ("login", None, "/auth/login", ["Запись"]),
    ("book", None, "/book?topic=R&date=2026-11-20", ["Запись"]),
    ("not-found", None, "/no-such-page", ["Запись"]),
    ("dashboard", "oper", "/", ["Очередь сейчас", "Запись"]),
    ("report-summary", "head", "/reports/summary?period=week&date=2026-11-16", ["Очередь сейчас", "Отчёты"]),
    ("report-monthly", "head", "/reports/monthly?month=2026-11", ["Очередь сейчас", "Отчёты"]),
    ("report-disclosure", "head", "/reports/disclosure?year=2026", ["Отчёты"]),
    ("report-csat", "head", "/reports/csat?year=2026&half=2", ["Отчёты"]),
    ("report-operators", "head", f"/reports/operators?{DAY}", ["Отчёты"]),
    ("report-noshows", "head", f"/reports/noshows?{DAY}", ["Отчёты"]),
    ("report-downtime", "head", f"/reports/downtime?{DAY}", ["Отчёты"]),
    ("report-monthly-print", "head", "/reports/monthly/print?month=2026-11", None),
    ("settings", "admin", "/settings/", ["Очередь сейчас", "Отчёты", "Настройки"]),
    ("dashboard-admin", "admin", "/", ["Очередь сейчас", "Отчёты", "Настройки", "Запись"]),
]


@pytest.fixture(scope="module")
def served(sim_db_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("screens") / "talon.db"
    shutil.copy(sim_db_file, path)
    app = make_app(path, EXAMPLE.read_text(encoding="utf-8"), SSE_MAX_EVENTS=0, SSE_INTERVAL_S=1.0)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    app.extensions["talon"].engine.dispose()


@pytest.fixture(scope="module")
def base(served):
    return served[1]


def open_page(browser, screen: str, base: str, user: str | None = None):
    context = browser.new_context(viewport=SCREENS[screen], accept_downloads=True, locale="ru-RU",
                                  is_mobile=screen == "phone", has_touch=screen == "phone")
    page = context.new_page()
    page.set_default_timeout(15000)
    if user:
        page.goto(base + "/auth/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORDS[user])
        page.click("button.primary")
        page.wait_for_url(base + "/")
    return page


def shot(page, tmp_path, name):
    folder = Path(os.environ.get("TALON_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def in_view(page, locator) -> bool:
    if not locator.is_visible():
        return False
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


def axe_problems(page) -> list[str]:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    results = axe_module.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("name, user, path, menu", PAGES, ids=[p[0] for p in PAGES])
def test_every_page_fits_its_screen(browser, base, tmp_path, screen, name, user, path, menu):
    page = open_page(browser, screen, base, user)
    response = page.goto(base + path)
    assert response.status == (404 if name == "not-found" else 200)
    page.wait_for_load_state("load")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[1] == SCREENS[screen]["width"], "the page is laid out wider than the screen (no viewport meta?)"
    assert widths[0] <= widths[1], f"{name} at {screen}: the page is {widths[0]} px wide on a {widths[1]} px screen"
    shot(page, tmp_path, f"{name}-{screen}")
    if menu is not None:
        toggle = page.locator("#menu-toggle")
        if screen == "phone":
            assert toggle.is_visible() and not page.locator("#menu").is_visible()
            toggle.click()
            assert toggle.get_attribute("aria-expanded") == "true"
            shot(page, tmp_path, f"{name}-{screen}-menu")
        else:
            assert not toggle.is_visible()
        for entry in menu:
            assert in_view(page, page.locator("#menu nav a", has_text=entry)), f"{entry} is out of reach"
        if user:
            assert in_view(page, page.locator("#logout")), "«Выйти» is out of reach"
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1]
    problems = axe_problems(page)
    assert not problems, "\n".join(problems)
    page.context.close()


def test_wide_report_tables_scroll_in_their_box_with_the_topic_column_kept(browser, base, tmp_path):
    """At 1366 px the monthly report's columns do not all fit: the table scrolls in its own
    box, says so above itself, and the topic column stays while the rest scrolls."""
    for screen in ("desktop", "phone"):
        page = open_page(browser, screen, base, "head")
        page.goto(base + "/reports/monthly?month=2026-11")
        boxes = page.locator(".table-wrap")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            overflows = box.evaluate("b => b.scrollWidth > b.clientWidth + 1")
            hint = box.locator("xpath=preceding-sibling::p[1]")
            verdicts = box.locator("td.verdict-yes, td.verdict-no")
            if overflows:
                assert hint.is_visible(), f"table {i} at {screen} overflows without a hint"
                first = box.locator("tbody tr td").first
                left = first.bounding_box()["x"]
                box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
                assert abs(first.bounding_box()["x"] - left) < 1, "the topic column scrolled away"
                if verdicts.count():
                    assert in_view(page, verdicts.last)           # scrolled to the end: the verdict shows
                box.evaluate("b => { b.scrollLeft = 0; }")
            else:
                assert not hint.is_visible()
        page.context.close()


def test_the_period_selected_is_the_period_shown(browser, base):
    """Opened without arguments (as from the menu) and with them, the form and the title agree."""
    page = open_page(browser, "desktop", base, "head")
    page.goto(base + "/reports/monthly")                             # the test clock: 19.11.2026
    month = page.locator("form.filters input[name=month]").input_value()
    assert page.locator("h1 .muted").inner_text().endswith(f"{month[5:]}.{month[:4]}")
    page.goto(base + "/reports/monthly?month=2026-10")
    assert page.locator("form.filters input[name=month]").input_value() == "2026-10"
    assert page.locator("h1 .muted").inner_text().endswith("10.2026")
    page.goto(base + "/reports/csat")
    half = page.locator("form.filters select[name=half]")
    shown = page.locator("h1 .muted").inner_text()
    checked = half.locator("option:checked").inner_text()
    assert shown.endswith(f"2026, {checked} полугодие")            # whichever half it opens on
    page.goto(base + "/reports/csat?year=2026&half=1")
    assert half.locator("option:checked").inner_text() == "I"
    assert page.locator("h1 .muted").inner_text().endswith("2026, I полугодие")
    page.goto(base + "/reports/summary?period=week&date=2026-11-18")
    assert page.locator("form.filters select[name=period] option:checked").get_attribute("value") == "week"
    assert page.locator("form.filters input[name=date]").input_value() == "2026-11-16"
    assert page.locator("h1 .muted").inner_text().endswith("16.11.2026 – 22.11.2026")
    page.context.close()


def test_csv_opens_in_a_russian_excel(browser, base):
    """«;» between cells, decimal commas, a UTF-8 BOM: what Excel set to Russian reads by double click."""
    page = open_page(browser, "desktop", base, "head")
    page.goto(base + "/reports/summary?period=week&date=2026-11-16")
    with page.expect_download() as info:
        page.click("#export-csv")
    data = Path(info.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    header = next(r for r in rows if r and r[0] == "По теме обращения")
    row = next(r for r in rows if r and r[0].startswith("А — "))
    mean = row[header.index("Среднее время ожидания в очереди")]
    assert "," in mean and "." not in mean and float(mean.replace(",", ".")) > 0
    assert int(row[header.index("Талонов")]) > 0
    page.context.close()


def test_not_found_page_speaks_russian_and_english_on_request(browser, base):
    page = open_page(browser, "phone", base)
    assert page.goto(base + "/no-such-page").status == 404
    assert "Страница не найдена" in page.locator("h1").inner_text()
    assert "Not Found" not in page.content() and page.locator("html").get_attribute("lang") == "ru"
    page.goto(base + "/no-such-page?lang=en")
    assert "Page not found" in page.locator("h1").inner_text()
    page.goto(base + "/no-such-page?lang=ru")
    page.context.close()


def test_booking_lists_free_times_keeps_input_on_error_and_clears_after_success(browser, base, tmp_path):
    page = open_page(browser, "phone", base)
    page.goto(base + "/book?topic=R&date=2026-11-20")
    slots = page.locator("#slots label.slot")
    assert slots.count() > 10 and "08:00" in slots.first.inner_text()
    page.locator("#slots label.slot", has_text="10:00").click()
    page.fill("input[name=name]", "Пётр")
    page.fill("input[name=phone]", "звоните")                       # not a phone number
    page.click("#book button.primary")
    assert "Телефон" in page.locator("#booking-error").inner_text()
    assert page.locator("input[name=name]").input_value() == "Пётр"
    assert page.locator("input[name=phone]").input_value() == "звоните"
    assert page.locator("#slots input[value='10:00']").is_checked()
    shot(page, tmp_path, "book-error-phone")
    page.fill("input[name=phone]", "+7 900 000-00-00")
    page.click("#book button.primary")
    assert "Вы записаны" in page.locator("#booking-result").inner_text()
    assert page.locator("input[name=name]").input_value() == ""
    assert page.locator("input[name=phone]").input_value() == ""
    assert page.locator("#slots input:checked").count() == 0
    shot(page, tmp_path, "book-done-phone")
    page.context.close()


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_english_pages_fit_too(browser, base, tmp_path, screen):
    page = open_page(browser, screen, base, "admin")
    for path in ("/?lang=en", "/reports/summary?period=week&date=2026-11-16", "/reports/monthly?month=2026-11",
                 "/settings/", "/book", "/no-such-page"):
        page.goto(base + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] == SCREENS[screen]["width"], path
        assert page.locator("html").get_attribute("lang") == "en"
    shot(page, tmp_path, f"not-found-en-{screen}")
    assert "Page not found" in page.locator("h1").inner_text()
    page.goto(base + "/?lang=ru")
    page.context.close()


def test_a_busy_dashboard_fits_a_phone(browser, served, tmp_path):
    """With waiting tickets, a serving window and alerts (long Russian sentences) the phone
    page still does not scroll sideways, and the operator shows by name. Runs last: it
    changes the office the other tests look at."""
    from datetime import timedelta

    from storage import directory
    from storage.queue_db import QueueDatabase
    from tests.server.conftest import NOW

    app, base = served
    b = app.extensions["talon"]
    with b.sessions.begin() as s:
        directory.add_operator(s, b.config.office_id, "ivanova", "Иванова Мария Сергеевна", "1234")
    db = QueueDatabase(str(b.engine.url), b.config)
    db.transaction(lambda s, o: o.sign_in(1, "ivanova", NOW - timedelta(minutes=40)))
    for minutes, topic in ((55, "R"), (48, "A"), (30, "A"), (12, "K"), (2, "D")):
        db.transaction(lambda s, o, m=minutes, t=topic: o.issue(t, NOW - timedelta(minutes=m), enforce_hours=False))
    db.transaction(lambda s, o: o.call_next(1, NOW - timedelta(minutes=25)))
    db.transaction(lambda s, o: o.start(1, NOW - timedelta(minutes=24)))
    db.close()
    for screen in ("phone", "desktop"):
        page = open_page(browser, screen, base, "head")
        expect = playwright_api.expect
        expect(page.locator("#windows tbody tr").first).to_contain_text("Иванова Мария Сергеевна")
        expect(page.locator("#alerts li.crit, #alerts li.warn").first).to_be_visible()
        alerts = page.locator("#alerts").inner_text()
        assert "ждёт 55 мин при нормативе 15 мин" in alerts and not re.search(r"\d\.\d", alerts)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] == SCREENS[screen]["width"]
        shot(page, tmp_path, f"dashboard-busy-{screen}")
        problems = axe_problems(page)
        assert not problems, "\n".join(problems)
        page.context.close()
