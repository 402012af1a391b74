"""All behaviour of the counter terminal (рабочее место оператора), as plain Python.

No Kivy here: the Kivy app (``app.py``), the GPIO buttons (``hardware/gpio.py``) and
the tests all drive a :class:`CounterPresenter` and draw the immutable
:class:`CounterView` it hands to its subscribers.

What it does:

* operator sign-in (operator code + PIN → ``sign_in``);
* follows ``state/window/<n>``, ``state/config`` and ``state/queue`` from the bus;
* every action is one ``bus.request(op, args)``; which actions are available follows
  the window and ticket state, and a refused press always says why;
* a second press while a request is in flight is ignored (debounce);
* while the bus is disconnected every action is refused with
  «Нет связи с сервером очереди — действие не выполнено», never silently dropped;
* a running timer for the current ticket, coloured against the topic's service norm;
* after *Done*, the rating prompt (on this screen or on a GPIO rating panel).

Threading: bus callbacks arrive on the client's network thread, requests run through
``runner`` (inline by default; the Kivy app passes a thread runner so the UI never
blocks). State is guarded by one lock; subscribers are called outside it, on whatever
thread made the change — a UI hops to its own thread.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from broker.errors import CommandError, HubUnreachable
from counter_app.strings import LANGUAGES, STRINGS

log = logging.getLogger(__name__)

# actions (what the operator presses) and the contract op each one sends
NEXT, RECALL, START, DONE, NO_SHOW, TRANSFER, BREAK, CLOSE, OPEN = (
    "next", "recall", "start", "done", "no_show", "transfer", "break", "close", "open")
ACTIONS = (NEXT, RECALL, START, DONE, NO_SHOW, TRANSFER, BREAK, CLOSE, OPEN)
OPS = {NEXT: "call_next", RECALL: "recall", START: "start", DONE: "finish",
       NO_SHOW: "no_show", TRANSFER: "transfer", BREAK: "pause", CLOSE: "close", OPEN: "open"}
BREAK_KINDS = ("technical", "lunch", "rest")
OUTCOMES = ("done", "needs_followup", "terminated")
RATING_SCORES = (5, 4, 3, 2, 1)
NEAR_NORM = 0.8  # a timer is "near" its norm from 80 % of it

# screens
LOADING, SIGN_IN, MAIN, RATING, THANKS = "loading", "sign_in", "main", "rating", "thanks"
# rating modes: ask on this screen, leave it to an external (GPIO) panel, or never ask
RATING_SCREEN, RATING_EXTERNAL, RATING_OFF = "screen", "external", "off"

Runner = Callable[[Callable[[], None]], None]


def run_inline(job: Callable[[], None]) -> None:
    """Run a request on the caller's thread (tests, benchmarks, the GPIO thread)."""
    job()


def run_in_thread(job: Callable[[], None]) -> None:
    """Run a request on a short-lived daemon thread so a UI thread never blocks."""
    threading.Thread(target=job, name="counter-request", daemon=True).start()


def local_now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 with offset → aware datetime; anything else → None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_duration(seconds: float) -> str:
    """07:42, or 1:02:05 past an hour."""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def norm_level(elapsed_min: float, norm_min: float | None) -> str:
    """``none`` (no norm), ``within`` (< 80 %), ``near`` (80–100 %) or ``over`` (> norm)."""
    if norm_min is None or norm_min <= 0:
        return "none"
    ratio = elapsed_min / norm_min
    if ratio > 1.0:
        return "over"
    if ratio >= NEAR_NORM:
        return "near"
    return "within"


@dataclass(frozen=True)
class ButtonState:
    enabled: bool
    reason: str = ""


@dataclass(frozen=True)
class TopicRow:
    code: str
    label: str          # "А · Платежные документы"
    waiting: int | None
    text: str           # "ожидают: 3 · дольше всех: 8 мин"
    over_norm: bool     # the oldest wait is past the topic's wait norm


@dataclass(frozen=True)
class Choice:
    key: str            # what goes back to the presenter (kind, outcome, "topic:A", "window:2")
    label: str


@dataclass(frozen=True)
class CounterView:
    """Everything a screen or a LED panel needs, already worded in the current language."""
    screen: str
    lang: str
    text: Mapping[str, str]
    window: int
    connected: bool
    busy: bool
    title: str
    operator: str
    window_state: str | None        # open / paused / closed / None (not known yet)
    state_text: str
    visitor_text: str
    ticket_number: str
    ticket_topic: str
    ticket_state: str | None        # called / serving / None
    ticket_text: str
    timer_label: str
    timer_text: str
    timer_level: str                # none / within / near / over
    norm_text: str
    queue: tuple[TopicRow, ...]
    buttons: Mapping[str, ButtonState]
    message: str
    message_level: str              # "" / info / warning / error
    break_choices: tuple[Choice, ...]
    outcome_choices: tuple[Choice, ...]
    transfer_choices: tuple[Choice, ...]
    rating_ticket: str | None
    rating_phase: str | None        # ask / thanks / None
    rating_choices: tuple[Choice, ...]
    rating_footer: str

    @property
    def serving(self) -> bool:
        return self.ticket_state in ("called", "serving")


@dataclass
class _Message:
    key: str
    level: str
    params: dict = field(default_factory=dict)
    raw: dict | None = None          # {"ru": ..., "en": ...} from a CommandError

    def render(self, lang: str) -> str:
        if self.raw is not None:
            text = self.raw.get(lang) or self.raw.get("ru", "")
            return STRINGS[lang][self.key].format(reason=text, **self.params) if self.key else text
        return STRINGS[lang][self.key].format(**self.params)


@dataclass
class _Rating:
    ticket: str
    phase: str          # ask / thanks
    deadline: float


class CounterPresenter:
    """The counter terminal for one window.

    :param bus: anything with the device-side bus interface (``HubClient``, ``FakeBus``).
    :param window: this terminal's window number.
    :param runner: how a request is run: :func:`run_inline` (default) or :func:`run_in_thread`.
    :param now: wall clock returning an aware datetime (timers against hub timestamps).
    :param monotonic: seconds clock for timeouts (rating prompt, thank-you screen).
    :param rating: ``screen`` (ask here), ``external`` (a GPIO panel asks) or ``off``.
    """

    def __init__(self, bus, window: int, *, runner: Runner = run_inline,
                 now: Callable[[], datetime] = local_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 lang: str = "ru", rating: str = RATING_SCREEN,
                 rating_timeout_s: float = 30.0, thanks_s: float = 5.0):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; use one of {LANGUAGES}")
        if rating not in (RATING_SCREEN, RATING_EXTERNAL, RATING_OFF):
            raise ValueError(f"unknown rating mode {rating!r}")
        self.bus = bus
        self.window = int(window)
        self._runner = runner
        self._now = now
        self._mono = monotonic
        self._lang = lang
        self.rating_mode = rating
        self.rating_timeout_s = rating_timeout_s
        self.thanks_s = thanks_s
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[CounterView], Any]] = []
        self._connected = bool(getattr(bus, "connected", False))
        self._in_flight = False
        self._signed_in = False
        self._window_state: dict | None = None
        self._window_seq = -1
        self._config: dict = {}
        self._queue: dict = {}
        self._message: _Message | None = None
        self._rating: _Rating | None = None
        self._view: CounterView | None = None
        bus.on_connection(self._on_connection)
        bus.watch_state(f"window/{self.window}", self._on_window)
        bus.watch_state("config", self._on_config)
        bus.watch_state("queue", self._on_queue)

    # --- observing -------------------------------------------------------------------
    def subscribe(self, cb: Callable[[CounterView], Any]) -> None:
        """Call ``cb(view)`` now and after every change."""
        with self._lock:
            self._subscribers.append(cb)
            view = self._view_locked()
        cb(view)

    @property
    def view(self) -> CounterView:
        with self._lock:
            return self._view_locked()

    @property
    def lang(self) -> str:
        return self._lang

    def t(self, key: str, **params) -> str:
        return STRINGS[self._lang][key].format(**params)

    # --- the operator's actions --------------------------------------------------------
    def sign_in(self, operator: str, pin: str) -> bool:
        operator, pin = (operator or "").strip(), (pin or "").strip()
        if not operator or not pin:
            self._say("need_credentials", "warning")
            return False
        args = {"window": self.window, "operator": operator, "pin": pin}
        return self._submit("sign_in", args, self._after_sign_in, check=None)

    def sign_out(self) -> None:
        """Back to the sign-in screen (local only; the contract has no sign-out op)."""
        with self._lock:
            self._signed_in = False
            self._message = None
        self._notify()

    def next(self) -> bool:
        return self.press(NEXT)

    def recall(self) -> bool:
        return self.press(RECALL)

    def start(self) -> bool:
        return self.press(START)

    def done(self, outcome: str | None = None, accounts: int | None = None) -> bool:
        return self.press(DONE, outcome=outcome, accounts=accounts)

    def no_show(self) -> bool:
        return self.press(NO_SHOW)

    def transfer(self, topic: str | None = None, to_window: int | None = None) -> bool:
        return self.press(TRANSFER, topic=topic, to_window=to_window)

    def pause(self, kind: str = "technical") -> bool:
        return self.press(BREAK, kind=kind)

    def close(self) -> bool:
        return self.press(CLOSE)

    def open(self) -> bool:
        return self.press(OPEN)

    def press(self, action: str, **options) -> bool:
        """Send the request behind ``action``; False if refused or ignored (the reason is shown)."""
        if action not in OPS:
            raise ValueError(f"unknown action {action!r}")
        args = {"window": self.window}
        if action == DONE:
            outcome, accounts = options.get("outcome"), options.get("accounts")
            if outcome is not None:
                if outcome not in OUTCOMES:
                    raise ValueError(f"unknown outcome {outcome!r}")
                args["outcome"] = outcome
            if accounts is not None:
                if int(accounts) < 1:
                    raise ValueError("accounts must be at least 1")
                args["accounts"] = int(accounts)
        elif action == BREAK:
            kind = options.get("kind") or "technical"
            if kind not in BREAK_KINDS:
                raise ValueError(f"unknown break kind {kind!r}")
            args["kind"] = kind
        elif action == TRANSFER:
            topic, to_window = options.get("topic"), options.get("to_window")
            if (topic is None) == (to_window is None):
                raise ValueError("transfer needs exactly one of topic or to_window")
            if topic is not None:
                args["topic"] = str(topic)
            else:
                args["to_window"] = int(to_window)
        return self._submit(OPS[action], args, lambda data: self._after_action(action, data),
                            check=action)

    def choose(self, action: str, key: str) -> bool:
        """Apply one of the view's choices (``break_choices``, ``transfer_choices``…)."""
        if action == BREAK:
            return self.pause(key)
        if action == DONE:
            return self.done(outcome=key)
        if action == TRANSFER:
            kind, _, value = key.partition(":")
            return self.transfer(topic=value) if kind == "topic" else self.transfer(to_window=int(value))
        raise ValueError(f"action {action!r} has no choices")

    def explain(self, action: str) -> str:
        """Show (and return) why ``action`` cannot be pressed now; "" if it can."""
        with self._lock:
            if not self._connected:
                key = "hub_unreachable"
            elif self._in_flight:
                key = "busy"
            else:
                rule = self._rule(action)
                if rule.enabled:
                    return ""
                key = rule.reason
            self._message = _Message(key, "error" if key == "hub_unreachable" else "warning")
            text = self._message.render(self._lang)
        self._notify()
        return text

    def notify_hint(self, key: str, **params) -> None:
        """Show an informational line (e.g. the GPIO panel's «hold to confirm»)."""
        self._say(key, "info", **params)

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        with self._lock:
            self._lang = lang
        self._notify()

    def toggle_language(self) -> None:
        self.set_language("en" if self._lang == "ru" else "ru")

    # --- rating ------------------------------------------------------------------------
    def rate(self, score: int) -> bool:
        """Record the visitor's score 1..5 for the ticket just finished."""
        score = int(score)
        if score not in RATING_SCORES:
            raise ValueError("score must be 1..5")
        with self._lock:
            rating = self._rating
            if rating is None or rating.phase != "ask":
                return False
            ticket = rating.ticket
        args = {"window": self.window, "ticket": ticket, "score": score}
        return self._submit("rate", args, lambda data: self._after_rate(ticket), check=None,
                            failure_key="rate_failed")

    def skip_rating(self) -> None:
        with self._lock:
            self._rating = None
        self._notify()

    # --- time passing ------------------------------------------------------------------
    def tick(self) -> CounterView:
        """Advance timers and timeouts; the UI calls this about once a second."""
        with self._lock:
            rating = self._rating
            if rating is not None and self._mono() >= rating.deadline:
                if rating.phase == "ask":
                    log.info("window %s: no rating for %s, prompt timed out", self.window, rating.ticket)
                self._rating = None
        return self._notify()

    # --- bus callbacks (network thread) -------------------------------------------------
    def _on_connection(self, connected: bool) -> None:
        with self._lock:
            self._connected = bool(connected)
            if connected and self._message is not None and self._message.key == "hub_unreachable":
                self._message = None
        self._notify()

    def _on_window(self, payload: dict) -> None:
        if not isinstance(payload, dict) or payload.get("window", self.window) != self.window:
            return
        with self._lock:
            seq = payload.get("seq")
            if isinstance(seq, int):
                if seq < self._window_seq:
                    return  # an older retained copy arriving late
                self._window_seq = seq
            self._window_state = payload
        self._notify()

    def _on_config(self, payload: dict) -> None:
        if isinstance(payload, dict):
            with self._lock:
                self._config = payload
            self._notify()

    def _on_queue(self, payload: dict) -> None:
        if isinstance(payload, dict):
            with self._lock:
                self._queue = payload
            self._notify()

    # --- requests ----------------------------------------------------------------------
    def _submit(self, op: str, args: dict, on_success: Callable[[dict], None], *,
                check: str | None, failure_key: str = "") -> bool:
        with self._lock:
            if self._in_flight:
                log.debug("window %s: %s ignored, a request is in flight", self.window, op)
                return False
            if not self._connected:
                self._message = _Message("hub_unreachable", "error")
                refused = True
            elif check is not None and not (rule := self._rule(check)).enabled:
                self._message = _Message(rule.reason, "warning")
                refused = True
            else:
                refused = False
                self._in_flight = True
                self._message = None
        self._notify()
        if refused:
            return False
        self._runner(lambda: self._execute(op, args, on_success, failure_key))
        return True

    def _execute(self, op: str, args: dict, on_success: Callable[[dict], None], failure_key: str) -> None:
        try:
            data = self.bus.request(op, args)
        except HubUnreachable:
            log.warning("window %s: %s: hub unreachable", self.window, op)
            self._fail(_Message("hub_unreachable", "error"), failure_key)
        except CommandError as exc:
            log.info("window %s: %s refused: %s", self.window, op, exc.code)
            self._fail(_Message(failure_key, "error", raw={"ru": exc.message, "en": exc.message_en}), "")
        except Exception:
            log.exception("window %s: %s failed", self.window, op)
            self._fail(_Message("internal_error", "error"), failure_key)
        else:
            with self._lock:
                self._in_flight = False
                try:
                    on_success(data if isinstance(data, dict) else {})
                except Exception:
                    log.exception("window %s: bad reply to %s: %r", self.window, op, data)
            self._notify()

    def _fail(self, message: _Message, failure_key: str) -> None:
        if failure_key and message.raw is None:
            message = _Message(failure_key, message.level,
                               raw={lang: STRINGS[lang][message.key] for lang in LANGUAGES})
        with self._lock:
            self._in_flight = False
            self._message = message
        self._notify()

    def _after_sign_in(self, data: dict) -> None:
        self._signed_in = True
        self._message = _Message("signed_in", "info")
        if isinstance(data.get("window"), dict):
            self._apply_window_reply(data["window"])

    def _after_rate(self, ticket: str) -> None:
        if self._rating is not None and self._rating.ticket == ticket:
            self._rating = _Rating(ticket, "thanks", self._mono() + self.thanks_s)

    def _after_action(self, action: str, data: dict) -> None:
        """Apply a successful reply at once; the retained state/window confirms it later."""
        if isinstance(data.get("window"), dict):
            self._apply_window_reply(data["window"])
            return
        ticket = data.get("ticket") if isinstance(data.get("ticket"), dict) else None
        current = dict((self._window_state or {}).get("ticket") or {})
        now = self._now().isoformat()
        if action == NEXT:
            if ticket is None:
                self._message = _Message("queue_empty", "info")
                return
            self._set_ticket({"number": ticket.get("number", ""), "topic": ticket.get("topic", ""),
                              "state": "called", "called_at": ticket.get("called_at") or now,
                              "started_at": None, "recalls": ticket.get("recalls", 0)})
            self._message = _Message("called_ok", "info", {"number": ticket.get("number", "")})
        elif action == RECALL:
            current["recalls"] = (ticket or {}).get("recalls", current.get("recalls", 0) + 1)
            self._set_ticket(current)
        elif action == START:
            current.update(state="serving", started_at=(ticket or {}).get("started_at") or now)
            self._set_ticket(current)
        elif action in (DONE, NO_SHOW, TRANSFER):
            number = (ticket or {}).get("number") or current.get("number", "")
            self._set_ticket(None)
            if action == TRANSFER:
                self._message = _Message("transferred_ok", "info", {"number": number})
            if action == DONE and number and self.rating_mode != RATING_OFF:
                self._rating = _Rating(number, "ask", self._mono() + self.rating_timeout_s)

    def _apply_window_reply(self, window: dict) -> None:
        merged = dict(self._window_state or {})
        merged.update(window)
        self._window_state = merged

    def _set_ticket(self, ticket: dict | None) -> None:
        merged = dict(self._window_state or {"window": self.window, "state": "open"})
        merged["ticket"] = ticket
        self._window_state = merged

    def _say(self, key: str, level: str, **params) -> None:
        with self._lock:
            self._message = _Message(key, level, params)
        self._notify()

    def _notify(self) -> CounterView:
        with self._lock:
            view = self._view_locked()
            subscribers = list(self._subscribers)
        for cb in subscribers:
            try:
                cb(view)
            except Exception:
                log.exception("counter view subscriber failed")
        return view

    # --- rules -------------------------------------------------------------------------
    def _rule(self, action: str) -> ButtonState:
        """May ``action`` be pressed now, and if not, which string key says why."""
        w = self._window_state
        if w is None:
            return ButtonState(False, "no_state")
        state = w.get("state")
        ticket = w.get("ticket") or None
        tstate = ticket.get("state") if ticket else None
        if action == OPEN:
            return ButtonState(state in ("closed", "paused"), "rule_window_open")
        if action == NEXT:
            if state != "open":
                return ButtonState(False, "rule_window_not_open")
            return ButtonState(ticket is None, "rule_finish_current")
        if action in (RECALL, NO_SHOW):
            return ButtonState(tstate == "called", "rule_not_called")
        if action == START:
            if tstate == "serving":
                return ButtonState(False, "rule_already_serving")
            return ButtonState(tstate == "called", "rule_not_called")
        if action == DONE:
            if tstate == "called":
                return ButtonState(False, "rule_not_serving")
            return ButtonState(tstate == "serving", "rule_no_ticket")
        if action == TRANSFER:
            return ButtonState(tstate in ("called", "serving"), "rule_no_ticket")
        if action == BREAK:
            if ticket is not None:
                return ButtonState(False, "rule_break_serving")      # REQ-C-3
            if state == "paused":
                return ButtonState(False, "rule_already_paused")
            if state != "open":
                return ButtonState(False, "rule_window_not_open")
            if self._last_open_window():
                return ButtonState(False, "rule_break_last")         # REQ-S-1
            return ButtonState(True)
        if action == CLOSE:
            if ticket is not None:
                return ButtonState(False, "rule_close_serving")
            return ButtonState(state in ("open", "paused"), "rule_already_closed")
        raise ValueError(action)

    def _last_open_window(self) -> bool:
        """REQ-S-1: with more than two windows, the last open one may not go on a break."""
        windows = self._config.get("windows") or []
        open_now = self._queue.get("windows_open")
        return len(windows) > 2 and isinstance(open_now, int) and open_now <= 1

    # --- the view ----------------------------------------------------------------------
    def _view_locked(self) -> CounterView:
        lang = self._lang
        text = STRINGS[lang]
        w = self._window_state
        state = w.get("state") if w else None
        ticket = (w.get("ticket") or None) if w else None
        topics = self._topics_by_code()

        # screen
        if self._rating is not None and self._rating.phase == "thanks" and self.rating_mode == RATING_SCREEN:
            screen = THANKS
        elif self._rating is not None and self.rating_mode == RATING_SCREEN:
            screen = RATING
        elif not self._signed_in:
            screen = SIGN_IN
        elif w is None:
            screen = LOADING
        else:
            screen = MAIN

        # window state and what the visitor sees (REQ-B-2)
        if state == "open":
            state_text = text["state_open"]
        elif state == "paused":
            state_text = text.get(f"break_{w.get('break_kind')}", text["break_technical"])
        elif state == "closed":
            state_text = text["state_closed"]
        else:
            state_text = text["state_unknown"]
        number = (ticket or {}).get("number", "")
        if state == "open" and number:
            visitor = text["visitor_ticket"].format(number=number)
        elif state == "open":
            visitor = text["window_n"].format(n=self.window)
        else:
            visitor = state_text if state else ""

        operator = (w or {}).get("operator") or None
        op_name = (operator or {}).get("name") or (operator or {}).get("code") or ""
        op_text = text["operator"].format(name=op_name) if op_name else text["no_operator"]

        # the current ticket and its timer
        tstate = (ticket or {}).get("state")
        topic_code = (ticket or {}).get("topic", "")
        topic = topics.get(topic_code, {})
        timer_label = timer_text = norm_text = ""
        level = "none"
        if ticket:
            if tstate == "serving":
                since = parse_time(ticket.get("started_at")) or parse_time(ticket.get("called_at"))
                norm = topic.get("service_norm_min")
                timer_label = text["timer_service"]
                norm_text = text["norm"].format(min=_fmt_num(norm)) if norm else text["no_norm"]
            else:
                since, norm = parse_time(ticket.get("called_at")), None
                timer_label = text["timer_waiting"]
            if since is not None:
                elapsed = max(0.0, (self._now() - since).total_seconds())
                timer_text = format_duration(elapsed)
                level = norm_level(elapsed / 60.0, norm) if tstate == "serving" else "none"
        ticket_text = {"called": text["ticket_called"], "serving": text["ticket_serving"]}.get(
            tstate, text["no_ticket"] if not ticket else "")

        buttons = self._buttons_locked(text)
        message = self._message.render(lang) if self._message else ""

        rating = self._rating
        phone = (self._config.get("office") or {}).get("phone") or ""
        return CounterView(
            screen=screen, lang=lang, text=text, window=self.window,
            connected=self._connected, busy=self._in_flight,
            title=text["window_n"].format(n=self.window), operator=op_text,
            window_state=state, state_text=state_text,
            visitor_text=text["visitor_sees"].format(text=visitor) if visitor else "",
            ticket_number=number, ticket_topic=self._topic_name(topic_code, topic),
            ticket_state=tstate, ticket_text=ticket_text,
            timer_label=timer_label, timer_text=timer_text, timer_level=level, norm_text=norm_text,
            queue=self._queue_rows(text, topics), buttons=buttons,
            message=message, message_level=self._message.level if self._message else "",
            break_choices=tuple(Choice(k, text[f"break_{k}"]) for k in BREAK_KINDS),
            outcome_choices=tuple(Choice(k, text[f"outcome_{k}"]) for k in OUTCOMES),
            transfer_choices=self._transfer_choices(text, topics, topic_code),
            rating_ticket=rating.ticket if rating else None,
            rating_phase=rating.phase if rating else None,
            rating_choices=tuple(Choice(str(s), text[f"rate_{s}"]) for s in RATING_SCORES),
            rating_footer=text["rate_footer"].format(phone=phone) if phone else "",
        )

    def _buttons_locked(self, text: Mapping[str, str]) -> dict[str, ButtonState]:
        common = None
        if not self._connected:
            common = "hub_unreachable"
        elif self._in_flight:
            common = "busy"
        out = {}
        for action in ACTIONS:
            rule = ButtonState(False, common) if common else self._rule(action)
            out[action] = ButtonState(rule.enabled, "" if rule.enabled else text[rule.reason])
        return out

    def _topics_by_code(self) -> dict[str, dict]:
        return {t.get("code"): t for t in self._config.get("topics") or [] if isinstance(t, dict)}

    def _topic_name(self, code: str, topic: dict) -> str:
        if not code:
            return ""
        name = (topic.get("name") or {})
        label = name.get(self._lang) or name.get("ru") or ""
        prefix = topic.get("prefix") or code
        return f"{prefix} · {label}" if label else prefix

    def _window_topics(self) -> list[str]:
        if self._window_state and self._window_state.get("topics"):
            return list(self._window_state["topics"])
        for entry in self._config.get("windows") or []:
            if isinstance(entry, dict) and entry.get("number") == self.window:
                return list(entry.get("topics") or [])
        return []

    def _queue_rows(self, text: Mapping[str, str], topics: dict[str, dict]) -> tuple[TopicRow, ...]:
        queue_topics = self._queue.get("topics") or {}
        rows = []
        for code in self._window_topics():
            topic = topics.get(code, {})
            q = queue_topics.get(code)
            if not isinstance(q, dict):
                rows.append(TopicRow(code, self._topic_name(code, topic), None, text["queue_none"], False))
                continue
            waiting = int(q.get("waiting") or 0)
            parts = [text["queue_row"].format(waiting=waiting)]
            oldest = q.get("oldest_wait_min")
            over = False
            if waiting and isinstance(oldest, (int, float)):
                parts.append(text["queue_oldest"].format(wait=text["minutes"].format(m=int(oldest + 0.5))))
                over = norm_level(oldest, topic.get("wait_norm_min")) == "over"
            rows.append(TopicRow(code, self._topic_name(code, topic), waiting, " · ".join(parts), over))
        return tuple(rows)

    def _transfer_choices(self, text: Mapping[str, str], topics: dict[str, dict],
                          current_topic: str) -> tuple[Choice, ...]:
        out = [Choice(f"topic:{code}", f"{text['to_topic']} {self._topic_name(code, t)}")
               for code, t in topics.items() if code and code != current_topic]
        for entry in self._config.get("windows") or []:
            n = entry.get("number") if isinstance(entry, dict) else None
            if isinstance(n, int) and n != self.window:
                out.append(Choice(f"window:{n}", text["window_n"].format(n=n)))
        return tuple(out)


def _fmt_num(value: Any) -> str:
    """A number of minutes for display: 10 → "10", 7.5 → "7.5"."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, (int, float)) else str(value)
