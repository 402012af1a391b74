"""The Telegram notifier on the real hub path: a real mosquitto, the real hub and dispatcher on
an SQLite file, kiosk and counter clients over MQTT; Telegram is the local fake of the Bot
API (tests/telegram_fake.py), so nothing leaves this machine."""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from hub.local import LocalHub
from hub.notifier import (
    TOKEN_ENV,
    TOKEN_FILE,
    NotifierSettings,
    TelegramNotifier,
    load_token,
    start_for_hub,
)
from hub.notifier_texts import people, text
from hub.service import Hub
from storage import directory, ticket_links
from storage.queue_db import QueueDatabase
from tests.mqtt_fixtures import OFFICE, PASSWORDS, wait_until
from tests.queue_core.helpers import MONDAY_10, make_config
from tests.telegram_fake import FakeTelegram

VISITOR, OTHER, BYSTANDER = 1001, 1002, 1003
NOTICE = "Объявление: "


def office_clock():
    """Monday 10:00 office time at real speed; one clock across hub restarts, so time goes on."""
    began = time.monotonic()
    return lambda: MONDAY_10 + timedelta(seconds=time.monotonic() - began)


class Site:
    """One office's hub and notifier over one database file, which a test may restart."""

    def __init__(self, broker, data_dir: Path, telegram: FakeTelegram, bus):
        self.broker, self.data_dir, self.telegram, self.bus = broker, data_dir, telegram, bus
        self.config = replace(make_config(windows=2), office_id=OFFICE)
        self.url = f"sqlite:///{data_dir / 'hub.db'}"
        self.clock = office_clock()
        self.hub: Hub | None = None
        self.notifier: TelegramNotifier | None = None
        self.kiosk = self.counter = None
        db = QueueDatabase(self.url, self.config)
        with db.sessions() as s, s.begin():
            directory.add_device(s, OFFICE, "kiosk-1", "kiosk", password=PASSWORDS["kiosk-1"])
            directory.add_device(s, OFFICE, "counter-1", "counter", window=1, password=PASSWORDS["counter-1"])
        db.close()

    def start(self, ahead: int = 3) -> Site:
        db = QueueDatabase(self.url, self.config)
        self.hub = Hub(db, self.broker.url, username="hub", password=self.broker.password("hub"),
                       refresh_s=0.5, clock=self.clock, public_url="http://hub.test")
        self.hub.start()
        settings = NotifierSettings(self.telegram.token, self.telegram.base_url, ahead=ahead, backoff_max_s=1.0)
        self.notifier = TelegramNotifier(db, settings, self.hub.run_on_writer, clock=self.hub.dispatcher.clock)
        self.hub.add_listener(self.notifier.listener)
        self.notifier.start()
        if self.kiosk is None:
            self.kiosk = self.bus.start(self.broker.hub_client("kiosk-1", "kiosk"))
            self.counter = self.bus.start(self.broker.hub_client("counter-1", "counter"))
            self.window("open")                                # tickets are issued while a window is open
        return self

    def stop(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
        if self.hub is not None:
            self.hub.stop()
        self.hub = self.notifier = None

    # what people do
    def issue(self) -> dict:
        return self.kiosk.request("issue", {"topic": "A", "kind": "walk_in"}, timeout=10)["ticket"]

    def window(self, op: str) -> dict:
        return self.counter.request(op, {"window": 1}, timeout=10)

    def serve_next(self) -> None:
        """The counter calls the next visitor and serves them."""
        self.window("call_next")
        self.window("start")
        self.window("finish")

    def subscribe(self, chat: int, ticket: dict) -> None:
        """The visitor opens the page's «Уведомить в Telegram»: /start <token> to the bot."""
        before = len(self.telegram.texts(chat))
        self.telegram.user_sends(chat, f"/start {token_of(ticket)}")
        self.telegram.wait_sent(lambda m: m.chat_id == chat, count=before + 1)

    def link(self, ticket: dict) -> ticket_links.Link:
        with self.hub.dispatcher.db.sessions() as s:
            return ticket_links.find(s, token_of(ticket))

    def settle(self) -> None:
        """Every message due so far has been sent: two announcements in a row reach the
        bystander, so a whole delivery pass ran after everything the test did before."""
        for n in (1, 2):
            marker = f"проверка {time.monotonic_ns()}-{n}"
            self.hub.announce(marker)
            self.telegram.wait_sent(lambda m, marker=marker: m.chat_id == BYSTANDER and marker in m.text)


def token_of(ticket: dict) -> str:
    return ticket["url"].rsplit("/", 1)[1]


def told(telegram: FakeTelegram, chat: int) -> list[str]:
    """What the chat was told, announcements aside."""
    return [t for t in telegram.texts(chat) if not t.startswith(NOTICE)]


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def site(mosquitto_broker, tmp_path, telegram, bus):
    s = Site(mosquitto_broker, tmp_path, telegram, bus)
    yield s
    s.stop()
    mosquitto_broker.clear_hub_states()


def subscribed(number: str) -> str:
    return text("subscribed", number=number, threshold=3)


# ---------------------------------------------------------------------------- the visitor's day
def test_one_message_at_the_threshold_one_at_the_call_none_after_the_end(site, telegram):
    site.start()
    tickets = [site.issue() for _ in range(7)]
    mine, bystander = tickets[5], tickets[6]
    site.subscribe(BYSTANDER, bystander)
    site.subscribe(VISITOR, mine)
    number = mine["number"]
    assert told(telegram, VISITOR) == [subscribed(number)]     # 5 ahead: nothing yet

    site.serve_next()                                          # 4 ahead
    site.window("call_next")                                   # 3 ahead: the threshold
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)
    for _ in range(3):                                         # 2, 1, 0 ahead: told already
        site.window("start")
        site.window("finish")
        site.window("call_next")
    site.window("start")
    site.window("finish")
    site.window("call_next")                                   # mine
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=3)
    site.window("recall")
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=4)
    site.window("start")
    site.window("finish")                                      # the ticket ends
    wait_until(lambda: site.link(mine).chat_id is None, what="the chat forgotten")

    later = site.issue()                                       # the queue goes on
    site.window("call_next")
    site.settle()
    assert told(telegram, VISITOR) == [
        subscribed(number),
        f"Перед Вами 3 человека. Пожалуйста, подойдите ближе к залу ожидания. Талон {number}.",
        f"Вас приглашают в окно 1. Талон {number}.",
        f"Повторное приглашение: Вас ждут в окне 1. Талон {number}.",
    ]
    assert not [t for t in telegram.texts(VISITOR) if t.startswith(NOTICE)], "an ended ticket hears no announcement"
    link = site.link(mine)
    assert link.ended and link.chat_id is None
    assert later["number"] not in " ".join(telegram.texts(VISITOR))


def test_subscribing_close_to_the_front_is_told_at_once_and_the_announcement_once(site, telegram):
    site.start()
    first, second = site.issue(), site.issue()
    site.subscribe(BYSTANDER, first)
    site.subscribe(VISITOR, second)                            # 1 ahead already
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)
    assert told(telegram, VISITOR)[1] == (f"Перед Вами 1 человек. Пожалуйста, подойдите ближе к залу "
                                         f"ожидания. Талон {second['number']}.")
    site.hub.announce("Окно 3 закрыто до 14:00")
    telegram.wait_sent(lambda m: m.chat_id == VISITOR and m.text == "Объявление: Окно 3 закрыто до 14:00")
    site.settle()
    assert telegram.texts(VISITOR).count("Объявление: Окно 3 закрыто до 14:00") == 1
    assert telegram.texts(BYSTANDER).count("Объявление: Окно 3 закрыто до 14:00") == 1


# ---------------------------------------------------------------------------- faults
def test_bot_api_down_for_a_while_then_each_message_once(site, telegram):
    site.start()
    tickets = [site.issue() for _ in range(6)]
    mine = tickets[4]
    site.subscribe(BYSTANDER, tickets[5])
    site.subscribe(VISITOR, mine)                              # 4 ahead
    number = mine["number"]

    telegram.down()                                            # no internet
    sends = telegram.requests.count("sendMessage")
    site.serve_next()                                          # 3 ahead: due, cannot be sent
    telegram.wait_requests("sendMessage", sends + 3)           # it keeps trying, on its own thread
    site.issue()                                               # while the hub answers all along
    assert told(telegram, VISITOR) == [subscribed(number)]
    telegram.up()
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)

    telegram.down()
    sends = telegram.requests.count("sendMessage")
    for _ in range(3):
        site.serve_next()
    site.window("call_next")                                   # mine: called while Telegram is away
    assert site.hub.dispatcher.office.tickets[number].state == "called"
    telegram.wait_requests("sendMessage", sends + 3)
    telegram.rate_limit(1, retry_after=1, method="sendMessage")   # back, but slow down first
    telegram.fail(2, method="sendMessage")                        # and a bad gateway or two
    telegram.up()
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=3)
    site.settle()
    assert told(telegram, VISITOR) == [
        subscribed(number),
        f"Перед Вами 3 человека. Пожалуйста, подойдите ближе к залу ожидания. Талон {number}.",
        f"Вас приглашают в окно 1. Талон {number}.",
    ]
    link = site.link(mine)
    assert link.notified_ahead and link.notified_call_seq is not None


def test_an_update_handled_just_before_a_restart_is_not_handled_again(site, telegram):
    """Telegram forgets an update only when the next poll confirms it. A hub that stops
    before that poll gets the update again after its restart: it must not answer it twice."""
    site.start()
    tickets = [site.issue() for _ in range(5)]
    telegram.confirming = False
    site.subscribe(VISITOR, tickets[2])                        # answered; the confirmation never arrives
    site.stop()
    telegram.confirming = True
    site.start()
    site.subscribe(OTHER, tickets[3])                          # updates are handled in order: the old one first
    assert told(telegram, VISITOR).count(subscribed(tickets[2]["number"])) == 1
    assert site.link(tickets[2]).chat_id == VISITOR


def test_nothing_lost_or_told_twice_across_a_hub_restart(site, telegram):
    site.start()
    tickets = [site.issue() for _ in range(5)]
    mine, bystander = tickets[2], tickets[4]
    site.subscribe(BYSTANDER, bystander)
    site.subscribe(VISITOR, mine)                              # 2 ahead: told at once
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)

    telegram.down()
    site.serve_next()
    site.serve_next()
    site.window("call_next")                                   # mine is called; Telegram cannot be told
    site.stop()                                                # the hub restarts meanwhile

    site.start()                                               # Telegram still down: getMe keeps failing
    site.issue()                                               # and the hub answers
    telegram.up()
    telegram.wait_sent(lambda m: m.chat_id == VISITOR and "приглашают" in m.text)
    site.settle()

    site.stop()                                                # another restart: nothing is told again
    site.start()
    assert site.notifier.ready.wait(15)
    site.issue()
    site.settle()
    number = mine["number"]
    assert told(telegram, VISITOR) == [
        subscribed(number),
        f"Перед Вами 2 человека. Пожалуйста, подойдите ближе к залу ожидания. Талон {number}.",
        f"Вас приглашают в окно 1. Талон {number}.",
    ]


def test_an_announcement_made_while_telegram_is_down_is_told_once_across_restarts(site, telegram):
    """The announcement is kept in the database and each chat's link marks it told: made while
    the Bot API is down and the hub restarts, it is told once Telegram answers; a second
    restart tells it to nobody again; a visitor who subscribes later hears it once."""
    closed = "Окно 3 закрыто до 14:00"
    told_closed = NOTICE + closed
    site.start()
    first, second = site.issue(), site.issue()
    site.subscribe(VISITOR, first)
    site.subscribe(BYSTANDER, second)
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)       # «Вы следующий»
    telegram.wait_sent(lambda m: m.chat_id == BYSTANDER, count=2)     # «Перед Вами 1 человек»

    telegram.down()
    sends = telegram.requests.count("sendMessage")
    site.hub.announce(closed)
    telegram.wait_requests("sendMessage", sends + 2)           # tried, and tried again
    site.stop()                                                # the hub restarts, Telegram still down
    site.start()
    site.issue()
    telegram.up()
    for chat in (VISITOR, BYSTANDER):
        telegram.wait_sent(lambda m, chat=chat: m.chat_id == chat and m.text == told_closed)
    with site.hub.dispatcher.db.sessions() as s:
        _, at = ticket_links.notice(s, OFFICE)
    wait_until(lambda: site.link(first).notified_notice_at == at == site.link(second).notified_notice_at,
               what="the announcement marked told")

    site.stop()                                                # another restart: the marks say it was told
    site.start()
    assert site.notifier.ready.wait(15)
    later = site.issue()
    site.subscribe(OTHER, later)                               # a visitor subscribing now: told it too
    telegram.wait_sent(lambda m: m.chat_id == OTHER and m.text == told_closed)
    site.window("call_next")                                   # first is called: one more pass, same announcement
    telegram.wait_sent(lambda m: m.chat_id == VISITOR and "приглашают" in m.text)
    for chat in (VISITOR, BYSTANDER, OTHER):
        assert telegram.texts(chat).count(told_closed) == 1, chat
    assert telegram.texts(OTHER)[0] == subscribed(later["number"])


def test_a_chat_that_refuses_the_announcement_is_forgotten(site, telegram):
    site.start()
    first, second = site.issue(), site.issue()
    site.subscribe(BYSTANDER, first)
    site.subscribe(VISITOR, second)
    telegram.wait_sent(lambda m: m.chat_id == BYSTANDER, count=2)
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)
    telegram.fail(1, status=403, description="Forbidden: bot was blocked by the user", method="sendMessage")
    site.hub.announce("Приём до 17:00")                        # told oldest link first: the bystander refuses it
    telegram.wait_sent(lambda m: m.chat_id == VISITOR and m.text == NOTICE + "Приём до 17:00")
    wait_until(lambda: site.link(first).chat_id is None, what="the refusing chat forgotten")
    assert site.link(second).chat_id == VISITOR
    assert NOTICE + "Приём до 17:00" not in telegram.texts(BYSTANDER)


def test_a_visitor_who_blocked_the_bot_is_forgotten(site, telegram):
    site.start()
    tickets = [site.issue() for _ in range(3)]
    site.subscribe(BYSTANDER, tickets[2])
    site.subscribe(VISITOR, tickets[0])                        # 0 ahead: «Вы следующий»
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)
    assert told(telegram, VISITOR)[1].startswith("Вы следующий.")
    telegram.fail(1, status=403, description="Forbidden: bot was blocked by the user", method="sendMessage")
    site.window("call_next")                                   # Telegram refuses the call message
    wait_until(lambda: site.link(tickets[0]).chat_id is None, what="the blocked chat forgotten")
    site.window("recall")
    site.settle()
    assert len(told(telegram, VISITOR)) == 2


# ---------------------------------------------------------------------------- the bot's commands
def test_unknown_token_start_without_token_and_stop(site, telegram):
    site.start()
    mine = site.issue()
    telegram.user_sends(OTHER, "/start not-a-token")
    assert telegram.wait_sent(lambda m: m.chat_id == OTHER)[0].text == text("unknown")
    telegram.user_sends(OTHER, "/start")
    telegram.wait_sent(lambda m: m.chat_id == OTHER, count=2)
    assert telegram.texts(OTHER)[1] == text("hello")
    with site.hub.dispatcher.db.sessions() as s, s.begin():     # a live ticket of another office
        elsewhere = ticket_links.create(s, "elsewhere", site.link(mine).day, mine["number"], site.clock())
    telegram.user_sends(OTHER, f"/start {elsewhere}")
    telegram.wait_sent(lambda m: m.chat_id == OTHER, count=3)
    assert telegram.texts(OTHER)[2] == text("unknown")
    with site.hub.dispatcher.db.sessions() as s:
        assert ticket_links.find(s, elsewhere).chat_id is None
    telegram.user_sends(-5, f"/start {token_of(mine)}", chat_type="group")   # a group chat: ignored

    site.subscribe(VISITOR, mine)                              # 0 ahead: told at once
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)
    site.subscribe(BYSTANDER, site.issue())
    telegram.user_sends(VISITOR, "/stop")
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=3)
    assert telegram.texts(VISITOR)[2] == text("stopped")
    assert site.link(mine).chat_id is None
    site.window("call_next")                                   # mine: not told, the visitor said stop
    site.settle()
    assert len(telegram.texts(VISITOR)) == 3

    site.window("start")
    site.window("finish")                                      # an ended ticket cannot be subscribed to
    telegram.user_sends(OTHER, f"/start {token_of(mine)}")
    telegram.wait_sent(lambda m: m.chat_id == OTHER, count=4)
    assert telegram.texts(OTHER)[3] == text("unknown")
    assert telegram.texts(-5) == []


def test_english_page_gets_english_messages(site, telegram):
    site.start()
    tickets = [site.issue() for _ in range(2)]
    with site.hub.dispatcher.db.sessions() as s, s.begin():
        ticket_links.set_lang(s, token_of(tickets[1]), "en")
    site.subscribe(VISITOR, tickets[1])
    telegram.wait_sent(lambda m: m.chat_id == VISITOR, count=2)
    number = tickets[1]["number"]
    assert telegram.texts(VISITOR) == [
        text("subscribed", "en", number=number, threshold=3),
        f"1 person is ahead of you. Please come closer to the waiting area. Ticket {number}."]


# ---------------------------------------------------------------------------- the hub's writer
def test_count_ahead_settles_the_far_tickets_and_counts_the_near_ones():
    """A long queue: tickets far back are settled among the earliest ones, the near ones
    counted in full; a far ticket is counted exactly once it comes to the threshold."""
    hub = LocalHub()
    try:
        hub.request("counter-1", "open", {"window": 1})
        tickets = [hub.request("kiosk-1", "issue", {"topic": "A", "kind": "walk_in"})["ticket"] for _ in range(40)]
        near, far = token_of(tickets[2]), token_of(tickets[30])
        with hub.db.sessions() as s, s.begin():
            ticket_links.attach_chat(s, near, VISITOR)
            ticket_links.attach_chat(s, far, OTHER)
        notifier = TelegramNotifier(hub.db, NotifierSettings("1:x", ahead=3), run_on_writer=lambda fn: fn())
        notifier.load_links()
        hub.dispatcher.add_listener(notifier.listener)
        notifier.count_ahead()
        assert notifier._views[near].ahead == 2 and notifier._views[far].ahead is None
        for _ in range(26):
            hub.request("counter-1", "call_next", {"window": 1})
            hub.request("counter-1", "start", {"window": 1})
            hub.request("counter-1", "finish", {"window": 1})
        notifier.count_ahead()
        assert notifier._views[near].ended
        assert notifier._views[far].ahead is None                # 4 ahead
        hub.request("counter-1", "call_next", {"window": 1})
        notifier.count_ahead()
        assert notifier._views[far].ahead == 3
    finally:
        hub.close()


# ---------------------------------------------------------------------------- wiring and settings
def test_start_for_hub_uses_the_token_file_and_names_the_bot_while_on(mosquitto_broker, tmp_path, telegram,
                                                                     monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    config = replace(make_config(windows=1), office_id=OFFICE)
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", config)
    with db.sessions() as s, s.begin():
        ticket_links.set_bot(s, OFFICE, "old_bot")             # left by an earlier run
    hub = Hub(db, mosquitto_broker.url, username="hub", password=mosquitto_broker.password("hub"))
    hub.start()
    try:
        assert start_for_hub(hub, tmp_path, telegram.base_url) is None     # no token: off
        with db.sessions() as s:
            assert ticket_links.bot(s, OFFICE) is None                      # and no bot on the page

        (tmp_path / TOKEN_FILE).write_text(telegram.token + "\n")
        notifier = start_for_hub(hub, tmp_path, telegram.base_url, ahead=2)
        assert notifier is not None and notifier.s.ahead == 2
        assert notifier.ready.wait(15)
        with db.sessions() as s:
            assert ticket_links.bot(s, OFFICE) == telegram.username
        notifier.stop()
        with db.sessions() as s:
            assert ticket_links.bot(s, OFFICE) is None
    finally:
        hub.stop()


def test_a_wrong_token_keeps_trying_without_naming_a_bot(tmp_path, telegram, caplog):
    caplog.set_level(logging.INFO)
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", replace(make_config(windows=1), office_id=OFFICE))
    notifier = TelegramNotifier(db, NotifierSettings("999:wrong", telegram.base_url, backoff_max_s=0.2),
                                run_on_writer=lambda fn: fn())
    notifier.start()
    try:
        telegram.wait_requests("getMe", 2)                     # refused (401), tried again
        assert not notifier.ready.is_set()
        with db.sessions() as s:
            assert ticket_links.bot(s, OFFICE) is None
    finally:
        notifier.stop()
        db.close()
    assert "rejected the bot token" in caplog.text
    assert "999:wrong" not in caplog.text, "the token must not reach the log"


def test_a_failure_in_a_loop_is_logged_and_waited_out(tmp_path, caplog, monkeypatch):
    """Telegram's errors: a warning, then the wait Telegram asked for (``_Backoff``, made of its
    ``RetryAfter``) or the doubling back-off; any other error (a bug): logged with its
    traceback, then the back-off."""
    import asyncio

    from telegram.error import NetworkError

    from hub.notifier import _Backoff

    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", replace(make_config(windows=1), office_id=OFFICE))
    notifier = TelegramNotifier(db, NotifierSettings("1:x", backoff_max_s=3.0), run_on_writer=lambda fn: fn())
    waited: list[float] = []

    async def sleep(seconds):
        waited.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    failures = [(1, NetworkError("Bad Gateway")), (2, _Backoff(7.0)), (3, RuntimeError("a bug")),
                (9, NetworkError("Bad Gateway"))]
    try:
        for n, exc in failures:
            asyncio.run(notifier._wait_after_failure(n, exc, "refused: %s; again in %.1f s", "failed"))
    finally:
        db.close()
    assert waited == [0.5, 7.0, 2.0, 3.0]
    records = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records
               if r.name == "hub.notifier"]   # not asyncio's own debug lines
    assert records == [("WARNING", "refused: Bad Gateway; again in 0.5 s", False),
                       ("WARNING", "refused: 7.0; again in 7.0 s", False),
                       ("ERROR", "failed", True),
                       ("WARNING", "refused: Bad Gateway; again in 3.0 s", False)]


def test_a_negative_threshold_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        NotifierSettings("1:x", ahead=-1)


def test_load_token(tmp_path, caplog):
    path = tmp_path / TOKEN_FILE
    assert load_token(tmp_path, environ={}) is None
    path.write_text("  \n")
    assert load_token(tmp_path, environ={}) is None
    path.write_text("123:from-file\n")
    path.chmod(0o600)
    assert load_token(tmp_path, environ={}) == "123:from-file"
    assert "can be read by other users" not in caplog.text
    path.chmod(0o644)
    assert load_token(tmp_path, environ={}) == "123:from-file"
    assert "can be read by other users" in caplog.text and "from-file" not in caplog.text
    assert load_token(tmp_path, environ={TOKEN_ENV: " 456:from-env "}) == "456:from-env"


@pytest.mark.parametrize("n, word", [(0, "человек"), (1, "человек"), (2, "человека"), (3, "человека"),
                                     (5, "человек"), (11, "человек"), (12, "человек"), (22, "человека")])
def test_people_agrees_with_the_number(n, word):
    assert people(n, "ru") == word


def test_a_429_is_read_as_the_wait_telegram_asks_for():
    """python-telegram-bot 22 warns (an error here) when a period is read as an int; the
    notifier switches it to timedelta, so a 429's retry_after is read, not lost to a warning."""
    import warnings

    from telegram.error import RetryAfter

    import hub.notifier as notifier
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exc = RetryAfter(7)
        assert notifier._seconds(exc.retry_after) == 7.0


def test_a_hub_without_a_bot_never_loads_the_telegram_library(tmp_path):
    """python-telegram-bot and its HTTP stack cost ~12 MB: only a hub with a token loads them."""
    import subprocess
    import sys
    code = ("import sys; import talon.office, hub.notifier_start; "
            "from pathlib import Path; assert hub.notifier_start.load_token(Path(sys.argv[1]), {}) is None; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'telegram'))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
