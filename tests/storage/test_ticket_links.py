"""Ticket links (the visitor's phone page) and the small per-office values, on SQLite and PostgreSQL."""
import base64
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from storage import ticket_links as links
from storage.engine import init_db, make_engine, make_sessionmaker

AT = datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(db_url):
    engine = make_engine(db_url)
    init_db(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_a_token_is_128_random_bits_unique_and_not_the_number(sessions):
    with sessions() as s, s.begin():
        tokens = [links.create(s, "mek", "2026-11-23", f"А{n:03d}", AT) for n in range(1, 201)]
    assert len(set(tokens)) == 200
    for token in tokens[:20]:
        raw = base64.urlsafe_b64decode(token + "==")
        assert len(raw) * 8 == 128 and "А" not in token
    with sessions() as s:
        link = links.find(s, tokens[4])
        assert (link.office, link.day, link.number, link.lang, link.chat_id) == ("mek", "2026-11-23", "А005", "ru", None)
        assert (link.ended, link.notified_ahead, link.notified_call_seq, link.notified_notice_at) == \
            (False, False, None, None)
        assert links.for_ticket(s, "mek", "2026-11-23", "А005") == link
        assert links.for_ticket(s, "mek", "2026-11-24", "А005") is None
        assert links.for_ticket(s, "other", "2026-11-23", "А005") is None


@pytest.mark.parametrize("token", ["", "nope", "x" * 33, "x" * 5000, None, 42, "' OR 1=1 --"])
def test_an_unknown_or_malformed_token_finds_nothing(sessions, token):
    with sessions() as s:
        assert links.find(s, token) is None
        assert links.attach_chat(s, token, 1) is None


def test_a_link_is_valid_on_its_day_until_its_ticket_ends(sessions):
    with sessions() as s, s.begin():
        token = links.create(s, "mek", "2026-11-23", "А001", AT)
    with sessions() as s:
        link = links.find(s, token)
    assert link.valid_on("2026-11-23") and not link.valid_on("2026-11-24")
    with sessions() as s, s.begin():
        assert links.attach_chat(s, token, 123456789012).chat_id == 123456789012    # a 64-bit chat id
        links.end(s, "mek", "2026-11-23", "А001", AT + timedelta(minutes=9), "left")
    with sessions() as s, s.begin():
        link = links.find(s, token)                # found still: the page says the ticket is finished
        assert (link.ended_at, link.outcome) == (AT + timedelta(minutes=9), "left")
        assert not link.valid_on("2026-11-23")
        assert link.chat_id is None                # the chat is forgotten when the ticket ends
        assert links.attach_chat(s, token, 5) is None
        links.end(s, "mek", "2026-11-23", "А001", AT + timedelta(hours=1), "done")   # ending again: no change
    with sessions() as s:
        assert links.find(s, token).outcome == "left"
        assert links.with_chats(s, "mek") == []


def test_chats_language_and_what_the_notifier_was_told(sessions):
    with sessions() as s, s.begin():
        a = links.create(s, "mek", "2026-11-23", "А001", AT)
        b = links.create(s, "mek", "2026-11-23", "А002", AT + timedelta(seconds=1))
        links.create(s, "mek", "2026-11-23", "А003", AT)
        other = links.create(s, "other", "2026-11-23", "А001", AT)
        for token in (a, b, other):
            links.attach_chat(s, token, 77)
        links.set_lang(s, b, "en")
        links.mark_ahead(s, a)
        links.mark_call(s, a, 1042)
        with pytest.raises(ValueError):
            links.set_lang(s, a, "de")
        assert links.attach_chat(s, a, 1, day="2026-11-24") is None      # another day's page
    with sessions() as s, s.begin():
        assert [x.token for x in links.with_chats(s, "mek")] == [a, b]
        la, lb = links.find(s, a), links.find(s, b)
        assert (la.notified_ahead, la.notified_call_seq, la.lang) == (True, 1042, "ru")
        assert (lb.notified_ahead, lb.notified_call_seq, lb.lang) == (False, None, "en")
        links.forget_chat(s, a)
    with sessions() as s:
        assert [x.token for x in links.with_chats(s, "mek")] == [b]


def test_the_announcement_told_is_marked_and_a_new_chat_has_not_heard_it(sessions):
    with sessions() as s, s.begin():
        token = links.create(s, "mek", "2026-11-23", "А001", AT)
        links.set_notice(s, "mek", "Окно 3 закрыто до 14:00", AT + timedelta(microseconds=123457))
        links.attach_chat(s, token, 77)
    with sessions() as s, s.begin():
        assert links.find(s, token).notified_notice_at is None
        _, at = links.notice(s, "mek")
        links.mark_notice(s, token, at)
    with sessions() as s, s.begin():
        assert links.find(s, token).notified_notice_at == at          # read back equal: the notifier compares them
        assert links.attach_chat(s, token, 77).notified_notice_at == at     # /start again from the same chat
        assert links.attach_chat(s, token, 88).notified_notice_at is None   # another chat: not told yet
        links.mark_notice(s, token, at)
        links.forget_chat(s, token)                                   # /stop, then /start: a new subscription
        assert links.attach_chat(s, token, 88).notified_notice_at is None


def test_purge_drops_the_days_before_and_only_of_that_office(sessions):
    with sessions() as s, s.begin():
        old = links.create(s, "mek", "2026-11-22", "А001", AT - timedelta(days=1))
        today = links.create(s, "mek", "2026-11-23", "А001", AT)
        elsewhere = links.create(s, "other", "2026-11-01", "А001", AT)
        assert links.purge(s, "mek", "2026-11-23") == 1
    with sessions() as s:
        assert links.find(s, old) is None
        assert links.find(s, today) is not None and links.find(s, elsewhere) is not None


def test_notice_and_bot_name_are_kept_per_office(sessions):
    with sessions() as s, s.begin():
        assert links.notice(s, "mek") is None and links.bot(s, "mek") is None
        links.set_notice(s, "mek", "Окно 3 закрыто до 14:00", AT)
        links.set_bot(s, "mek", "@talon_mek_bot")
    with sessions() as s, s.begin():
        assert links.notice(s, "mek") == ("Окно 3 закрыто до 14:00", AT)
        assert links.notice(s, "other") is None
        assert links.bot(s, "mek") == "talon_mek_bot"
        links.set_notice(s, "mek", "Новое", AT + timedelta(minutes=1))
    with sessions() as s, s.begin():
        assert links.notice(s, "mek") == ("Новое", AT + timedelta(minutes=1))
        links.set_notice(s, "mek", "  ", AT)          # empty clears
        links.set_bot(s, "mek", None)
    with sessions() as s:
        assert links.notice(s, "mek") is None and links.bot(s, "mek") is None


def test_the_telegram_updates_mark_is_per_office_and_trusted_for_a_day(sessions):
    with sessions() as s, s.begin():
        assert links.updates_handled(s, "mek", AT) is None
        links.set_updates_handled(s, "mek", 1042, AT)
    with sessions() as s, s.begin():
        assert links.updates_handled(s, "mek", AT + timedelta(hours=23)) == 1042
        assert links.updates_handled(s, "other", AT) is None
        # after a week of silence Telegram may number updates anew: an old mark is not trusted
        assert links.updates_handled(s, "mek", AT + links.UPDATES_MARK_FRESH + timedelta(seconds=1)) is None
        links.set_updates_handled(s, "mek", 1043, AT + timedelta(days=3))
    with sessions() as s:
        assert links.updates_handled(s, "mek", AT + timedelta(days=3)) == 1043


def test_migration_0005_adds_the_tables_to_a_0004_database(db_url):
    from sqlalchemy import inspect

    from storage.migrate import upgrade
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    assert "ticket_links" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert {"ticket_links", "office_values"} <= set(inspect(engine).get_table_names())
    with engine.begin() as c:
        c.execute(text("SELECT token, office, day, number, created_at, ended_at, outcome, lang, chat_id, "
                       "notified_ahead, notified_call_seq FROM ticket_links"))
    engine.dispose()


def test_migration_0009_adds_the_announcement_mark_to_a_0008_database(db_url):
    from sqlalchemy import inspect

    from storage.migrate import upgrade
    engine = make_engine(db_url)
    upgrade(engine, "0008")
    with engine.begin() as c:
        c.execute(text("INSERT INTO ticket_links (token, office, day, number, created_at, lang, chat_id, "
                       "notified_ahead) VALUES ('tok', 'mek', '2026-11-23', 'А001', 0, 'ru', 77, false)"))
    assert "notified_notice_at" not in {c["name"] for c in inspect(engine).get_columns("ticket_links")}
    upgrade(engine)
    with make_sessionmaker(engine)() as s:
        link = links.find(s, "tok")
        assert (link.chat_id, link.notified_notice_at) == (77, None)    # a chat linked before: not told yet
    engine.dispose()
