"""The office's queue: every rule of the ticket lifecycle, as an event-sourced aggregate.

Each operation checks its rule, then records one or more ``Event``s and applies them
with ``_apply``; applying is the only way state changes. So the stored event log
replays (``Office.replay``) to exactly the state the hub had, and a refused operation
raises a ``QueueError`` before anything changed.

All ``now`` arguments are aware datetimes in the office's time zone.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from queue_core import calendar
from queue_core.config import ASSISTED_MODES, OfficeConfig
from queue_core.dispatch import choose_next
from queue_core.errors import (
    BookingTooEarly,
    BookingTooLate,
    BreakNotAllowed,
    IllegalTransition,
    NoTicket,
    QueueError,
    TopicClosed,
    UnknownTicket,
    UnknownWindow,
    WindowBusy,
    WindowClosed,
)
from queue_core.estimate import estimate
from queue_core.model import BreakKind, Event, Leg, Ticket, TicketKind, TicketState, WindowState, WindowStatus

RECENT_SERVICES = 20
FINISH_OUTCOMES = ("done", "terminated", "needs_followup")
# what a window may be asked to do (contract op names), in the order a counter shows them
WINDOW_OPS = ("call_next", "recall", "start", "finish", "no_show", "transfer", "pause", "close", "open")


class Office:
    def __init__(self, config: OfficeConfig, seq: int = 0):
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.seq = seq
        self.tickets: dict[str, Ticket] = {}          # live tickets by number
        self.windows = {w.number: WindowStatus(w.number) for w in config.windows}
        self.counters: dict[tuple[str, str], int] = {}  # (day, topic) -> last sequence number
        self.recent: dict[str, deque[float]] = {}     # topic -> recent service minutes
        self.finished: dict[str, Ticket] = {}         # last finished ticket per window number key
        self._emitted: list[Event] = []               # produced since the caller last took them
        self._touched: dict[str, Ticket] = {}         # tickets those events changed

    # ------------------------------------------------------------------ queries
    def local_day(self, now: datetime) -> str:
        return now.astimezone(self.tz).date().isoformat()

    def waiting(self, topic: str | None = None) -> list[Ticket]:
        return [t for t in self.tickets.values()
                if t.state is TicketState.WAITING and (topic is None or t.topic == topic)]

    def ticket(self, number: str) -> Ticket:
        try:
            return self.tickets[number]
        except KeyError:
            raise UnknownTicket(f"no live ticket {number!r}", f"Талон {number} не найден") from None

    def current(self, window: int) -> Ticket | None:
        number = self.window_status(window).ticket
        return self.tickets.get(number) if number else None

    def window_status(self, number: int) -> WindowStatus:
        self.config.window(number)  # raises UnknownWindow
        return self.windows[number]

    def accepting(self, topic: str, now: datetime) -> tuple[bool, str | None]:
        t = self.config.topic(topic)
        ok, reason = calendar.accepting(self.config.calendar, t, now.astimezone(self.tz))
        if ok and not any(s.state is not WindowState.CLOSED and topic in self.config.window(n).topics
                          for n, s in self.windows.items()):
            return False, "no_window"
        return ok, reason

    def estimate(self, topic: str, kind: TicketKind = TicketKind.WALK_IN) -> tuple[int, float | None]:
        return estimate(self.config, topic, kind, self.waiting(), self.windows, self.recent)

    # ------------------------------------------------------------------ tickets
    def issue(self, topic: str, now: datetime, kind: TicketKind = TicketKind.WALK_IN, *,
              category: str | None = None, segment: str | None = None, slot_start: datetime | None = None,
              booking_code: str | None = None, enforce_hours: bool = True) -> Ticket:
        t = self.config.topic(topic)
        if enforce_hours:
            ok, reason = self.accepting(topic, now)
            if not ok:
                assert reason is not None  # accepting() always says why not
                raise TopicClosed(f"topic {topic!r} is not accepting tickets now ({reason})",
                                  _CLOSED_RU[reason].format(name=t.name_ru))
        day = self.local_day(now)
        seq = self.counters.get((day, topic), self.config.number_start - 1) + 1
        while self._number(t.prefix, seq) in self.tickets:   # a ticket left from an earlier day
            seq += 1
        ahead, eta = self.estimate(topic, kind)
        # АтомЭнергоСбыт's individual format (004:945-949): served in turn, marked, staff alerted
        assisted = kind is TicketKind.PRIORITY and self.config.priority_mode in ASSISTED_MODES
        self._emit("issued", now, ticket=self._number(t.prefix, seq), topic=topic, data={
            "day": day, "seq_no": seq, "kind": str(kind), "category": category, "segment": segment,
            "assisted": assisted,
            "slot_start": slot_start.isoformat() if slot_start else None, "booking_code": booking_code,
            "eta_min": eta, "people_ahead": ahead})
        return self.tickets[self._number(t.prefix, seq)]

    def check_in(self, topic: str, slot_start: datetime, code: str, now: datetime) -> Ticket:
        """Issue the ticket of a booking, if the visitor is within the check-in window."""
        minutes = (slot_start - now).total_seconds() / 60
        if minutes > self.config.booking_early_min:
            raise BookingTooEarly(f"booking {code} starts in {minutes:.0f} min",
                                  f"Регистрация по записи откроется за {self.config.booking_early_min} мин "
                                  f"до назначенного времени ({slot_start.astimezone(self.tz):%H:%M}).")
        if -minutes > self.config.booking_late_min:
            raise BookingTooLate(f"booking {code} started {-minutes:.0f} min ago",
                                 "К сожалению, время записи прошло. Пожалуйста, возьмите талон в общую очередь.")
        return self.issue(topic, now, TicketKind.BOOKING, slot_start=slot_start, booking_code=code,
                          enforce_hours=False)

    def cancel(self, number: str, now: datetime) -> Ticket:
        t = self.ticket(number)
        if t.state is not TicketState.WAITING:
            raise IllegalTransition(f"ticket {number} is {t.state}, only a waiting ticket can be cancelled",
                                    f"Талон {number} уже вызван; отменить можно только ожидающий талон")
        self._emit("cancelled", now, ticket=number, topic=t.topic)
        return t

    def leave(self, number: str, now: datetime) -> Ticket:
        """The visitor leaves the queue («Я ухожу» on the phone): only while waiting. The
        ticket ends cancelled, its leg's outcome ``left`` (counted apart from no-shows and
        staff cancellations); the people behind move up."""
        t = self.ticket(number)
        if t.state is not TicketState.WAITING:
            raise IllegalTransition(f"ticket {number} is {t.state}, only a waiting ticket can leave the queue",
                                    _LEAVE_REFUSED_RU[t.state].format(window=t.window))
        self._emit("left", now, ticket=number, topic=t.topic)
        return t

    # ------------------------------------------------------------------ windows
    def sign_in(self, window: int, operator: str, now: datetime) -> WindowStatus:
        s = self.window_status(window)
        self._emit("operator_signed_in", now, window=window, data={"operator": operator})
        if s.state is not WindowState.OPEN:
            self._emit("window_opened", now, window=window)
        return s

    def open(self, window: int, now: datetime) -> WindowStatus:
        s = self.window_status(window)
        if self._check(window, "open"):
            self._emit("window_opened", now, window=window)
        return s

    def pause(self, window: int, kind: BreakKind | str, now: datetime) -> WindowStatus:
        kind = BreakKind(kind)
        s = self.window_status(window)
        self._check(window, "pause")
        self._emit("window_paused", now, window=window, data={"break_kind": str(kind)})
        return s

    def close(self, window: int, now: datetime) -> WindowStatus:
        s = self.window_status(window)
        if self._check(window, "close", now):
            self._emit("window_closed", now, window=window)
        return s

    # ------------------------------------------------------------------ serving
    def call_next(self, window: int, now: datetime) -> Ticket | None:
        s = self.window_status(window)
        self._check(window, "call_next")
        t = choose_next(self.config, self.config.window(window), self.waiting(), now, s.priority_streak)
        if t is None:
            return None
        self._emit("called", now, ticket=t.number, topic=t.topic, window=window,
                   data={"operator": s.operator})
        return t

    def recall(self, window: int, now: datetime) -> Ticket:
        t = self._held(window, "recall")
        self._emit("recalled", now, ticket=t.number, topic=t.topic, window=window)
        return t

    def start(self, window: int, now: datetime) -> Ticket:
        t = self._held(window, "start")
        self._emit("started", now, ticket=t.number, topic=t.topic, window=window)
        return t

    def finish(self, window: int, now: datetime, outcome: str = "done", accounts: int = 1) -> Ticket:
        if outcome not in FINISH_OUTCOMES:
            raise IllegalTransition(f"unknown outcome {outcome!r}", f"Неизвестный результат {outcome!r}")
        if not 1 <= accounts <= 99:
            raise IllegalTransition(f"accounts must be 1..99, got {accounts}", "Количество счетов: 1..99")
        t = self._held(window, "finish")
        self._emit("finished", now, ticket=t.number, topic=t.topic, window=window,
                   data={"outcome": outcome, "accounts": accounts})
        return t

    def no_show(self, window: int, now: datetime) -> Ticket:
        t = self._held(window, "no_show")
        self._emit("no_show", now, ticket=t.number, topic=t.topic, window=window)
        return t

    def transfer(self, window: int, now: datetime, topic: str | None = None, to_window: int | None = None) -> Ticket:
        """End this leg and queue the visitor again, same number, original issue time kept."""
        if (topic is None) == (to_window is None):
            raise IllegalTransition("transfer needs exactly one of topic or to_window",
                                    "Укажите тему обращения или окно для перевода")
        t = self._held(window, "transfer")
        if to_window is not None:
            target = self.config.window(to_window)
            if to_window == window:
                raise IllegalTransition("cannot transfer to the same window", "Нельзя перевести в то же окно")
            new_topic = t.topic if t.topic in target.topics else target.topics[0]
        else:
            assert topic is not None  # exactly one of topic and to_window, checked above
            new_topic = self.config.topic(topic).code
            if new_topic == t.topic:
                raise IllegalTransition(f"ticket {t.number} is already in topic {topic}",
                                        "Талон уже относится к этой теме")
        self._emit("transferred", now, ticket=t.number, topic=new_topic, window=window,
                   data={"from_topic": t.topic, "to_window": to_window})
        return t

    def rate(self, window: int, number: str, score: int, now: datetime) -> Ticket:
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise IllegalTransition(f"score must be 1..5, got {score!r}", "Оценка должна быть от 1 до 5")
        t = self.finished.get(str(window))
        if t is None or t.number != number:
            raise NoTicket(f"ticket {number} is not the one just finished at window {window}",
                           f"Талон {number} не обслуживался в окне {window} последним")
        if t.rating is not None:
            raise IllegalTransition(f"ticket {number} is already rated", "Оценка уже поставлена")
        self._emit("rated", now, ticket=number, topic=t.topic, window=window, data={"score": score})
        return t

    def _held(self, window: int, op: str) -> Ticket:
        """The window's current ticket, once ``op`` has passed its rule."""
        self._check(window, op)
        ticket = self.current(window)
        assert ticket is not None, "_check lets an op that needs a ticket through only when there is one"
        return ticket

    # ------------------------------------------------------------------ the window rules
    def allowed_actions(self, window: int, now: datetime | None = None) -> tuple[str, ...]:
        """The window ops (``WINDOW_OPS``, contract op names) that would be accepted now and
        change something. Computed by the same ``_check`` every op runs, so an op listed
        here succeeds and an op left out is refused (or, for ``open``/``close`` of a window
        already so, does nothing). Argument checks (a transfer target, an outcome) come on
        top. ``call_next`` is listed even when nobody waits: it succeeds with no ticket.
        Pass ``now`` as the op would get it: ``close`` depends on the working hours."""
        allowed = []
        for op in WINDOW_OPS:
            try:
                if self._check(window, op, now):
                    allowed.append(op)
            except QueueError as exc:
                if isinstance(exc, UnknownWindow):
                    raise
        return tuple(allowed)

    def _check(self, window: int, op: str, now: datetime | None = None) -> bool:
        """Every rule of what a window may do, in one place. Raises the refusal; returns
        False when ``op`` is allowed but has nothing to do (opening an open window).
        ``now`` matters only to ``close`` (the last open window may close outside working
        hours); without it the working-hours rule applies."""
        s = self.window_status(window)
        if op in _HELD_STATES:
            return self._check_ticket(window, op)
        if op == "open":
            return s.state is not WindowState.OPEN
        if op == "close":
            return self._check_close(window, s, now)
        if op == "pause":
            return self._check_pause(window, s)
        if op == "call_next":
            if s.state is not WindowState.OPEN:
                what = "на перерыве" if s.state is WindowState.PAUSED else "закрыто"
                raise WindowClosed(f"window {window} is {s.state}", f"Окно {window} {what}: сначала откройте его")
            if s.ticket is not None:
                raise WindowBusy(f"window {window} already holds ticket {s.ticket}",
                                 f"Сначала завершите работу с талоном {s.ticket}")
            return True
        raise ValueError(f"unknown window op {op!r}")

    def _check_close(self, window: int, s: WindowStatus, now: datetime | None) -> bool:
        """Closing: not while holding a ticket; and, like a break (004:1130-1132), not the
        last open window of an office of more than two during working hours. Outside the
        calendar's working hours (end of the day, an office-wide break) any window may close."""
        if s.ticket is not None:
            raise WindowBusy(f"window {window} holds ticket {s.ticket}",
                             f"Сначала завершите приём талона {s.ticket}")
        if s.state is WindowState.CLOSED:
            return False
        working = now is None or calendar.is_open(self.config.calendar, now.astimezone(self.tz))
        if s.state is WindowState.OPEN and working and self._last_open(window):
            raise BreakNotAllowed(f"window {window} is the last open one of {len(self.windows)} "
                                  "during working hours (004:1130)",
                                  "Закрыть окно нельзя: в офисе более двух окон, а остальные сейчас не "
                                  "принимают. Закрыть последнее окно можно после окончания рабочего дня")
        return True

    def _last_open(self, window: int) -> bool:
        """Whether ``window`` is the only open one of an office with more than two windows."""
        others_open = sum(1 for n, o in self.windows.items() if n != window and o.state is WindowState.OPEN)
        return len(self.windows) > 2 and others_open == 0

    def _check_pause(self, window: int, s: WindowStatus) -> bool:
        """A break: not while closed, serving or already on one, nor for the last open window."""
        if s.state is WindowState.CLOSED:
            raise WindowClosed(f"window {window} is closed", f"Окно {window} закрыто")
        if s.ticket is not None:
            raise BreakNotAllowed(f"window {window} is serving {s.ticket}: no break while serving (000:309)",
                                  "Перерыв недоступен: сначала завершите приём текущего клиента")
        if s.state is WindowState.PAUSED:
            raise IllegalTransition(f"window {window} is already on a break", f"Окно {window} уже на перерыве")
        if self._last_open(window):
            raise BreakNotAllowed(f"window {window} is the last open one of {len(self.windows)} (004:1130)",
                                  "Перерыв недоступен: в офисе более двух окон, все остальные операторы "
                                  "на перерыве")
        return True

    def _check_ticket(self, window: int, op: str) -> bool:
        """The rules of the ops on the window's current ticket (``_HELD_STATES``)."""
        t = self.current(window)
        if op == "start" and not self.config.start_step:
            raise IllegalTransition("this office does not use the Start step (queue.start_step = false)",
                                    "В этом офисе шаг «Начать приём» не используется")
        if t is None:
            raise NoTicket(f"window {window} holds no ticket to {op}", "Нет текущего талона")
        states = _HELD_STATES[op]
        if op == "finish" and not self.config.start_step:
            states = (TicketState.CALLED, TicketState.SERVING)
        if t.state not in states:
            if op == "finish" and t.state is TicketState.CALLED:
                raise IllegalTransition(f"cannot finish ticket {t.number} before Start (queue.start_step)",
                                        f"Сначала начните приём талона {t.number} («Начать приём»)")
            raise IllegalTransition(f"cannot {op} ticket {t.number} in state {t.state}",
                                    f"Действие недоступно для талона {t.number} в состоянии «{_STATE_RU[t.state]}»")
        return True

    # ------------------------------------------------------------------ internals
    def _number(self, prefix: str, seq: int) -> str:
        return f"{prefix}{seq:0{self.config.number_width}d}"

    def _emit(self, kind: str, now: datetime, ticket: str | None = None, topic: str | None = None,
              window: int | None = None, data: dict | None = None) -> Event:
        event = Event(seq=self.seq + 1, at=now.astimezone(self.tz), kind=kind, ticket=ticket, topic=topic,
                      window=window, data=data or {})
        self.apply(event)
        self._emitted.append(event)
        return event

    def take_events(self) -> tuple[list[Event], list[Ticket]]:
        """The events produced since the last call and the tickets they changed,
        for the caller to store and publish."""
        events, self._emitted = self._emitted, []
        touched, self._touched = list(self._touched.values()), {}
        return events, touched

    def apply(self, e: Event) -> None:
        """Apply one event. The only place state changes; replay calls it too."""
        if e.seq != self.seq + 1:
            raise IllegalTransition(f"event seq {e.seq} does not follow {self.seq}")
        self.seq = e.seq
        ticket = self.tickets.get(e.ticket) if e.ticket else None
        if e.kind == "rated":                     # a rating touches a ticket already finished
            ticket = self.finished.get(str(e.window))
        getattr(self, f"_on_{e.kind}")(e)
        ticket = ticket or (self.tickets.get(e.ticket) if e.ticket else None)
        if ticket is not None:
            self._touched[ticket.number] = ticket

    def _on_issued(self, e: Event) -> None:
        d = e.data
        self.counters[(d["day"], e.topic_code)] = max(self.counters.get((d["day"], e.topic_code), 0), d["seq_no"])
        self.tickets[e.ticket_number] = Ticket(
            number=e.ticket_number, day=d["day"], kind=TicketKind(d["kind"]), issued_at=e.at,
            legs=[Leg(topic=e.topic_code, queued_at=e.at)],
            slot_start=datetime.fromisoformat(d["slot_start"]) if d.get("slot_start") else None,
            booking_code=d.get("booking_code"), priority_category=d.get("category"), segment=d.get("segment"),
            assisted=bool(d.get("assisted", False)), eta_min=d.get("eta_min"), people_ahead=d.get("people_ahead", 0))

    def _on_cancelled(self, e: Event) -> None:
        t = self.tickets.pop(e.ticket_number)
        t.state = TicketState.CANCELLED
        t.leg.outcome = "cancelled"
        t.leg.finished_at = e.at

    def _on_left(self, e: Event) -> None:
        t = self.tickets.pop(e.ticket_number)
        t.state = TicketState.CANCELLED
        t.leg.outcome = "left"
        t.leg.finished_at = e.at

    def _on_operator_signed_in(self, e: Event) -> None:
        self.windows[e.window_number].operator = e.data["operator"]

    def _on_window_opened(self, e: Event) -> None:
        s = self.windows[e.window_number]
        s.state, s.break_kind = WindowState.OPEN, None

    def _on_window_paused(self, e: Event) -> None:
        s = self.windows[e.window_number]
        s.state, s.break_kind = WindowState.PAUSED, BreakKind(e.data["break_kind"])

    def _on_window_closed(self, e: Event) -> None:
        s = self.windows[e.window_number]
        s.state, s.break_kind, s.operator = WindowState.CLOSED, None, None

    def _on_called(self, e: Event) -> None:
        t, s = self.tickets[e.ticket_number], self.windows[e.window_number]
        t.state = TicketState.CALLED
        t.leg.window, t.leg.called_at, t.leg.operator = e.window_number, e.at, s.operator
        s.ticket = t.number
        s.priority_streak = s.priority_streak + 1 if t.kind is TicketKind.PRIORITY else 0

    def _on_recalled(self, e: Event) -> None:
        self.tickets[e.ticket_number].leg.recalls += 1

    def _on_started(self, e: Event) -> None:
        t = self.tickets[e.ticket_number]
        t.state, t.leg.started_at = TicketState.SERVING, e.at

    def _on_finished(self, e: Event) -> None:
        t = self.tickets.pop(e.ticket_number)
        leg = t.leg
        leg.started_at = started = leg.started_at or leg.called_at or e.at
        leg.finished_at, leg.outcome, leg.accounts = e.at, e.data["outcome"], e.data.get("accounts", 1)
        t.state = TicketState.DONE
        self.recent.setdefault(leg.topic, deque(maxlen=RECENT_SERVICES)).append(
            (e.at - started).total_seconds() / 60)
        s = self.windows[e.window_number]
        s.ticket, s.last_finished = None, t.number
        self.finished[str(e.window_number)] = t

    def _on_no_show(self, e: Event) -> None:
        t = self.tickets.pop(e.ticket_number)
        t.state, t.leg.outcome, t.leg.finished_at = TicketState.NO_SHOW, "no_show", e.at
        self.windows[e.window_number].ticket = None

    def _on_transferred(self, e: Event) -> None:
        t = self.tickets[e.ticket_number]
        leg = t.leg
        leg.started_at = leg.started_at or leg.called_at
        leg.finished_at, leg.outcome = e.at, "transferred"
        t.legs.append(Leg(topic=e.topic_code, queued_at=e.at, target_window=e.data.get("to_window")))
        t.state = TicketState.WAITING
        self.windows[e.window_number].ticket = None

    def _on_rated(self, e: Event) -> None:
        self.finished[str(e.window_number)].rating = e.data["score"]

    # ------------------------------------------------------------------ rebuilding
    @classmethod
    def replay(cls, config: OfficeConfig, events: Iterable[Event]) -> Office:
        office = cls(config)
        for e in events:
            office.apply(e)
        return office

    def digest(self) -> dict:
        """A comparable picture of the live state (replay tests, restart checks)."""
        return {
            "seq": self.seq,
            "tickets": {n: (t.state, t.topic, t.window, t.leg.recalls, len(t.legs), t.issued_at)
                        for n, t in self.tickets.items()},
            "windows": {n: (s.state, s.break_kind, s.operator, s.ticket, s.priority_streak)
                        for n, s in self.windows.items()},
            "counters": dict(self.counters),
        }


_CLOSED_RU = {
    "closed": "Сейчас офис не работает. Приносим извинения.",
    "cutoff": "Приём по теме «{name}» на сегодня завершён. Приносим извинения.",
    "no_window": "Сейчас нет открытых окон по теме «{name}». Пожалуйста, обратитесь к администратору.",
}
# why a visitor can no longer leave the queue (``leave``): they were called
_LEAVE_REFUSED_RU = {TicketState.CALLED: "Вас уже пригласили к окну {window}. Пожалуйста, подойдите к окну",
                     TicketState.SERVING: "Вас уже обслуживают в окне {window}"}
# the ticket states in which each ticket op is allowed (``finish`` also from CALLED when the
# office does not use the Start step, ``OfficeConfig.start_step``)
_HELD_STATES = {"recall": (TicketState.CALLED,), "start": (TicketState.CALLED,),
                "no_show": (TicketState.CALLED,), "finish": (TicketState.SERVING,),
                "transfer": (TicketState.CALLED, TicketState.SERVING)}
_STATE_RU = {TicketState.WAITING: "ожидает", TicketState.CALLED: "вызван", TicketState.SERVING: "обслуживается",
             TicketState.DONE: "обслужен", TicketState.NO_SHOW: "не явился", TicketState.CANCELLED: "отменён"}
