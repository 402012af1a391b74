"""The hub's dispatcher: commands in, one transaction each, replies, events and state out.

It is the single writer of queue state (ARCHITECTURE §2). It knows nothing of MQTT
sockets: ``handle_command`` takes a device id and raw bytes and returns the
publications to make (the reply first). ``hub.service`` moves bytes in and out.

* Bad input never changes anything: it gets an ``ok:false`` reply with a code.
* A repeated ``(device, id)`` gets the stored reply and changes nothing, so a retried
  *Next* calls one visitor, not two.
* Every event carries the office's ``seq``; the retained states follow each change.
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broker import messages
from hub import states
from broker.errors import CommandError
from broker.topics import Topics
from queue_core.errors import QueueError
from queue_core.model import Event, TicketKind
from queue_core.office import Office
from storage.credentials import verify_secret
from storage.models import BookingRow, CommandRow, DeviceRow, EventRow, OperatorRow, PresenceRow
from storage.queue_db import QueueDatabase

log = logging.getLogger(__name__)

CALL_EVENTS = ("called", "recalled")


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

    def load(self, session: Session, office: str) -> None:
        rows = session.execute(select(CommandRow.device, CommandRow.command_id).where(CommandRow.office == office)
                               .order_by(CommandRow.at.desc()).limit(self.size)).all()
        for device, command_id in reversed(rows):
            self.add((device, command_id))


class Dispatcher:
    def __init__(self, db: QueueDatabase, clock: Callable[[], datetime] | None = None):
        self.db = db
        self.office_id = db.config.office_id
        self.topics = Topics(self.office_id)
        self.clock = clock or (lambda: datetime.now(db.office.tz))
        self.devices: dict[str, DeviceInfo] = {}
        self.operator_names: dict[str, str] = {}
        self.presence: dict[str, tuple[str, str | None]] = {}   # device -> (state, printer state)
        self.help_seen: dict[str, str] = {}     # device -> the last «Вызов персонала» it reported
        self.calls: deque[dict] = deque(maxlen=db.config.board_history)
        self.seen = SeenCommands()
        self.queue_dirty = False
        with db.sessions() as s:
            self.seen.load(s, self.office_id)
        self.reload_directory()
        self._load_calls()

    @property
    def office(self) -> Office:
        return self.db.office

    # ------------------------------------------------------------------ start-up
    def reload_directory(self) -> None:
        """Devices and operators as provisioned in the database."""
        with self.db.sessions() as s:
            self.devices = {d.device: DeviceInfo(d.role, d.window) for d in s.execute(
                select(DeviceRow).where(DeviceRow.office == self.office_id)).scalars()}
            self.operator_names = {o.code: o.name for o in s.execute(
                select(OperatorRow).where(OperatorRow.office == self.office_id)).scalars()}

    def _load_calls(self) -> None:
        with self.db.sessions() as s:
            rows = s.execute(select(EventRow).where(EventRow.office == self.office_id,
                                                    EventRow.kind.in_(CALL_EVENTS))
                             .order_by(EventRow.seq.desc()).limit(self.calls.maxlen)).scalars().all()
        for row in reversed(rows):
            self._remember_call(row.ticket, row.window, row.topic, row.at.astimezone(self.office.tz),
                                row.kind == "recalled")

    def all_states(self) -> list[Publication]:
        """Every retained state, rebuilt from the database (hub start, reconnect)."""
        now = self.clock()
        pubs = [Publication(self.topics.state("config"), states.config_state(self.office), True),
                Publication(self.topics.state("queue"), states.queue_state(self.office, now), True),
                Publication(self.topics.state("board"), states.board_state(self.office.seq, self.calls), True)]
        pubs += [Publication(self.topics.window_state(n), states.window_state(self.office, n, self.operator_names),
                             True) for n in self.office.windows]
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
        """The queue state ages with the clock (oldest waits, cut-offs): republish it."""
        self.queue_dirty = False
        return [Publication(self.topics.state("queue"), states.queue_state(self.office, self.clock()), True)]

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
            with self.db.sessions() as s:
                stored = self.db.store.stored_reply(s, device, cmd.id)
            if stored is not None:
                log.info("repeated command %s from %s: stored reply sent again", cmd.id, device)
                yield Publication(reply_topic, stored)
                return
        self.seen.add((device, cmd.id))

        now = self.clock()
        try:
            reply, events = self.db.transaction(lambda s, o: self._execute(s, o, device, cmd, now))
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
        with self.db.sessions() as s, s.begin():
            self.db.store.record_reply(s, device, cmd.id, cmd.op, now, reply)
        return reply

    def _execute(self, session: Session, office: Office, device: str, cmd: messages.Command, now: datetime) -> dict:
        data = self._apply(session, office, cmd.op, cmd.args, now)
        reply = messages.ok_reply(cmd.id, data)
        self.db.store.record_reply(session, device, cmd.id, cmd.op, now, reply)
        return reply

    def _apply(self, session: Session, office: Office, op: str, a: dict, now: datetime) -> dict:
        w = a.get("window")
        match op:
            case "issue":
                t = office.issue(a["topic"], now, TicketKind(a["kind"]), category=a.get("category"),
                                 segment=a.get("segment"))
            case "checkin":
                t = self._check_in(session, office, a["code"], now)
            case "sign_in":
                self._check_pin(session, a["operator"], a["pin"])
                office.sign_in(w, a["operator"], now)
                return {"window": states.window_state(office, w, self.operator_names)}
            case "open" | "close":
                getattr(office, op)(w, now)
                return {"window": states.window_state(office, w, self.operator_names)}
            case "pause":
                office.pause(w, a["kind"], now)
                return {"window": states.window_state(office, w, self.operator_names)}
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
        return {"ticket": states.ticket_payload(t)}

    def _check_pin(self, session: Session, operator: str, pin: str) -> None:
        row = session.get(OperatorRow, (self.office_id, operator))
        if row is None or not row.active or not verify_secret(pin, row.pin_hash):
            raise refusal("bad_pin", "Неверный код оператора или ПИН-код", "wrong operator code or PIN")
        self.operator_names[operator] = row.name

    def _check_in(self, session: Session, office: Office, code: str, now: datetime):
        booking = session.execute(select(BookingRow).where(
            BookingRow.office == self.office_id, BookingRow.code == code,
            BookingRow.cancelled.is_(False))).scalar_one_or_none()
        if booking is None or booking.ticket is not None:
            raise refusal("booking_not_found",
                               "Запись с таким кодом не найдена. Пожалуйста, проверьте код или обратитесь "
                               "к администратору.", "no booking with this code")
        t = office.check_in(booking.topic, booking.slot_start.astimezone(office.tz), code, now)
        session.execute(update(BookingRow).where(BookingRow.id == booking.id).values(ticket=t.number))
        return t

    # ------------------------------------------------------------------ events out
    def _publications(self, events: list[Event], now: datetime) -> Iterator[Publication]:
        if not events:
            return
        for e in events:
            yield Publication(self.topics.event, messages.event(
                e.seq, e.kind, e.ticket, e.topic, e.window, _public(e), at=e.at.isoformat(timespec="seconds")))
        calls = [e for e in events if e.kind in CALL_EVENTS]
        for e in calls:
            self._remember_call(e.ticket, e.window, e.topic, e.at, e.kind == "recalled")
        if calls:
            yield Publication(self.topics.state("board"), states.board_state(self.office.seq, self.calls), True)
        for n in sorted({e.window for e in events if e.window is not None}):
            yield Publication(self.topics.window_state(n), states.window_state(self.office, n, self.operator_names), True)
        if any(e.kind.startswith("window_") for e in events):
            yield from self.refresh()    # windows opening or closing change what kiosks offer: at once
        else:
            self.queue_dirty = True      # ticket changes: rebuilt once the burst is over (``flush``)

    def _remember_call(self, ticket: str, window: int, topic: str, at: datetime, recall: bool) -> None:
        previous = next((c for c in self.calls if c["ticket"] == ticket and c["window"] == window), None)
        recalls = previous["recalls"] + 1 if previous and recall else 0
        if previous:
            self.calls.remove(previous)
        self.calls.appendleft({"ticket": ticket, "window": window, "topic": topic,
                               "at": at.isoformat(timespec="seconds"), "recalls": recalls})

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
                rows.append(PresenceRow(office=self.office_id, device=device, at=self.clock(), state="help"))
                log.warning("a visitor asked for staff at %s", device)
            self.help_seen[device] = help_at
        if state is not None and self.presence.get(device) != (state, printer):
            self.presence[device] = (state, printer)
            rows.append(PresenceRow(office=self.office_id, device=device, at=self.clock(), state=state, printer=printer))
            log.info("device %s is %s%s", device, state, f" (printer: {printer})" if printer else "")
        if rows:
            with self.db.sessions() as s, s.begin():
                s.add_all(rows)


def refusal(code: str, message_ru: str, message_en: str) -> QueueError:
    """A refusal found inside a transaction: a QueueError, so nothing is stored or reloaded."""
    exc = QueueError(message_en, message_ru)
    exc.code = code
    return exc


def _public(e: Event) -> dict:
    """Event data safe to broadcast (nothing personal; bookings keep their code private)."""
    return {k: v for k, v in e.data.items() if k not in ("booking_code",)}
