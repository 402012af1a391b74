"""The counter terminal (рабочее место оператора) for one window: the state machine glue.

No Kivy here, and no queue rule: which actions are allowed is the hub's
``state/window/<n>.actions``; the words are :mod:`counter_app.view`'s, the requests
:mod:`counter_app.requests`', the rating prompt :mod:`counter_app.rating`'s. The Kivy
app, the GPIO panel and the tests all drive a :class:`CounterPresenter` and draw the
immutable :class:`~counter_app.view.CounterView` it hands to its listeners.

Single-threaded, like every device presenter (``broker.bus``): ``start(post)`` sends each
bus callback through ``post`` once, onto the presenter's thread; a request runs on the
``runner`` (one worker thread in the app, inline in tests) and its outcome comes back
through ``post`` too. A press while a request is in flight — or before the hub's new
window state arrived — is ignored (debounce); while the bus is disconnected every
action is refused with «Нет связи с сервером очереди — действие не выполнено».
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from broker.bus import Post, direct
from broker.follower import SeqFollower
from broker.views import ConfigState, QueueState, ViewError, WindowState
from counter_app.actions import (
    ACCOUNTS_MORE,
    BREAK,
    CLOSE,
    DONE,
    NEXT,
    NO_SHOW,
    OPEN,
    OPS,
    RATING_SCORES,
    RECALL,
    START,
    TRANSFER,
    request_for,
)
from counter_app.rating import ASK, RATING_EXTERNAL, RATING_OFF, RATING_SCREEN, RatingRules
from counter_app.requests import Outcome, Runner, execute, run_inline
from counter_app.strings import LANGUAGES, STRINGS, TEXTS
from counter_app.view import AccountsPrompt, CounterView, Facts, Message, asks_accounts, build_view, refusal

log = logging.getLogger(__name__)

__all__ = ["CounterPresenter", "RATING_EXTERNAL", "RATING_OFF", "RATING_SCREEN", "local_now"]

STATE_WAIT_S = 2.0   # after a ticket op, how long presses wait for the hub's new window state
WINDOW_REPLY_OPS = ("sign_in", "open", "pause", "close")   # replies carrying the window state


def local_now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


class CounterPresenter:
    """The counter terminal for one window.

    :param bus: the device-side bus (``HubClient``, ``FakeBus``).
    :param window: this terminal's window number.
    :param runner: where a request runs: :func:`~counter_app.requests.run_inline` (default)
        or a :class:`~counter_app.requests.RequestWorker`.
    :param now: wall clock returning an aware datetime (timers against hub timestamps).
    :param monotonic: seconds clock for timeouts (rating prompt, thank-you screen).
    :param rating: ``screen`` (ask here), ``external`` (a GPIO panel asks) or ``off``.

    Call :meth:`start` (with the UI thread's ``post``) to begin following the bus.
    """

    def __init__(self, bus, window: int, *, runner: Runner = run_inline,
                 now: Callable[[], datetime] = local_now,
                 monotonic: Callable[[], float] = time.monotonic,
                 lang: str = "ru", rating: str = RATING_SCREEN,
                 rating_timeout_s: float = 30.0, thanks_s: float = 5.0):
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; use one of {LANGUAGES}")
        self.bus = bus
        self.window = int(window)
        self.rules = RatingRules(rating, rating_timeout_s, thanks_s)
        self._runner = runner
        self._now = now
        self._mono = monotonic
        self.post: Post = direct
        self.follower = SeqFollower(bus, (f"window/{self.window}",))
        self._facts = Facts(window=self.window, lang=lang, now=now(),
                            connected=bool(getattr(bus, "connected", False)), rating_mode=rating)
        self._in_flight = False
        self._wait_state_until: float | None = None   # a ticket op succeeded; its window state is due
        self._wait_after: int | None = None           # ... a state newer than this seq
        self._listeners: list[Callable[[CounterView], Any]] = []
        self._view = build_view(self._facts)
        self._started = False

    @property
    def rating_mode(self) -> str:
        return self.rules.mode

    # --- wiring ------------------------------------------------------------------------
    def start(self, post: Post = direct) -> CounterPresenter:
        """Follow the bus; every callback goes through ``post`` to the presenter's thread."""
        if self._started:
            return self
        self._started = True
        self.post = post
        self.bus.on_connection(lambda connected: post(self._on_connection, connected))
        self.bus.watch_state(f"window/{self.window}", lambda payload: post(self._on_window, payload))
        self.bus.watch_state("config", lambda payload: post(self._on_config, payload))
        self.bus.watch_state("queue", lambda payload: post(self._on_queue, payload))
        self._publish()
        return self

    def on_change(self, listener: Callable[[CounterView], Any]) -> None:
        """``listener(view)`` on the presenter's thread after every change of the view."""
        self._listeners.append(listener)

    def subscribe(self, listener: Callable[[CounterView], Any]) -> None:
        """``on_change``, and the current view at once."""
        self._listeners.append(listener)
        listener(self._view)

    @property
    def view(self) -> CounterView:
        return self._view

    @property
    def lang(self) -> str:
        return self._facts.lang

    def t(self, key: str, **params) -> str:
        return TEXTS.text(self.lang, key, **params)

    # --- the operator's actions --------------------------------------------------------
    def sign_in(self, operator: str, pin: str) -> bool:
        operator, pin = (operator or "").strip(), (pin or "").strip()
        if not operator or not pin:
            self._say(Message("need_credentials", "warning"))
            return False
        return self._send("sign_in", {"window": self.window, "operator": operator, "pin": pin})

    def sign_out(self) -> None:
        """Back to the sign-in screen (local only; the contract has no sign-out op)."""
        self._set(signed_in=False, message=None, accounts=None)

    def next(self) -> bool:
        return self.press(NEXT)

    def recall(self) -> bool:
        return self.press(RECALL)

    def start_service(self) -> bool:
        return self.press(START)

    def done(self, outcome: str | None = None, accounts: int | None = None) -> bool:
        """Finish the visit. On a topic with a per-account service norm, without ``accounts``
        this asks for them first (the view's ``accounts`` screen; see :meth:`choose_accounts`)."""
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
        op, args = request_for(action, self.window, **options)
        if self._busy():
            log.debug("window %s: %s ignored, a request is in flight", self.window, op)
            return False
        why = refusal(self._facts, action)
        if why is not None:
            self._say(why)
            return False
        if action == DONE and "accounts" not in args and asks_accounts(self._facts):
            return self._ask_accounts(args.get("outcome"))
        return self._send(op, args, action=action)

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

    # --- personal accounts (Done on a topic whose service norm is per account) ----------
    def asks_accounts(self) -> bool:
        """The current ticket's topic has a per-account service norm: Done sends ``accounts``."""
        return asks_accounts(self._facts)

    def choose_accounts(self, key: str | int) -> bool:
        """A quick button of the accounts prompt: ``1``..``4`` finishes with that many,
        ``more`` (5+) opens the +/- stepper at 5."""
        prompt = self._facts.accounts
        if prompt is None:
            return False
        if key == ACCOUNTS_MORE:
            self._set(accounts=prompt.more())
            return True
        return self._finish_accounts(int(key))

    def step_accounts(self, delta: int) -> None:
        """The stepper's − / + (1..99)."""
        if self._facts.accounts is not None:
            self._set(accounts=self._facts.accounts.stepped(int(delta)))

    def finish_accounts(self) -> bool:
        """The stepper's «Завершить приём: N»."""
        prompt = self._facts.accounts
        return prompt is not None and self._finish_accounts(prompt.count)

    def cancel_accounts(self) -> None:
        """Back to the main screen without finishing."""
        self._set(accounts=None)

    def _ask_accounts(self, outcome: str | None) -> bool:
        ticket = self._facts.state.ticket if self._facts.state is not None else None
        self._set(accounts=AccountsPrompt(ticket.number if ticket else "", outcome), message=None)
        return True

    def _finish_accounts(self, count: int) -> bool:
        prompt = self._facts.accounts
        assert prompt is not None
        return self.press(DONE, outcome=prompt.outcome, accounts=count)

    def explain(self, action: str) -> str:
        """Show (and return) why ``action`` cannot be pressed now; "" if it can."""
        if action not in OPS:
            raise ValueError(f"unknown action {action!r}")
        why = refusal(self._facts, action)
        if why is None:
            return ""
        self._say(why)
        return why.render(self.lang)

    def notify_hint(self, key: str, **params) -> None:
        """Show an informational line (e.g. the GPIO panel's «hold to confirm»)."""
        self._say(Message(key, "info", params))

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self._set(lang=lang)

    def toggle_language(self) -> None:
        self.set_language("en" if self.lang == "ru" else "ru")

    # --- rating ------------------------------------------------------------------------
    def rate(self, score: int) -> bool:
        """Record the visitor's score 1..5 for the ticket just finished."""
        score = int(score)
        if score not in RATING_SCORES:
            raise ValueError("score must be 1..5")
        rating = self._facts.rating
        if rating is None or rating.phase != ASK or self._in_flight:
            return False
        return self._send("rate", {"window": self.window, "ticket": rating.ticket, "score": score})

    def skip_rating(self) -> None:
        self._set(rating=None)

    # --- time passing ------------------------------------------------------------------
    def tick(self) -> CounterView:
        """Advance timers and timeouts; the UI calls this about once a second."""
        now = self._mono()
        if self._wait_state_until is not None and now >= self._wait_state_until:
            log.info("window %s: no new window state after a request; presses allowed again", self.window)
            self._wait_state_until = None
        rating = self._facts.rating
        still = RatingRules.expired(rating, now)
        if rating is not None and still is None and rating.phase == ASK:
            log.info("window %s: no rating for %s, prompt timed out", self.window, rating.ticket)
        self._set(rating=still)
        return self._view

    # --- bus callbacks (on the presenter's thread) ---------------------------------------
    def _on_connection(self, connected: bool) -> None:
        connected = bool(connected)
        message = self._facts.message
        if connected and message is not None and message.key == "hub_unreachable":
            message = None
        if connected and not self._facts.connected:
            self.follower.resync("reconnect")
        self._set(connected=connected, message=message)

    def _on_window(self, payload: dict) -> None:
        try:
            state = WindowState.from_payload(payload)
        except ViewError as exc:
            log.warning("window %s: ignoring malformed window state: %s", self.window, exc)
            return
        if state.window != self.window or not self.follower.state(state.seq):
            return  # another window's, or an older retained copy arriving late
        if state.seq is None or self._wait_after is None or state.seq > self._wait_after:
            self._wait_state_until = None     # the hub's state after the last request is here
        prompt = self._facts.accounts
        if prompt is not None and (state.ticket is None or state.ticket.number != prompt.ticket
                                   or OPS[DONE] not in state.actions):
            prompt = None                     # finished, transferred or gone meanwhile: nothing to ask
        self._set(state=state, accounts=prompt)

    def _on_config(self, payload: dict) -> None:
        try:
            self._set(config=ConfigState.from_payload(payload))
        except ViewError as exc:
            log.warning("ignoring malformed state/config: %s", exc)

    def _on_queue(self, payload: dict) -> None:
        try:
            self._set(queue=QueueState.from_payload(payload))
        except ViewError as exc:
            log.warning("ignoring malformed state/queue: %s", exc)

    # --- requests ----------------------------------------------------------------------
    def _busy(self) -> bool:
        return self._in_flight or self._wait_state_until is not None

    def _send(self, op: str, args: dict, action: str | None = None) -> bool:
        if self._in_flight:
            return False
        if not self._facts.connected:
            self._say(Message("hub_unreachable", "error"))
            return False
        self._in_flight = True
        seq = self.follower.last_seq
        self._set(message=None)
        bus, post = self.bus, self.post
        self._runner(lambda: post(self._done, op, args, action, seq, execute(bus, op, args)))
        return True

    def _done(self, op: str, args: dict, action: str | None, seq: int | None, outcome: Outcome) -> None:
        """A request's outcome, back on the presenter's thread."""
        self._in_flight = False
        if not outcome.ok:
            failure = "rate_failed" if op == "rate" else ""
            if outcome.refusal is not None:
                message = Message(failure, "error", raw=outcome.refusal)
            elif failure:
                message = Message(failure, "error", raw={lang: STRINGS[lang][outcome.error] for lang in LANGUAGES})
            else:
                message = Message(outcome.error, "error")
            self._set(message=message)
            return
        data = outcome.data
        facts: dict = {}
        if op in WINDOW_REPLY_OPS and isinstance(data.get("window"), dict):
            self._on_window(data["window"])
        ticket = data.get("ticket") if isinstance(data.get("ticket"), dict) else None
        number = (ticket or {}).get("number") or ""
        if op == "sign_in":
            facts.update(signed_in=True, message=Message("signed_in", "info"))
        elif op == "rate":
            facts.update(rating=self.rules.thanked(self._facts.rating, args["ticket"], self._mono()))
        elif action == NEXT and ticket is None:
            facts.update(message=Message("queue_empty", "info"))
        elif action == NEXT:
            facts.update(message=Message("called_ok", "info", {"number": number}))
        elif action == TRANSFER:
            facts.update(message=Message("transferred_ok", "info", {"number": number}))
        elif action == DONE:
            facts.update(rating=self.rules.after_done(number, self._mono()), accounts=None)
        changed_window = ticket is not None and op not in WINDOW_REPLY_OPS
        if changed_window and self.follower.last_seq == seq:
            self._wait_state_until = self._mono() + STATE_WAIT_S   # debounce until the hub's state arrives
            self._wait_after = seq
        self._set(**facts)

    # --- the view ----------------------------------------------------------------------
    def _say(self, message: Message) -> None:
        self._set(message=message)

    def _set(self, **changes) -> None:
        self._facts = replace(self._facts, **changes)
        self._publish()

    def _publish(self) -> None:
        self._facts = replace(self._facts, now=self._now(), busy=self._busy())
        view = build_view(self._facts)
        if view == self._view:
            return
        self._view = view
        for listener in list(self._listeners):
            try:
                listener(view)
            except Exception:
                log.exception("counter view listener failed")
