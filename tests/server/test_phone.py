"""The visitor's ticket page ``/t/<token>`` over the real dispatcher (``LocalHub``) and its
database: position and wait, the call, recall, transfer, leaving, the endings, bad tokens,
the rate limit, the event stream and the dashboard's announcement form."""
import json
import re
import threading
from datetime import timedelta

import pytest

from server.phone import RateLimit
from server.phone_state import people_ahead_text, plural_ru, wait_text
from storage import ticket_links
from tests.server.phone_fixtures import PhoneOffice, path_of


@pytest.fixture
def office():
    o = PhoneOffice()
    yield o
    o.close()


@pytest.fixture
def client(office):
    return office.app.test_client()


def issue(office, topic="A"):
    office.now += timedelta(minutes=1)           # visitors come one after another
    return office.issue(topic)


def state(client, ticket) -> dict:
    r = client.get(path_of(ticket) + ".json")
    assert r.status_code == 200, r.text
    return r.json


def test_waiting_page_shows_number_topic_people_ahead_and_wait(office, client):
    office.open_window(1)                               # serves A and K
    office.open_window(2, "petrov", "4321")             # serves K and P
    first, other, mine = issue(office, "A"), issue(office, "K"), issue(office, "A")
    issue(office, "P")                                  # window 1 does not serve P: not ahead
    issue(office, "A")                                  # behind me
    s = state(client, mine)
    assert (s["state"], s["number"], s["ahead"]) == ("waiting", mine["number"], 2)
    assert s["ahead_text"] == "2 человека" and s["topic"] == "Договоры энергоснабжения"
    assert s["eta_min"] > 0 and s["eta_text"].startswith("около ") and "минут" in s["eta_text"]
    html = client.get(path_of(mine)).text
    assert mine["number"] in html and "Перед Вами" in html and "2 человека" in html
    assert re.search(r'id="status"[^>]*aria-live="polite"', html)
    assert re.search(r'id="call"[^>]*aria-live="assertive"', html)
    assert "Явитесь" not in html
    assert state(client, first)["ahead"] == 0 and state(client, first)["ahead_text"] == "никого — Вы следующий"
    assert state(client, other)["ahead"] == 1


def test_no_open_window_says_the_wait_is_not_known(office, client):
    office.open_window(1)
    office.open_window(2, "petrov", "4321")
    mine = issue(office, "A")
    office.counter(1, "close")                   # window 2 does not serve A
    s = state(client, mine)
    assert s["eta_min"] is None and "нет открытых окон" in s["eta_text"]


def test_call_recall_and_serving(office, client):
    office.open_window(3)
    mine = issue(office, "A")
    office.counter(3, "call_next")
    s = state(client, mine)
    assert s["state"] == "called" and s["window"] == 3
    assert s["headline"] == f"Талон {mine['number']} — пройдите к окну 3"
    assert s["detail"] == "Вас ждут. Спасибо, что подождали!"
    html = client.get(path_of(mine)).text
    assert "call-screen" in html and f"Талон {mine['number']} — пройдите к окну 3" in html
    office.counter(3, "recall")
    again = state(client, mine)
    assert again["recalls"] == 1 and again["detail"].startswith("Вас приглашают повторно")
    assert again["call_key"] != s["call_key"]          # the phone alerts again
    office.counter(3, "start")
    assert state(client, mine)["headline"] == "Вас обслуживают в окне 3"


def test_transfer_waits_again_with_the_new_topic(office, client):
    office.open_window(1)
    mine = issue(office, "A")
    office.counter(1, "call_next")
    office.counter(1, "transfer", topic="K")
    s = state(client, mine)
    assert s["state"] == "waiting" and s["transferred"] and s["topic"] == "Платежные документы"
    assert "Вас перевели" in s["headline"] and "ожидайте вызова" in s["headline"]
    office.counter(1, "call_next")
    office.counter(1, "transfer", to_window=2)
    s = state(client, mine)
    assert s["state"] == "waiting" and s["window"] == 2 and "к окну 2" in s["headline"]


@pytest.mark.parametrize(("ending", "state_name", "words"), [
    ("finish", "done", "Обслуживание завершено"),
    ("no_show", "no_show", "Вы не подошли на вызов"),
])
def test_endings_are_shown_politely(office, client, ending, state_name, words):
    office.open_window(1)
    mine = issue(office, "A")
    office.counter(1, "call_next")
    if ending == "finish":
        office.counter(1, "start")
    office.counter(1, ending)
    s = state(client, mine)
    assert s["state"] == state_name and s["final"] and words in s["headline"]
    r = client.get(path_of(mine))
    assert r.status_code == 200 and words in r.text


def csrf(client, ticket) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path_of(ticket)).text).group(1)


def test_leave_ends_the_ticket_and_the_next_call_skips_it(office, client):
    office.open_window(1)
    first, mine, last = issue(office), issue(office), issue(office)
    token = csrf(client, mine)
    r = client.post(path_of(mine) + "/leave", data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json["ok"] and r.json["state"]["state"] == "left"
    assert state(client, mine)["state"] == "left" and state(client, last)["ahead"] == 1
    again = client.post(path_of(mine) + "/leave", data={"csrf_token": token}, headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.json["ok"]            # idempotent
    assert office.counter(1, "call_next")["ticket"]["number"] == first["number"]
    office.counter(1, "no_show")
    assert office.counter(1, "call_next")["ticket"]["number"] == last["number"]   # skipped


def test_leave_without_script_redirects_back_with_the_message(office, client):
    office.open_window(1)
    mine = issue(office)
    r = client.post(path_of(mine) + "/leave", data={"csrf_token": csrf(client, mine)})
    assert r.status_code == 302 and r.headers["Location"].endswith(path_of(mine))
    page = client.get(path_of(mine)).text
    assert "Вы вышли из очереди" in page and "Спасибо, что предупредили" in page


def test_leave_after_the_call_is_refused_with_the_hubs_message(office, client):
    office.open_window(2)
    mine = issue(office, "K")
    office.counter(2, "call_next")
    r = client.post(path_of(mine) + "/leave", data={"csrf_token": csrf(client, mine)},
                    headers={"Accept": "application/json"})
    assert r.status_code == 409 and not r.json["ok"]
    assert "Вас уже пригласили к окну 2" in r.json["message"]
    assert state(client, mine)["state"] == "called"


def test_leave_needs_the_pages_form_token(office, client):
    office.open_window(1)
    mine = issue(office)
    client.get(path_of(mine))
    r = client.post(path_of(mine) + "/leave", data={"csrf_token": "forged"})
    assert r.status_code == 400
    assert state(client, mine)["state"] == "waiting"


def test_without_the_hub_the_page_says_to_tell_staff():
    o = PhoneOffice(hooks=False)
    try:
        c = o.app.test_client()
        o.open_window(1)
        mine = o.issue("A")
        html = c.get(path_of(mine)).text
        assert "Выйти из очереди с телефона здесь нельзя" in html and 'id="leave-form"' not in html
        with c.session_transaction() as session:        # a crafted POST: there is no form to take it from
            session["csrf"] = "known"
        r = c.post(path_of(mine) + "/leave", data={"csrf_token": "known"}, headers={"Accept": "application/json"})
        assert not r.json["ok"] and "скажите об этом сотруднику" in r.json["message"]
        assert state(c, mine)["state"] == "waiting"
    finally:
        o.close()


@pytest.mark.parametrize("token", ["AAAAAAAAAAAAAAAAAAAAAA", "short", "../../etc/passwd", "x" * 200,
                                   "<script>alert(1)</script>", "тест-тест-тест-тест"])
def test_unknown_or_malformed_token_is_a_polite_404(office, client, token):
    r = client.get("/t/" + token)
    assert r.status_code == 404
    assert "Демонстрационный офис" in r.text and "Талон не найден" in r.text and "Traceback" not in r.text
    assert "<script>alert" not in r.text
    assert client.get("/t/" + token + ".json").status_code == 404
    assert client.get("/t/" + token + "/events").status_code == 404


def test_another_days_token_is_a_polite_404(office, client):
    office.open_window(1)
    mine = issue(office)
    assert client.get(path_of(mine)).status_code == 200
    office.now += timedelta(days=1)
    r = client.get(path_of(mine))
    assert r.status_code == 404 and "другой день" in r.text
    with office.hub.db.sessions() as s, s.begin():
        old = ticket_links.create(s, "demo", "2026-11-18", "А001", office.now)
    assert client.get(f"/t/{old}").status_code == 404


def test_rate_limit_gives_a_polite_429():
    o = PhoneOffice(PHONE_RATE_LIMIT=5)
    try:
        c = o.app.test_client()
        o.open_window(1)
        mine = o.issue("A")
        codes = [c.get(path_of(mine) + ".json").status_code for _ in range(5)]
        assert codes == [200] * 5
        r = c.get(path_of(mine))
        assert r.status_code == 429 and "Слишком много запросов" in r.text and r.headers["Retry-After"]
        assert c.get(path_of(mine) + "/events").status_code == 429          # stream connects count too
        other = o.app.test_client()
        assert other.get(path_of(mine) + ".json", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200
    finally:
        o.close()


def test_rate_limit_window_slides():
    limit = RateLimit(2, window=60)
    assert limit.allow("a", 0) and limit.allow("a", 1) and not limit.allow("a", 2)
    assert limit.allow("b", 2)
    assert limit.allow("a", 60.5) and not limit.allow("a", 60.6)


def test_language_switch_is_kept_per_link(office, client):
    office.open_window(1)
    mine = issue(office)
    assert "Your ticket" in client.get(path_of(mine) + "?lang=en").text
    fresh = office.app.test_client()                        # another browser: the link remembers
    s = state(fresh, mine)
    assert s["lang"] == "en" and s["ahead_text"] == "nobody: you are next"
    assert client.get(path_of(mine) + "?lang=ru").status_code == 200
    assert state(fresh, mine)["lang"] == "ru"


def test_telegram_link_only_with_a_bot(office, client):
    office.open_window(1)
    mine = issue(office)
    assert "t.me" not in client.get(path_of(mine)).text
    with office.hub.db.sessions() as s, s.begin():
        ticket_links.set_bot(s, "demo", "talon_office_bot")
    token = path_of(mine).rsplit("/", 1)[1]
    assert f'href="https://t.me/talon_office_bot?start={token}"' in client.get(path_of(mine)).text


def read_events(response, count, seen=None):
    """The first ``count`` ``state`` events of a stream (``seen`` is released at the first)."""
    out, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            if block.startswith("event: state"):
                out.append(json.loads(block.split("data: ", 1)[1]))
                if seen is not None:
                    seen.release()
                if len(out) == count:
                    return out
    return out


def stream_in_thread(app, ticket, results: list, seen: threading.Semaphore) -> threading.Thread:
    """Open a page's stream and read its first two states, all in one thread (as a server does:
    a streamed response keeps its request context in the thread that made it)."""
    def read():
        r = app.test_client().get(path_of(ticket) + "/events", buffered=False)
        assert r.mimetype == "text/event-stream"
        results.append(read_events(r, 2, seen))
        r.close()
    thread = threading.Thread(target=read)
    thread.start()
    return thread


def wait_first_states(app, seen: threading.Semaphore, count: int):
    """Every stream has sent its state on connect; returns the app's feed."""
    for _ in range(count):
        assert seen.acquire(timeout=20), "a stream sent no state on connect"
    return app.extensions["talon_phone_feed"]


def test_stream_sends_the_state_on_connect_and_on_change(office):
    office.app.config.update(SSE_MAX_EVENTS=2)
    office.open_window(1)
    mine = issue(office)
    got: list = []
    seen = threading.Semaphore(0)
    reader = stream_in_thread(office.app, mine, got, seen)
    wait_first_states(office.app, seen, 1)
    office.counter(1, "call_next")
    reader.join(20)
    assert [e["state"] for e in got[0]] == ["waiting", "called"]
    assert got[0][1]["headline"] == f"Талон {mine['number']} — пройдите к окну 1"


def test_one_feed_rebuilds_once_per_change_for_many_streams(office):
    """Many phones, one rebuild per change: the streams share the feed's office."""
    office.app.config.update(SSE_MAX_EVENTS=2)
    office.open_window(1)
    tickets = [issue(office) for _ in range(8)]
    results: list[list] = []
    seen = threading.Semaphore(0)
    readers = [stream_in_thread(office.app, t, results, seen) for t in tickets]
    feed = wait_first_states(office.app, seen, len(tickets))
    before, rebuilt = feed.updates, feed.follower.rebuilds
    office.counter(1, "call_next")             # one change: everyone moves up
    for t in readers:
        t.join(20)
    assert len(results) == len(tickets) and all(len(r) == 2 for r in results)
    assert [r[1]["state"] for r in results].count("called") == 1
    assert sorted(r[1]["ahead"] for r in results if r[1]["state"] == "waiting") == list(range(len(tickets) - 1))
    assert feed.updates - before == 1                   # one update for all the streams
    assert feed.follower.rebuilds == rebuilt            # by replaying the new event, not reloading


def test_announcement_from_the_dashboard_reaches_the_page(office, client):
    office.open_window(1)
    mine = issue(office)
    staff = office.app.test_client()
    from server.db import session_scope
    from server.users import add_user
    with office.app.app_context(), session_scope(write=True) as s:
        add_user(s, "oper", "oper-pass-1", "operator")
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff.get("/auth/login").text).group(1)
    staff.post("/auth/login", data={"username": "oper", "password": "oper-pass-1", "csrf_token": token})
    page = staff.get("/").text
    assert "Объявление для всех ожидающих" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = staff.post("/announcement", data={"text": "Окно 3 закрыто до 14:00", "csrf_token": token})
    assert r.status_code == 302
    assert state(client, mine)["notice"] == "Окно 3 закрыто до 14:00"
    assert "Окно 3 закрыто до 14:00" in client.get(path_of(mine)).text
    assert "Окно 3 закрыто до 14:00" in staff.get("/").text
    too_long = staff.post("/announcement", data={"text": "я" * 201, "csrf_token": token}, follow_redirects=True)
    assert "не длиннее 200 символов" in too_long.text
    assert state(client, mine)["notice"] == "Окно 3 закрыто до 14:00"
    staff.post("/announcement", data={"clear": "1", "csrf_token": token})
    assert state(client, mine)["notice"] == ""
    assert staff.post("/announcement", data={"text": "x"}).status_code == 400         # CSRF like every form


def test_announcement_form_needs_a_login(office):
    c = office.app.test_client()
    r = c.post("/announcement", data={"text": "x", "csrf_token": "x"})
    assert r.status_code in (302, 400, 401, 403)
    assert office.app.test_client().get("/").status_code in (302, 401)


@pytest.mark.parametrize(("n", "word"), [(1, "человек"), (2, "человека"), (4, "человека"), (5, "человек"),
                                         (11, "человек"), (12, "человек"), (21, "человек"), (22, "человека")])
def test_russian_plurals(n, word):
    assert plural_ru(n, "человек", "человека", "человек") == word


def test_wait_texts(office):
    with office.app.test_request_context("/"):
        assert wait_text(0.0) == "Ваша очередь совсем скоро"
        assert wait_text(12.2) == "около 13 минут"
        assert wait_text(21) == "около 21 минута"
        assert wait_text(75) == "около 1 ч 15 мин"
        assert people_ahead_text(3) == "3 человека"


@pytest.mark.parametrize("seed", range(6))
def test_everyones_position_in_one_pass_matches_one_at_a_time(seed):
    """The feed computes every page's position at once (``ahead_of_all``); it must say what
    ``ahead_of`` says for each ticket: priority out of turn, transfers to a topic and to a window."""
    import random
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hub.local import demo_config
    from queue_core.estimate import ahead_of, ahead_of_all
    from queue_core.model import TicketKind
    from queue_core.office import Office

    rng = random.Random(seed)
    office = Office(demo_config())
    now = datetime(2026, 11, 19, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    for n, who in ((1, "ivanova"), (2, "petrov"), (3, "sidorov")):
        if rng.random() < 0.8 or n == 1:
            office.sign_in(n, who, now)
    for _ in range(60):
        now += timedelta(seconds=rng.randint(1, 90))
        kind = TicketKind.PRIORITY if rng.random() < 0.2 else TicketKind.WALK_IN
        office.issue(rng.choice("AKP"), now, kind, enforce_hours=False)
        if rng.random() < 0.3:
            n = rng.choice([w for w, s in office.windows.items() if str(s.state) == "open"])
            if office.current(n) is None and office.call_next(n, now) is not None and rng.random() < 0.5:
                other = rng.choice([w for w in (1, 2, 3) if w != n])
                office.transfer(n, now, to_window=other) if rng.random() < 0.5 else office.transfer(
                    n, now, topic=rng.choice([c for c in "AKP" if c != office.current(n).topic]))
    waiting = office.waiting()
    together = ahead_of_all(office.config, waiting, office.windows, office.recent)
    assert set(together) == {t.number for t in waiting}
    for t in waiting:
        assert together[t.number] == ahead_of(office.config, t, waiting, office.windows, office.recent), t.number


def test_the_feeds_office_follows_the_log_as_a_reload_would(office):
    """The feed replays new events onto its office instead of reloading it: after calls,
    recalls, transfers, leaving and endings it sees exactly what a fresh load sees."""
    from server.live_feed import OfficeFollower, office_view
    from storage.store import QueueStore

    config = office.hub.db.config
    follower = OfficeFollower()

    def check():
        with office.hub.db.sessions() as s:
            followed = office_view(follower.update(s, config))
            fresh = office_view(QueueStore(config.office_id).load(s, config))
        assert followed == fresh

    check()
    office.open_window(1)
    office.open_window(2, "petrov", "4321")
    tickets = [issue(office, topic) for topic in "AKAPKA"]
    check()
    office.counter(1, "call_next")
    office.counter(1, "recall")
    check()
    office.counter(1, "transfer", topic="K")
    office.counter(2, "call_next")
    office.counter(2, "transfer", to_window=1)
    check()
    office.leave(path_of(tickets[-1]).rsplit("/", 1)[1])
    office.counter(1, "call_next")
    office.counter(1, "start")
    office.counter(1, "finish")
    office.counter(2, "call_next")
    office.counter(2, "no_show")
    check()
    assert follower.rebuilds == 1


def test_the_follower_rebuilds_after_too_many_events_or_a_failed_replay(office, monkeypatch):
    from server import live_feed
    from server.live_feed import OfficeFollower, office_view
    from storage.store import QueueStore

    config = office.hub.db.config
    follower = OfficeFollower()

    def followed_equals_fresh():
        with office.hub.db.sessions() as s:
            return office_view(follower.update(s, config)) == office_view(QueueStore("demo").load(s, config))

    assert followed_equals_fresh() and follower.rebuilds == 1
    monkeypatch.setattr(live_feed, "MAX_CATCH_UP", 2)
    office.open_window(1)
    for _ in range(3):
        issue(office)                                   # more than two events since the last look
    assert followed_equals_fresh() and follower.rebuilds == 2
    issue(office)
    calls = []

    def broken_apply(self, event):
        calls.append(event.seq)
        raise RuntimeError("an event this office cannot take")

    with monkeypatch.context() as m:
        m.setattr(live_feed.Office, "apply", broken_apply)
        assert followed_equals_fresh() and follower.rebuilds == 3 and calls
    assert followed_equals_fresh() and follower.rebuilds == 3      # and back to replaying


def test_the_feed_survives_a_database_hiccup():
    from server.live_feed import LiveFeed, OfficeView

    versions = iter([RuntimeError("database is locked"), (1,), (1,), (2,), (2,), (2,)])

    def probe():
        v = next(versions, (2,))
        if isinstance(v, Exception):
            raise v
        return v

    loads = []

    def load():
        loads.append(1)
        return OfficeView(len(loads), {}, {}), None

    feed = LiveFeed(probe, load, interval=0.01)
    feed.subscribe()
    try:
        snap = feed.wait(0, timeout=20)
        while snap.view.seq < 2:
            snap = feed.wait(snap.generation, timeout=20)
        assert snap.view.seq == 2 and len(loads) == 2          # one update per change, after the error
    finally:
        feed.unsubscribe()
        feed.close()


class Versions:
    """A feed's database stand-in: ``probe`` says the version, ``load`` the office as of it."""

    def __init__(self):
        self.seq = 1

    def probe(self) -> tuple:
        return (self.seq,)

    def load(self):
        from server.live_feed import OfficeView
        return OfficeView(self.seq, {}, {}), None


def test_a_poke_makes_the_feed_look_before_its_interval():
    """An hour between polls: only the poke can explain the new snapshot."""
    from server.live_feed import LiveFeed

    data = Versions()
    feed = LiveFeed(data.probe, data.load, interval=3600)
    feed.subscribe()
    try:
        first = feed.wait(0, timeout=20)                 # the poller's first look, on subscribing
        assert first.view.seq == 1
        data.seq = 2
        feed.poke()
        assert feed.wait(first.generation, timeout=20).view.seq == 2
        data.seq = 3
        feed.poke()
        feed.poke()                                      # pokes before the look: one look
        assert feed.wait(first.generation + 1, timeout=20).view.seq == 3
    finally:
        feed.unsubscribe()
        feed.close()


def test_without_pokes_the_feed_still_polls():
    from server.live_feed import LiveFeed

    data = Versions()
    feed = LiveFeed(data.probe, data.load, interval=0.05)
    feed.subscribe()
    try:
        first = feed.wait(0, timeout=20)
        data.seq = 2
        assert feed.wait(first.generation, timeout=20).view.seq == 2
    finally:
        feed.unsubscribe()
        feed.close()


def test_a_web_beside_the_hub_is_poked_by_its_commits(office, monkeypatch):
    """``server.serve.start_web_server`` with a hub: the hub's listener pokes the phone pages'
    feed, so a call reaches an open page at once though the feed would poll only hourly."""
    import http.client
    import queue
    from types import SimpleNamespace

    from server.serve import start_web_server

    monkeypatch.setenv("TALON_PHONE_FEED_INTERVAL_S", "3600")
    monkeypatch.setenv("TALON_SSE_MAX_EVENTS", "2")
    hub = SimpleNamespace(dispatcher=office.hub.dispatcher, apply_config=lambda config: None,
                          visitor_leave=office.leave, announce=office.announce,
                          add_listener=office.hub.dispatcher.add_listener)
    web = start_web_server(office.hub.db, "127.0.0.1", 0, hub=hub)
    app = web._server.app
    live = app.extensions["talon_phone_feed"]              # made at start, to be poked
    probes = threading.Semaphore(0)
    probe = live._probe

    def counted_probe():
        try:
            return probe()
        finally:
            probes.release()

    live._probe = counted_probe
    states: queue.Queue = queue.Queue()

    def read(ticket):
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
        try:
            conn.request("GET", path_of(ticket) + "/events")
            response = conn.getresponse()
            for line in response:
                if line.startswith(b"data: "):
                    states.put(json.loads(line[6:]))
        finally:
            conn.close()

    try:
        office.open_window(1)
        mine = issue(office)
        reader = threading.Thread(target=read, args=(mine,), daemon=True)
        reader.start()
        assert states.get(timeout=20)["state"] == "waiting"
        for _ in range(2):                                   # the page's first look, then the poller's
            assert probes.acquire(timeout=20)
        office.counter(1, "call_next")                       # the next look can only come from a poke
        assert states.get(timeout=20)["state"] == "called"
        reader.join(20)
    finally:
        web.shutdown()
        app.extensions["talon_phone_feed"].close()
        app.extensions["talon"].engine.dispose()


def test_rate_limit_table_stays_bounded():
    limit = RateLimit(5, window=60)
    for n in range(10_001):
        limit.allow(f"10.0.{n // 256}.{n % 256}", 0)
    assert limit.allow("192.168.1.1", 61)
    assert len(limit._hits) == 1


def test_a_refused_announcement_says_why(office):
    from queue_core.errors import QueueError
    from server.db import session_scope
    from server.users import add_user

    def refuse(text):
        raise QueueError("too long", "Объявление слишком длинное: не более 200 символов")

    office.app.config["ANNOUNCE"] = refuse
    with office.app.app_context(), session_scope(write=True) as s:
        add_user(s, "oper", "oper-pass-1", "operator")
    staff = office.app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff.get("/auth/login").text).group(1)
    staff.post("/auth/login", data={"username": "oper", "password": "oper-pass-1", "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', staff.get("/").text).group(1)
    page = staff.post("/announcement", data={"text": "x", "csrf_token": token}, follow_redirects=True).text
    assert "Объявление слишком длинное" in page


def test_dashboard_without_the_hub_says_announcements_are_not_here():
    o = PhoneOffice(hooks=False)
    try:
        from server.db import session_scope
        from server.users import add_user
        with o.app.app_context(), session_scope(write=True) as s:
            add_user(s, "oper", "oper-pass-1", "operator")
        staff = o.app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', staff.get("/auth/login").text).group(1)
        staff.post("/auth/login", data={"username": "oper", "password": "oper-pass-1", "csrf_token": token})
        page = staff.get("/").text
        assert "Объявления здесь недоступны" in page and 'id="notice-text"' not in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        again = staff.post("/announcement", data={"text": "x", "csrf_token": token}, follow_redirects=True).text
        assert "Объявления здесь недоступны" in again
    finally:
        o.close()
