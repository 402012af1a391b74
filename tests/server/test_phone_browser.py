"""The visitor's phone page in real Chromium at 390×844, through a real ``talon hub``
process (mosquitto, SQLite file, its own web server), a kiosk and counters as MQTT clients:

the kiosk's reply carries the page's ``url`` → the page opens → a counter calls the ticket
→ the page shows the window with no reload; the phone goes offline and back → the state
is right again; «Я ухожу» → the ticket is gone from the dashboard's waiting count and the
next call skips it; axe-core finds no serious or critical violation; an unknown token gets
a polite page. Screenshots at 390×844 and 1280×800 go to ``TALON_SCREENSHOT_DIR`` when set.
"""
import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
playwright_api = pytest.importorskip("playwright.sync_api")
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}
HEAD = ("head", "head-pass-1")


@pytest.fixture(scope="module")
def hub():
    from bench.phone import WebHub
    from hub.brokers import find_mosquitto

    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    h = WebHub("phone-browser", windows=2, rate_limit=1000)
    h.add_web_user(*HEAD, "head")
    try:
        h.start()
        yield h
    finally:
        h.stop()


def new_page(browser, viewport=PHONE):
    context = browser.new_context(viewport=viewport, locale="ru-RU", has_touch=viewport is PHONE,
                                  is_mobile=viewport is PHONE, device_scale_factor=1,
                                  reduced_motion="reduce")         # screenshots without the call's flashing
    page = context.new_page()
    page.set_default_timeout(20000)
    return context, page


def shot(page, tmp_path, name):
    folder = Path(os.environ.get("TALON_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def axe_problems(page) -> list[str]:
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    results = axe_module.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def waiting_count(browser, hub) -> str:
    context, page = new_page(browser, WIDE)
    page.goto(hub.base + "/auth/login")
    page.fill("input[name=username]", HEAD[0])
    page.fill("input[name=password]", HEAD[1])
    page.click("button.primary")
    count = page.locator("#total-waiting")
    playwright_api.expect(count).not_to_have_text("")
    text = count.text_content()
    context.close()
    return text


def call_until(counter, window: int, number: str) -> list[str]:
    """Call at ``window`` until ``number`` is called, serving whoever comes before it (other
    tests of this module may have left tickets waiting); ``number`` stays called. The numbers
    called, in order."""
    called: list[str] = []
    while number not in called:
        if called:
            serve(counter, window)
        assert len(called) < 20, called
        called.append(counter.request("call_next", {"window": window}, timeout=10)["ticket"]["number"])
    return called


def serve(counter, window: int) -> None:
    counter.request("start", {"window": window}, timeout=10)
    counter.request("finish", {"window": window}, timeout=10)


def test_the_page_follows_the_ticket_through_the_call_offline_and_back(hub, browser, tmp_path):
    expect = playwright_api.expect
    first, mine = hub.issue("A"), hub.issue("A")
    assert mine["url"].endswith(hub.url_path(mine))
    context, page = new_page(browser)
    page.goto(hub.base + hub.url_path(mine))
    expect(page.locator("#number")).to_have_text(mine["number"])
    expect(page.locator("#ahead")).to_have_text("1 человек")
    expect(page.locator("#eta")).to_have_text("Ваша очередь совсем скоро")      # two windows, one visitor ahead
    assert axe_problems(page) == []
    shot(page, tmp_path, "phone-waiting")

    counter = hub.counters[0]
    assert counter.request("call_next", {"window": 1}, timeout=10)["ticket"]["number"] == first["number"]
    expect(page.locator("#ahead")).to_have_text("никого — Вы следующий")       # pushed, no reload
    serve(counter, 1)

    context.set_offline(True)
    expect(page.locator("#conn")).to_be_visible()                # the page says it lost the network
    assert counter.request("call_next", {"window": 1}, timeout=10)["ticket"]["number"] == mine["number"]
    # Chromium's offline emulation keeps an open stream alive (so may a phone whose Wi-Fi
    # blinks): the call still arrives, and must not hide «no network» while the browser is offline
    expect(page.locator("#headline")).to_contain_text(f"Талон {mine['number']}")
    expect(page.locator("#conn")).to_be_visible()
    context.set_offline(False)
    screen = page.locator("#call-screen")
    expect(screen).to_be_visible()
    expect(screen).to_contain_text(f"Талон {mine['number']} — пройдите к окну 1")
    expect(page.locator("#conn")).to_be_hidden()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert "Явитесь" not in page.content()
    assert axe_problems(page) == []
    shot(page, tmp_path, "phone-called")

    counter.request("recall", {"window": 1}, timeout=10)
    expect(screen).to_contain_text("Вас приглашают повторно")
    page.locator("#call-screen button").click()                  # «Хорошо, иду»
    expect(page.locator("#call-screen")).to_have_count(0)
    expect(page.locator("#detail")).to_contain_text("Вас приглашают повторно")
    serve(counter, 1)
    expect(page.locator("#headline")).to_have_text("Обслуживание завершено")
    context.close()


def test_leaving_from_the_phone(hub, browser, tmp_path):
    expect = playwright_api.expect
    leaving, after = hub.issue("R"), hub.issue("R")
    before = int(waiting_count(browser, hub))
    context, page = new_page(browser)
    page.goto(hub.base + hub.url_path(leaving))
    expect(page.locator("#number")).to_have_text(leaving["number"])
    page.locator("#leave-ask").click()
    expect(page.locator("#leave-yes")).to_be_visible()
    page.locator("#leave-no").click()                            # «Нет, остаться»: nothing happens
    expect(page.locator("#leave-yes")).to_be_hidden()
    page.locator("#leave-ask").click()
    page.locator("#leave-yes").click()                           # «Да, я ухожу»
    expect(page.locator("#headline")).to_have_text("Вы вышли из очереди")
    expect(page.locator("#actions")).to_be_hidden()
    expect(page.locator("#keep-open")).to_be_hidden()
    assert axe_problems(page) == []
    shot(page, tmp_path, "phone-left")
    assert int(waiting_count(browser, hub)) == before - 1
    called = call_until(hub.counters[1], 2, after["number"])
    assert leaving["number"] not in called                       # the one behind is called, never the one who left
    serve(hub.counters[1], 2)
    page.reload()
    expect(page.locator("#headline")).to_have_text("Вы вышли из очереди")
    context.close()


def test_a_blocked_stream_falls_back_to_polling(hub, browser):
    """A network that refuses the event stream (some proxies do): the page polls the JSON."""
    expect = playwright_api.expect
    mine = hub.issue("A")
    context, page = new_page(browser)
    polls = []
    page.route("**/events", lambda route: route.abort())
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith(".json") else None)
    page.goto(hub.base + hub.url_path(mine))
    expect(page.locator("#number")).to_have_text(mine["number"])
    call_until(hub.counters[0], 1, mine["number"])
    expect(page.locator("#call-screen")).to_contain_text(f"Талон {mine['number']}", timeout=60000)
    assert polls, "the page never polled"
    serve(hub.counters[0], 1)
    context.close()


def test_unknown_token_is_a_polite_page(hub, browser, tmp_path):
    context, page = new_page(browser)
    response = page.goto(hub.base + "/t/AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status == 404
    playwright_api.expect(page.locator("h1")).to_have_text("Талон не найден")
    assert "Bench office" in page.locator("header").text_content()          # the office's name
    assert axe_problems(page) == []
    shot(page, tmp_path, "phone-unknown")
    context.close()


def test_the_announcement_reaches_open_pages(hub, browser, tmp_path):
    """Staff write on the dashboard; every open phone page shows it at the top, no reload."""
    expect = playwright_api.expect
    ticket = hub.issue("A")
    context, page = new_page(browser)
    page.goto(hub.base + hub.url_path(ticket))
    expect(page.locator("#notice-box")).to_be_hidden()
    staff_context, staff = new_page(browser, WIDE)
    staff.goto(hub.base + "/auth/login")
    staff.fill("input[name=username]", HEAD[0])
    staff.fill("input[name=password]", HEAD[1])
    staff.click("button.primary")
    staff.fill("#notice-text", "Окно 3 закрыто до 14:00")
    staff.click("#notice-save")
    expect(staff.locator("#notice-now")).to_contain_text("Окно 3 закрыто до 14:00")
    assert axe_problems(staff) == []                             # the dashboard with its new form
    shot(staff, tmp_path, "dashboard-announcement")
    expect(page.locator("#notice")).to_have_text("Окно 3 закрыто до 14:00")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert axe_problems(page) == []
    shot(page, tmp_path, "phone-announcement")
    staff_context.close()
    context.close()


@pytest.mark.parametrize("state", ["waiting", "called", "left", "unknown"])
def test_wide_screenshots(hub, browser, tmp_path, state):
    """The same page on a desktop (1280×800), for the docs and a look at the layout."""
    expect = playwright_api.expect
    context, page = new_page(browser, WIDE)
    if state == "unknown":
        page.goto(hub.base + "/t/AAAAAAAAAAAAAAAAAAAAAA")
    else:
        ticket = hub.issue("A")
        if state == "called":
            call_until(hub.counters[0], 1, ticket["number"])
        page.goto(hub.base + hub.url_path(ticket))
        if state == "left":
            page.locator("#leave-ask").click()
            page.locator("#leave-yes").click()
            expect(page.locator("#headline")).to_have_text("Вы вышли из очереди")
        if state == "called":
            expect(page.locator("#call-screen")).to_be_visible()
            shot(page, tmp_path, f"phone-{state}-wide")
            serve(hub.counters[0], 1)
            context.close()
            return
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    shot(page, tmp_path, f"phone-{state}-wide")
    context.close()
