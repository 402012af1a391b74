"""The Telegram notifier: tells a visitor who asked for it — «Уведомить в Telegram» on the
ticket's phone page, a deep link ``https://t.me/<bot>?start=<token>`` — that their turn is
near and that they are called, without a phone number (docs/deploy.md, "Telegram notifications").

It runs in the hub process when a bot token is configured, on its own thread with its own
asyncio loop (python-telegram-bot is async), so the hub never waits for Telegram:

* **The hub's side** is :meth:`TelegramNotifier.listener`, called on the hub's writer after
  each committed transaction. It reads the live office (safe there: it is the writer) for
  the tickets that have a chat — called? ended? — leaves a small picture of each
  (:class:`View`) for the notifier thread and wakes it: a dictionary look-up per linked
  ticket, no database, no network, nothing that waits. Counting the people ahead costs more,
  so :meth:`TelegramNotifier.count_ahead` does it on the writer at most every
  ``COUNT_EVERY_S`` while the queue moves (``Hub.run_on_writer``, between commands).
* **The notifier thread** long-polls ``getUpdates`` (``/start <token>`` attaches the chat
  to the ticket's link, ``/stop`` forgets it) and delivers: for every linked ticket it
  compares the latest picture with the marks stored on its link
  (``storage.ticket_links``: ``notified_ahead``, ``notified_call_seq``) and sends what is
  due — «Перед Вами 3 человека» once the people ahead are at most the threshold, «Вас
  приглашают в окно 3» for a call or recall not told yet — and marks it only after
  Telegram accepted the message. A ticket that ended has its chat forgotten.
* **Failures** (no internet, Bot API errors, 429 ``retry_after``) stop the pass; it is
  tried again after a backoff, on this thread. What became due meanwhile is sent once when
  Telegram answers again: the marks say what was told. After a hub restart the first
  pass works from the database's marks and the live queue, so nothing is lost or told twice
  (a crash between Telegram's acceptance and the mark's commit could repeat one message).
* **The announcement** to everyone waiting is the office's current one, kept in the database
  (``ticket_links.notice``); every pass tells it to each linked chat whose mark
  (``notified_notice_at``) is not that announcement's time, and marks it once Telegram
  accepted. So an announcement made while Telegram is unreachable is told once it answers,
  even after a hub restart; a visitor who subscribes later hears the current announcement
  once; a newer announcement replaces one not yet told (as on the board); a cleared one is
  no longer told.
"""
from __future__ import annotations

import asyncio
import heapq
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

# python-telegram-bot 22 reports periods (a 429's ``retry_after``) as ints with a deprecation
# warning unless told to use timedelta; the warning would even replace the RetryAfter raised.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, Update  # noqa: E402  (after the switch above)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError  # noqa: E402

from hub.notifier_start import AHEAD_DEFAULT, TOKEN_ENV, TOKEN_FILE, clear_bot, load_token, start_for_hub  # noqa: F401 (re-exported)
from hub.notifier_texts import text
from queue_core.dispatch import issue_order
from queue_core.estimate import ahead_of
from queue_core.model import TicketState
from storage import ticket_links
from storage.events import CALL_EVENTS
from storage.queue_db import QueueDatabase

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 60.0
STOP_WAIT_S = 10.0
EARLIEST_FACTOR = 4      # count_ahead first counts among (threshold + 1) × this many earliest tickets
COUNT_EVERY_S = 0.2      # the people ahead are counted on the hub's writer at most this often


@dataclass(frozen=True)
class NotifierSettings:
    token: str
    api_url: str | None = None        # the Bot API's base URL (a proxy, or a test's fake); None: Telegram's
    ahead: int = AHEAD_DEFAULT        # «Перед Вами N человек» once at most this many are ahead
    poll_timeout_s: int = 25          # getUpdates long poll
    backoff_max_s: float = BACKOFF_MAX_S

    def __post_init__(self) -> None:
        if self.ahead < 0:
            raise ValueError(f"the people-ahead threshold must be 0 or more, got {self.ahead}")


@dataclass(frozen=True, slots=True)
class Call:
    seq: int
    window: int
    recall: bool


@dataclass(frozen=True, slots=True)
class View:
    """What the live queue said of one linked ticket at the hub's last transaction."""
    ended: bool = False
    ahead: int | None = None          # waiting, not yet told: the people ahead
    called: bool = False              # called to a window (not yet being served)
    call: Call | None = None          # its last call, when the hub saw it in this process


@dataclass
class _Linked:
    day: str
    number: str
    ahead_told: bool


class _Backoff(Exception):
    def __init__(self, retry_after: float | None = None):
        super().__init__(retry_after)
        self.retry_after = retry_after


class TelegramNotifier:
    """:param run_on_writer: runs a function as the hub's writer, between commands
    (``Hub.run_on_writer``); the notifier reads the live office only there."""

    def __init__(self, db: QueueDatabase, settings: NotifierSettings,
                 run_on_writer: Callable[[Callable[[], None]], None],
                 clock: Callable[[], datetime] | None = None):
        self.db = db
        self.s = settings
        self.office_id = db.office_id
        self._run_on_writer = run_on_writer
        self.clock = clock or (lambda: datetime.now(db.office.tz))
        self.bot_username: str | None = None
        self._lock = threading.Lock()                  # what both threads touch, below
        self._linked: dict[str, _Linked] = {}          # token -> its ticket, for live links with a chat
        self._views: dict[str, View] = {}              # token -> the latest view of its ticket
        self._calls: dict[str, Call] = {}              # writer only: live ticket -> its last call
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._main: asyncio.Task | None = None
        self._stopping = False
        self._count_due = False                        # the queue moved since the people ahead were counted
        self._counted_at = 0.0                         # when a count was last asked of the writer
        self._count_timer: asyncio.TimerHandle | None = None
        self._thread = threading.Thread(target=self._run, name="telegram-notifier", daemon=True)
        self.ready = threading.Event()                 # set once getMe answered and the bot name is stored

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        # httpx logs every request's URL at INFO, and the URL holds the bot token
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        self.load_links()
        self._thread.start()

    def load_links(self) -> None:
        """The live links with a chat, from the database (at start: what a restart must go on with)."""
        with self.db.sessions() as s:
            links = ticket_links.with_chats(s, self.office_id)
        with self._lock:
            self._linked = {lk.token: _Linked(lk.day, lk.number, lk.notified_ahead) for lk in links}

    def stop(self) -> None:
        self._stopping = True
        loop, main = self._loop, self._main
        if loop is not None and main is not None:
            loop.call_soon_threadsafe(main.cancel)
        self._thread.join(STOP_WAIT_S)
        self._store_bot(None)     # the page stops offering a bot nobody answers for

    # ------------------------------------------------------------------ the hub's writer
    def listener(self, items: Iterable[dict] = ()) -> None:
        """The hub's listener (``Hub.add_listener``), on its writer after each committed change:
        ``items`` are the published events, or ``{"kind": "notice", "text": …}`` after a staff
        announcement (the notifier thread reads it from the database). Notes the calls and the
        ended tickets (a look-up per linked ticket) and hands them to the notifier thread;
        counting the people ahead is left to :meth:`count_ahead`, at most every
        ``COUNT_EVERY_S``. Never waits."""
        office = self.db.office
        for item in items:
            kind, number, window, seq = item.get("kind"), item.get("ticket"), item.get("window"), item.get("seq")
            if kind == "notice":
                continue                             # every pass tells the current one (_announce)
            if kind in CALL_EVENTS and isinstance(number, str) and isinstance(window, int) and isinstance(seq, int):
                self._calls[number] = Call(seq, window, kind == "recalled")
            elif isinstance(number, str) and number not in office.tickets:
                self._calls.pop(number, None)        # the ticket ended
        with self._lock:
            linked = {token: (lk.day, lk.number, lk.ahead_told) for token, lk in self._linked.items()}
        if not linked:
            return
        views, count = {}, False
        for token, (day, number, ahead_told) in linked.items():
            t = office.tickets.get(number)
            if t is None or t.day != day:
                views[token] = View(ended=True)
            elif t.state is TicketState.CALLED:
                views[token] = View(called=True, call=self._calls.get(number))
            elif t.state is TicketState.WAITING and not ahead_told:
                count = True                         # the queue moved: count again (count_ahead)
            else:
                views[token] = View()
        with self._lock:
            self._views.update(views)
            self._count_due = self._count_due or count
        self._poke()

    def count_ahead(self) -> None:
        """On the hub's writer: the people ahead of every linked ticket still waiting to be told
        «Перед Вами N человек». A ticket far back is settled by counting among the earliest
        waiting tickets alone (a subset, so at most its true count): already over the
        threshold, it needs no full count. So a long queue with many linked tickets costs the
        writer little; only the few near the front are counted in full."""
        office = self.db.office
        with self._lock:
            linked = {token: (lk.day, lk.number) for token, lk in self._linked.items() if not lk.ahead_told}
        waiting = office.waiting()
        earliest = heapq.nsmallest(EARLIEST_FACTOR * (self.s.ahead + 1), waiting, key=issue_order)
        views = {}
        for token, (day, number) in linked.items():
            t = office.tickets.get(number)
            if t is None or t.day != day or t.state is not TicketState.WAITING:
                continue                             # the listener's view says what became of it
            ahead = None
            if ahead_of(office.config, t, earliest, office.windows, office.recent)[0] <= self.s.ahead:
                ahead = ahead_of(office.config, t, waiting, office.windows, office.recent)[0]
            views[token] = View(ahead=ahead)
        with self._lock:
            self._views.update(views)
        self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:      # the loop closed meanwhile (stopping)
                pass

    def _look(self) -> None:
        self.listener()
        self.count_ahead()

    def _look_again(self) -> None:
        """A fresh view of the linked tickets, taken on the hub's writer."""
        self._run_on_writer(self._look)

    # ------------------------------------------------------------------ the notifier thread
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._wake = asyncio.Event()
        self._main = asyncio.current_task()
        if self._stopping:          # stopped before this thread got going
            return
        bot = Bot(self.s.token, base_url=self.s.api_url) if self.s.api_url else Bot(self.s.token)
        try:
            await self._connect(bot)
            self._look_again()
            await asyncio.gather(self._poll(bot), self._deliver_loop(bot))
        except asyncio.CancelledError:
            pass
        finally:
            try:
                await bot.shutdown()
            except Exception:
                log.debug("telegram bot shutdown failed", exc_info=True)

    async def _connect(self, bot: Bot) -> None:
        """getMe until Telegram answers; then the page may offer the bot."""
        failures = 0
        while True:
            try:
                await bot.initialize()
                break
            except TelegramError as exc:
                failures += 1
                delay = self._delay(failures, exc)
                if isinstance(exc, InvalidToken):     # its message quotes the token: not for the log
                    log.error("Telegram rejected the bot token (%s or the file %s); trying again in %.1f s",
                              TOKEN_ENV, TOKEN_FILE, delay)
                else:
                    log.warning("Telegram is not answering getMe (%s); trying again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
        self.bot_username = bot.username
        self._store_bot(bot.username)
        self.ready.set()
        log.info("Telegram notifier on as @%s", bot.username)

    def _delay(self, failures: int, exc: BaseException | None = None) -> float:
        if isinstance(exc, RetryAfter):
            return _seconds(exc.retry_after)
        if isinstance(exc, _Backoff) and exc.retry_after is not None:
            return exc.retry_after
        return min(self.s.backoff_max_s, BACKOFF_FIRST_S * 2 ** (failures - 1))

    async def _wait_after_failure(self, failures: int, exc: Exception, refused: str, failed: str) -> None:
        """Log the ``failures``-th failure in a row and wait before the next try. Telegram's
        errors are to be expected: a warning (``refused`` % (exc, delay)); anything else is a
        bug: logged with its traceback (``failed``)."""
        delay = self._delay(failures, exc)
        if isinstance(exc, (TelegramError, _Backoff)):
            log.warning(refused, exc, delay)
        else:
            log.error(failed, exc_info=exc)
        await asyncio.sleep(delay)

    # ------------------------------------------------------------------ updates: /start, /stop
    async def _poll(self, bot: Bot) -> None:
        # Telegram forgets an update only when the next poll confirms it, so one handled just
        # before a restart comes again. The mark in the database, written before the answer
        # (a stop may cut the answer short), says which ones a restart must not answer again.
        with self.db.sessions() as s:
            before_restart = ticket_links.updates_handled(s, self.office_id, self.clock())
        offset = before_restart
        failures = 0
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=self.s.poll_timeout_s,
                                                read_timeout=self.s.poll_timeout_s + 10,
                                                allowed_updates=["message"])
                for update in updates:
                    if before_restart is None or update.update_id >= before_restart:
                        self._write(ticket_links.set_updates_handled, self.office_id, update.update_id + 1,
                                    self.clock())
                        await self._on_update(bot, update)     # a failed answer: it comes again in this run
                    offset = update.update_id + 1
                failures = 0
            except Exception as exc:
                failures += 1
                await self._wait_after_failure(failures, exc, "Telegram updates: %s; trying again in %.1f s",
                                               "could not handle a Telegram update; trying again")

    async def _on_update(self, bot: Bot, update: Update) -> None:
        message = update.message
        if message is None or not message.text or message.chat.type != "private":
            return
        chat = message.chat.id
        words = message.text.split()
        command = words[0].split("@")[0] if words else ""
        if command == "/start" and len(words) > 1:
            day = self.db.office.local_day(self.clock())
            with self.db.sessions() as s, s.begin():
                found = ticket_links.find(s, words[1])
                link = ticket_links.attach_chat(s, words[1], chat, day=day) \
                    if found is not None and found.office == self.office_id else None
            if link is None:
                await self._send(bot, chat, text("unknown"))
                return
            await self._send(bot, chat, text("subscribed", link.lang, number=link.number, threshold=self.s.ahead))
            with self._lock:
                known = self._linked.get(link.token)
                self._linked[link.token] = _Linked(link.day, link.number,
                                                   link.notified_ahead or bool(known and known.ahead_told))
            self._look_again()
        elif command == "/stop":
            with self.db.sessions() as s, s.begin():
                mine = [lk for lk in ticket_links.with_chats(s, self.office_id) if lk.chat_id == chat]
                for lk in mine:
                    ticket_links.forget_chat(s, lk.token)
            self._drop(lk.token for lk in mine)
            await self._send(bot, chat, text("stopped", mine[0].lang if mine else "ru"))
        else:
            await self._send(bot, chat, text("hello"))

    # ------------------------------------------------------------------ delivery
    async def _deliver_loop(self, bot: Bot) -> None:
        assert self._wake is not None
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._ask_for_a_count()
            try:
                await self._deliver(bot)
                failures = 0
            except Exception as exc:
                failures += 1
                await self._wait_after_failure(failures, exc,
                                               "Telegram notifications held back (%s); trying again in %.1f s",
                                               "Telegram notifications failed; trying again")
                self._wake.set()

    def _ask_for_a_count(self) -> None:
        """Have the hub's writer count the people ahead (``count_ahead``) when the queue moved,
        at most every ``COUNT_EVERY_S``: a burst of commands costs the writer one count."""
        assert self._loop is not None and self._wake is not None
        with self._lock:
            if not self._count_due:
                return
            wait = self._counted_at + COUNT_EVERY_S - time.monotonic()
            if wait <= 0:
                self._count_due, self._counted_at = False, time.monotonic()
        if wait > 0:
            if self._count_timer is None or self._count_timer.when() <= self._loop.time():
                self._count_timer = self._loop.call_later(wait, self._wake.set)
        else:
            self._run_on_writer(self.count_ahead)

    async def _deliver(self, bot: Bot) -> None:
        """One pass: every message due now, each marked once Telegram accepted it."""
        with self._lock:
            views = dict(self._views)
        with self.db.sessions() as s:
            links = {lk.token: lk for lk in ticket_links.with_chats(s, self.office_id)}
            notice = ticket_links.notice(s, self.office_id)
        for token, view in views.items():
            link = links.get(token)
            if link is None or view.ended:            # the ticket ended (its chat went with it) or /stop
                if link is not None:
                    self._write(ticket_links.forget_chat, token)
                    del links[token]
                self._drop([token])
                continue
            if view.called:
                await self._tell_call(bot, link, view.call)
            elif view.ahead is not None and not link.notified_ahead and view.ahead <= self.s.ahead:
                key = "next" if view.ahead == 0 else "ahead"
                if await self._send(bot, link.chat_id, text(key, link.lang, ahead=view.ahead, number=link.number),
                                    link.token):
                    self._write(ticket_links.mark_ahead, token)
                    self._ahead_told(token)
        if notice is not None:
            await self._announce(bot, links.values(), *notice)

    async def _tell_call(self, bot: Bot, link: ticket_links.Link, call: Call | None) -> None:
        if call is None:
            # a call this process did not see (made before a restart): the event log has it
            with self.db.sessions() as s:
                found = ticket_links.last_call(s, self.office_id, link.number, link.created_at)
            call = Call(*found) if found else None
        if call is None or call.seq <= (link.notified_call_seq or 0):
            return
        key = "recalled" if call.recall else "called"
        if await self._send(bot, link.chat_id, text(key, link.lang, window=call.window, number=link.number),
                            link.token):
            self._write(ticket_links.mark_call, link.token, call.seq)
            if not link.notified_ahead:
                self._write(ticket_links.mark_ahead, link.token)    # called: «N ahead» would come too late
            self._ahead_told(link.token)

    async def _announce(self, bot: Bot, links: Iterable[ticket_links.Link], message: str, at: datetime) -> None:
        """The current announcement (made at ``at``) to every linked chat not told it yet,
        each marked once Telegram accepted it."""
        for link in list(links):
            if link.notified_notice_at == at:
                continue
            if await self._send(bot, link.chat_id, text("announcement", link.lang, text=message), link.token):
                self._write(ticket_links.mark_notice, link.token, at)

    async def _send(self, bot: Bot, chat: int | None, message: str, token: str | None = None) -> bool:
        """True once Telegram accepted the message; False when it never will (the visitor
        blocked the bot, the chat is gone: the link's chat is forgotten). Anything else
        raises ``_Backoff``, so the pass stops and is tried again later."""
        if chat is None:
            return False
        try:
            await bot.send_message(chat, message)
            return True
        except RetryAfter as exc:
            raise _Backoff(_seconds(exc.retry_after)) from exc
        except (Forbidden, BadRequest) as exc:
            log.warning("Telegram refused a message to a chat (%s); the chat is forgotten", exc)
            if token is not None:
                self._write(ticket_links.forget_chat, token)
                self._drop([token])
            return False

    # ------------------------------------------------------------------ small helpers
    def _write(self, fn: Callable, *args) -> None:
        with self.db.sessions() as s, s.begin():
            fn(s, *args)

    def _drop(self, tokens: Iterable[str]) -> None:
        with self._lock:
            for token in tokens:
                self._linked.pop(token, None)
                self._views.pop(token, None)

    def _ahead_told(self, token: str) -> None:
        with self._lock:
            if token in self._linked:
                self._linked[token].ahead_told = True
            if token in self._views and self._views[token].ahead is not None:
                self._views[token] = View()

    def _store_bot(self, username: str | None) -> None:
        try:
            with self.db.sessions() as s, s.begin():
                ticket_links.set_bot(s, self.office_id, username)
        except Exception:
            log.exception("could not store the Telegram bot's name")


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

