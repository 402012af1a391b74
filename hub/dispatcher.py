"""The hub's dispatcher: commands in, one transaction each, replies, events and state out.

It is the single writer of queue state (docs/architecture.md §2). It knows nothing of MQTT
sockets: ``handle_command`` takes a device id and raw bytes and returns the
publications to make (the reply first). ``hub.service`` moves bytes in and out.
Each command runs in one ``storage`` unit of work (``QueueDatabase.unit_of_work``:
``uow.office``, ``uow.bookings``, ``uow.operators``, ``uow.record_reply``); every SQL
statement is storage's.

* Bad input never changes anything: it gets an ``ok:false`` reply with a code.
* A repeated ``(device, id)`` gets the stored reply and changes nothing, so a retried
  *Next* calls one visitor, not two.
* Every event carries the office's ``seq``; the retained states follow each change.
"""
from __future__ import annotations

import logging
import socket
from collections import deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from broker import messages
from broker.errors import CommandError
from broker.roles import reserved_device_id
from broker.topics import Topics
from hub import states
from queue_core.errors import QueueError, UnknownTicket
from queue_core.model import Event, Ticket, TicketKind
from queue_core.office import Office
from storage.events import CALL_EVENTS
from storage.presence import Status
from storage.queue_db import QueueDatabase, UnitOfWork
from storage.ticket_links import NOTICE_MAX

log = logging.getLogger(__name__)

PHONE = "~phone"          # the command log's device for visitors' phones (no device id has a "~")
Listener = Callable[[list[dict]], None]


class Publication(NamedTuple):
    topic: str
    payload: dict
    retain: bool = False


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    role: str
    window: int | None = None


class SeenCommands:
    """The (device, id) pairs of recent commands, so that a new command costs no lookup:
    only an id seen before is looked up in the command log for its stored reply.
    Devices retry within seconds, so the newest ``size`` commands are plenty."""

    def __init__(self, size: int = 100_000):
        self._keys: set[tuple[str, str]] = set()
        self._order: deque[tuple[str, str]] = deque()
        self.size = size

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._keys

    def add(self, key: tuple[str, str]) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        self._order.append(key)
        if len(self._order) > self.size:
            self._keys.discard(self._order.popleft())

    def load(self, keys: list[tuple[str, str]]) -> None:
        """Remember these (device, id) pairs, oldest first."""
        for key in keys[-self.size:]:
            self.add(key)


def default_public_url(web_port: int = 8080) -> str:
    """The visitors' pages when ``[web] public_url`` is not set: this host's name and web port."""
    return f"http://{socket.gethostname()}:{web_port}"


class Dispatcher:
    def __init__(self, db: QueueDatabase, clock: Callable[[], datetime] | None = None,
                 public_url: str | None = None):
        self.db = db
        self.public_url = public_url      # the default base of the ticket pages (``base_url``)
        self.listeners: list[Listener] = []
        self.office_id = db.config.office_id
        self.topics = Topics(self.office_id)
        self.clock = clock or (lambda: datetime.now(db.office.tz))
        self.devices: dict[str, DeviceInfo] = {}
        self.operator_names: dict[str, str] = {}
        self.presence: dict[str, tuple[str, str | None]] = {}   # device -> (state, printer state)
        self.help_seen: dict[str, str] = {}     # device -> the last «Вызов персонала» it reported
        self.window_actions: dict[int, tuple[str, ...]] = {}   # window -> the actions last published
        self.clock_checked: datetime | None = None   # the minute the windows' actions were last checked against
        self.filed_through: str | None = None     # the office day whose eve was last rolled up for reports
        self.calls: deque[dict] = deque(maxlen=db.config.board_history)
        self.seen = SeenCommands()
        self.queue_dirty = False
        with db.reading() as uow:
            self.seen.load(uow.recent_commands(self.seen.size))
        self.reload_directory()
        self._load_calls()

    @property
    def office(self) -> Office:
        return self.db.office

    @property
    def base_url(self) -> str | None:
        """Where the tickets' pages live: ``[web] public_url``, else the runtime's default
        (given only when this office serves the web); None: no pages, so no ``url``."""
        url = self.office.config.public_url or self.public_url
        return url.rstrip("/") if url else None

    def ticket_url(self, token: str) -> str | None:
        base = self.base_url
        return f"{base}/t/{token}" if base else None

    # ------------------------------------------------------------------ listeners
    def add_listener(self, callback: Listener) -> None:
        """``callback(items)`` after each committed change, on the writer's thread and under
        its lock: ``items`` are the event payloads as published on ``event/ticket``, or one
        ``{"kind": "notice", ...}`` (the ``state/notice`` payload) after an announcement. It
        must be cheap (hand the items to a queue of its own): the hub waits for it. An
        exception is logged and ignored."""
        self.listeners.append(callback)

    def _tell(self, items: list[dict]) -> None:
        for callback in self.listeners:
            try:
                callback(items)
            except Exception:
                log.exception("hub listener %r failed; carrying on", callback)

    # ------------------------------------------------------------------ start-up
    def reload_directory(self) -> list[Publication]:
        """Devices and operators as provisioned in the database; ``state/config`` again when the
        operators changed (counters list them by name at sign-in)."""
        before = getattr(self, "operator_names", None)        # None: the first load, at start
        with self.db.reading() as uow:
            devices, self.operator_names = uow.directory()
            changed = before is not None and before != self.operator_names
            operators = uow.operators.active() if changed else None
        # an id reserved for the hub (a row older than the check) is no device: runtime logs it
        self.devices = {d.device: DeviceInfo(d.role, d.window) for d in devices.values()
                        if not reserved_device_id(d.device)}
        if operators is None:
            return []
        return [Publication(self.topics.state("config"), states.config_state(self.office, operators, self.base_url), True)]

    def _load_calls(self) -> None:
        with self.db.reading() as uow:
            calls = uow.recent_calls(self.calls.maxlen)
        for c in calls:
            self._remember_call(c.ticket, c.window, c.topic, c.at.astimezone(self.office.tz), c.recall)

    def all_states(self) -> list[Publication]:
        """Every retained state, rebuilt from the database (hub start, reconnect)."""
        now = self.clock()
        with self.db.reading() as uow:
            operators = uow.operators.active()
        pubs = [Publication(self.topics.state("config"), states.config_state(self.office, operators, self.base_url), True),
                Publication(self.topics.state("queue"), states.queue_state(self.office, now), True),
                Publication(self.topics.state("board"), states.board_state(self.office.seq, self.calls), True)]
        pubs += [self._window_publication(n, now) for n in self.office.windows]
        pubs.append(self._notice_publication())
        return pubs

    def apply_config(self, config) -> list[Publication]:
        """Run the office under new settings: the live queue is reloaded from the database
        under them, and every retained state is republished."""
        self.db.config = config
        self.db.reload()
        self.calls = deque(self.calls, maxlen=config.board_history)
        log.info("office settings applied: %d topics, %d windows", len(config.topics), len(config.windows))
        return self.all_states()

    def refresh(self) -> list[Publication]:
        """The queue state ages with the clock (oldest waits, cut-offs): republish it, and,
        once a minute, the window states whose ``actions`` the clock changed (the last open
        window may close once the working hours end)."""
        self.queue_dirty = False
        now = self.clock()
        self._file_the_closed_day(now)
        pubs = [Publication(self.topics.state("queue"), states.queue_state(self.office, now), True)]
        minute = now.replace(second=0, microsecond=0)
        if minute != self.clock_checked:
            # The clock moves a window's actions only at a minute boundary (the calendar's hours
            # are in minutes): checking every window once a minute is enough, not after each burst.
            self.clock_checked = minute
            pubs += self._changed_windows(now, ())
        return pubs

    def _changed_windows(self, now: datetime, touched: Collection[int]) -> list[Publication]:
        """The states of the windows ``touched`` and of every other window whose ``actions``
        differ from the ones last published; the others are left as they are (retained)."""
        pubs = []
        for n in sorted(self.office.windows):
            actions = self.office.allowed_actions(n, now)
            if n in touched or actions != self.window_actions.get(n):
                pubs.append(self._window_publication(n, now, actions))
        return pubs

    def _file_the_closed_day(self, now: datetime) -> None:
        """Once a day, after midnight: roll up the two days before, so the first report of the
        morning reads them from the roll-ups (a late finish still re-files a day when it is read);
        and drop the ticket links of the days before yesterday (also at the hub's start)."""
        today = self.office.local_day(now)
        if self.filed_through == today:
            return
        if self.filed_through is not None:
            try:
                self.db.roll_up_closed_days(now - timedelta(days=2), now)
            except Exception:
                log.exception("could not roll up the closed office days; reports read their legs instead")
        try:            # at start and once a day: a ticket page is valid on its day only
            with self.db.writing() as uow:
                uow.purge_links(self.office.local_day(now - timedelta(days=1)))
        except Exception:
            log.exception("could not purge old ticket links")
        self.filed_through = today

    def _window_publication(self, n: int, now: datetime, actions: tuple[str, ...] | None = None) -> Publication:
        if actions is None:
            actions = self.office.allowed_actions(n, now)
        self.window_actions[n] = actions
        return Publication(self.topics.window_state(n),
                           states.window_state(self.office, n, self.operator_names, now, actions), True)

    def flush(self) -> list[Publication]:
        """The queue state, if commands changed it since it was last published. The hub
        calls this when no command is waiting, so a burst costs one rebuild, not one each."""
        return self.refresh() if self.queue_dirty else []

    # ------------------------------------------------------------------ commands
    def handle_command(self, device: str, raw: bytes) -> Iterator[Publication]:
        """The publications a command leads to, in order: the reply, the events, then
        the retained states. A generator, so the hub sends the reply and the call event
        before it spends time rebuilding the queue state."""
        reply_topic = self.topics.reply(device)
        try:
            cmd = messages.parse_command(raw)
        except messages.ContractError as exc:
            log.warning("bad command from %s: %s", device, exc)
            yield Publication(reply_topic, messages.error_reply(exc.request_id, exc))
            return
        info = self.devices.get(device)
        try:
            if info is None:
                raise CommandError("unknown_device", f"Устройство «{device}» не зарегистрировано",
                                   f"device {device!r} is not provisioned")
            messages.authorize(info.role, cmd.op)
            window = cmd.args.get("window")
            if info.window is not None and window is not None and window != info.window:
                raise CommandError("forbidden", f"Это устройство работает только для окна {info.window}",
                                   f"this device acts only for window {info.window}")
        except CommandError as exc:
            log.warning("refused %s from %s: %s", cmd.op, device, exc)
            yield Publication(reply_topic, messages.error_reply(cmd.id, exc))
            return

        if (device, cmd.id) in self.seen:
            with self.db.reading() as uow:
                stored = uow.stored_reply(device, cmd.id)
            if stored is not None:
                log.info("repeated command %s from %s: stored reply sent again", cmd.id, device)
                yield Publication(reply_topic, stored)
                return
        self.seen.add((device, cmd.id))

        now = self.clock()
        try:
            reply, events = self.db.unit_of_work(lambda uow: self._execute(uow, device, cmd, now))
        except (QueueError, CommandError) as exc:
            reply, events = self._refusal(device, cmd, now, exc), []
        except Exception:
            log.exception("command %s %s from %s failed", cmd.op, cmd.id, device)
            yield Publication(reply_topic, messages.error_reply(cmd.id, "internal"))
            return
        yield Publication(reply_topic, reply)
        yield from self._publications(events, now)

    def _refusal(self, device: str, cmd: messages.Command, now: datetime, exc: Exception) -> dict:
        if isinstance(exc, QueueError):
            exc = CommandError(exc.code, exc.message_ru, exc.message)
        reply = messages.error_reply(cmd.id, exc)
        with self.db.writing() as uow:
            uow.record_reply(device, cmd.id, cmd.op, now, reply)
        return reply

    def _execute(self, uow: UnitOfWork, device: str, cmd: messages.Command, now: datetime) -> dict:
        data = self._apply(uow, cmd.op, cmd.args, now)
        reply = messages.ok_reply(cmd.id, data)
        uow.record_reply(device, cmd.id, cmd.op, now, reply)
        return reply

    def _apply(self, uow: UnitOfWork, op: str, a: dict, now: datetime) -> dict:
        office = uow.office
        w = a.get("window")
        match op:
            case "issue":
                _check_category(office, a.get("category"))
                _check_segment(office, a.get("segment"))
                t = office.issue(a["topic"], now, TicketKind(a["kind"]), category=a.get("category"),
                                 segment=a.get("segment"))
                return {"ticket": self._with_link(uow, t, now)}
            case "checkin":
                return {"ticket": self._with_link(uow, self._check_in(uow, a["code"], now), now)}
            case "sign_in" | "open" | "close" | "pause":
                return self._apply_to_window(uow, op, a, now)
            case "call_next":
                t = office.call_next(w, now)
                return {"ticket": None if t is None else states.ticket_payload(t)}
            case "recall" | "start" | "no_show":
                t = getattr(office, op)(w, now)
            case "finish":
                t = office.finish(w, now, a.get("outcome", "done"), a.get("accounts", 1))
            case "transfer":
                t = office.transfer(w, now, topic=a.get("topic"), to_window=a.get("to_window"))
            case "rate":
                office.rate(w, a["ticket"], a["score"], now)
                return {}
            case "cancel":
                t = office.cancel(a["ticket"], now)
            case "ping":
                return {"seq": office.seq}
            case _:
                raise refusal("unknown_op", f"Неизвестная команда «{op}»", f"unknown operation {op!r}")
        if t.final:
            uow.end_link(t.day, t.number, now, t.leg.outcome)
        return {"ticket": states.ticket_payload(t)}

    def _with_link(self, uow: UnitOfWork, t: Ticket, now: datetime) -> dict:
        """A new ticket's payload with its page's address (``url``), the link made in the
        same transaction as the ticket."""
        return {**states.ticket_payload(t), "url": self.ticket_url(uow.create_link(t.day, t.number, now))}

    # ------------------------------------------------------------------ the visitor's phone
    def visitor_leave(self, token: str) -> tuple[dict, list[Publication]]:
        """«Я ухожу»: the ticket of ``token`` leaves the queue (``Office.leave``). Returns the
        ticket's payload and the publications. Idempotent: leaving again answers the same
        ticket (the reply is kept in the command log under ``PHONE``). An unknown token, one of
        another day or of a ticket ended otherwise is ``unknown_ticket``; a ticket already
        called is ``illegal_transition``."""
        if not isinstance(token, str) or not 0 < len(token) <= 32:
            raise _unknown_link()
        command_id, now = f"leave:{token}", self.clock()

        def leave(uow: UnitOfWork) -> dict:
            stored = uow.stored_reply(PHONE, command_id)
            if stored is not None:
                return stored["data"]["ticket"]
            link = uow.link(token)
            if link is None or link.ended or link.day != uow.office.local_day(now):
                raise _unknown_link()
            t = uow.office.leave(link.number, now)
            uow.end_link(t.day, t.number, now, t.leg.outcome)
            ticket = {**states.ticket_payload(t), "url": self.ticket_url(token)}
            uow.record_reply(PHONE, command_id, "leave", now, messages.ok_reply(command_id, {"ticket": ticket}))
            return ticket

        ticket, events = self.db.unit_of_work(leave)
        return ticket, list(self._publications(events, now))

    def announce(self, text: str) -> list[Publication]:
        """The announcement to everyone waiting (the board's notice line, the phone pages,
        Telegram); empty text clears it. Kept in the database: it survives a restart."""
        if not isinstance(text, str):
            raise refusal("bad_schema", "Текст объявления должен быть строкой", "the text must be a string")
        text = " ".join(text.split())
        if len(text) > NOTICE_MAX:
            raise refusal("bad_schema", f"Объявление слишком длинное: не более {NOTICE_MAX} символов",
                          f"the announcement is longer than {NOTICE_MAX} characters")
        with self.db.writing() as uow:
            uow.set_notice(text, self.clock())
        pub = self._notice_publication()
        self._tell([{**pub.payload, "kind": "notice"}])
        return [pub]

    def _notice_publication(self) -> Publication:
        with self.db.reading() as uow:
            current = uow.notice()
        text, at = current if current is not None else ("", None)
        at_iso = at.astimezone(self.office.tz).isoformat(timespec="seconds") if at else None
        return Publication(self.topics.state("notice"), messages.state(self.office.seq, text=text, at=at_iso), True)

    def _apply_to_window(self, uow: UnitOfWork, op: str, a: dict, now: datetime) -> dict:
        """The commands that change a window's state; the reply is the window's new state."""
        office, w = uow.office, a["window"]
        if op == "sign_in":
            self._check_pin(uow, a["operator"], a["pin"])
            office.sign_in(w, a["operator"], now)
        elif op == "pause":
            office.pause(w, a["kind"], now)
        else:
            getattr(office, op)(w, now)
        return {"window": states.window_state(office, w, self.operator_names, now)}

    def _check_pin(self, uow: UnitOfWork, operator: str, pin: str) -> None:
        name = uow.operators.check_pin(operator, pin)
        if name is None:
            raise refusal("bad_pin", "Неверный код оператора или ПИН-код", "wrong operator code or PIN")
        self.operator_names[operator] = name

    def _check_in(self, uow: UnitOfWork, code: str, now: datetime):
        office, bookings = uow.office, uow.bookings
        booking = bookings.unclaimed(code)
        if booking is None:
            raise refusal("booking_not_found",
                               "Запись с таким кодом не найдена. Пожалуйста, проверьте код или обратитесь "
                               "к администратору.", "no booking with this code")
        t = office.check_in(booking.topic, booking.slot_start.astimezone(office.tz), code, now)
        bookings.claim(booking, t.number)
        return t

    # ------------------------------------------------------------------ events out
    def _publications(self, events: list[Event], now: datetime) -> Iterator[Publication]:
        if not events:
            return
        # a call carries its recall count (docs/contract.md), the same one state/board lists
        recalls = {e.seq: self._remember_call(e.ticket, e.window, e.topic, e.at, e.kind == "recalled")
                   for e in events if e.kind in CALL_EVENTS}
        published = []
        for e in events:
            published.append(event_payload(e, recalls.get(e.seq)))
            yield Publication(self.topics.event, published[-1])
        self._tell(published)
        if recalls:
            yield Publication(self.topics.state("board"), states.board_state(self.office.seq, self.calls), True)
        windows = {e.window for e in events if e.window is not None}
        if any(e.kind in ("window_opened", "window_paused", "window_closed") for e in events):
            # whether the others may take a break or close changed: those whose ``actions`` did are republished
            yield from self._changed_windows(now, windows)
        else:
            for n in sorted(windows):
                yield self._window_publication(n, now)
        if any(e.kind.startswith("window_") for e in events):
            yield from self.refresh()    # windows opening or closing change what kiosks offer: at once
        else:
            self.queue_dirty = True      # ticket changes: rebuilt once the burst is over (``flush``)

    def _remember_call(self, ticket: str, window: int, topic: str, at: datetime, recall: bool) -> int:
        """Put the call on top of the board's list; returns its number of recalls."""
        previous = next((c for c in self.calls if c["ticket"] == ticket and c["window"] == window), None)
        recalls = (previous["recalls"] if previous else 0) + 1 if recall else 0
        if previous:
            self.calls.remove(previous)
        self.calls.appendleft({"ticket": ticket, "window": window, "topic": topic,
                               "at": at.isoformat(timespec="seconds"), "recalls": recalls})
        return recalls

    # ------------------------------------------------------------------ device health
    def handle_status(self, device: str, raw: bytes, retained: bool = False) -> None:
        """Record online/offline transitions and printer state changes (REQ-Q-9 downtime),
        and a visitor's «Вызов персонала» at a kiosk (an alert on the dashboard)."""
        payload = messages.parse_payload(raw)
        if payload is None or device not in self.devices:
            return
        state = payload.get("state") if payload.get("state") in ("online", "offline") else None
        printer = (payload.get("printer") or {}).get("state") if isinstance(payload.get("printer"), dict) else None
        help_at = payload.get("help_requested_at") if isinstance(payload.get("help_requested_at"), str) else None
        rows = []
        if help_at and self.help_seen.get(device) != help_at:
            if not retained:          # a retained status replayed after a restart is old news
                rows.append(Status(device, self.clock(), "help"))
                log.warning("a visitor asked for staff at %s", device)
            self.help_seen[device] = help_at
        if state is not None and self.presence.get(device) != (state, printer):
            self.presence[device] = (state, printer)
            rows.append(Status(device, self.clock(), state, printer))
            log.info("device %s is %s%s", device, state, f" (printer: {printer})" if printer else "")
        if rows:
            with self.db.writing() as uow:
                uow.record_presence(rows)


def _check_category(office: Office, category: str | None) -> None:
    """A priority category must be one of the office's (state/config ``priority.categories``)."""
    codes = [c.code for c in office.config.priority_categories]
    if category is not None and category not in codes:
        raise refusal("unknown_category", f"Неизвестная льготная категория «{category}»",
                      f"unknown priority category {category!r}; this office has: {', '.join(codes) or 'none'}")


def _check_segment(office: Office, segment: str | None) -> None:
    """A visitor's segment must be one of the office's (state/config ``segments``): a report by
    segment would otherwise count visitors under a name nobody chose."""
    codes = list(dict.fromkeys(t.segment for t in office.config.topics))
    if segment is not None and segment not in codes:
        raise refusal("unknown_segment", f"Неизвестная категория посетителей «{segment}»",
                      f"unknown segment {segment!r}; this office has: {', '.join(codes)}")


def refusal(code: str, message_ru: str, message_en: str) -> QueueError:
    """A refusal found inside a transaction: a QueueError, so nothing is stored or reloaded."""
    exc = QueueError(message_en, message_ru)
    exc.code = code
    return exc


def _unknown_link() -> UnknownTicket:
    return UnknownTicket("no live ticket for this link",
                         "Талон не найден или уже завершён. Пожалуйста, возьмите новый талон в терминале")


def event_payload(e: Event, recalls: int | None = None) -> dict:
    """The ``event/ticket`` payload of one event (docs/contract.md §Events); a call and a recall
    carry ``recalls``. Head office's replay sends exactly this (``hub.hq_link``). ``at`` at full
    precision: head office recomputes every duration from it."""
    data = _public(e)
    if recalls is not None:
        data["recalls"] = recalls
    return messages.event(e.seq, e.kind, e.ticket, e.topic, e.window, data, at=e.at.isoformat())


def _public(e: Event) -> dict:
    """Event data safe to broadcast (nothing personal; bookings keep their code private)."""
    return {k: v for k, v in e.data.items() if k not in ("booking_code",)}
