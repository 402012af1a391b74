"""What the counter screen (and its GPIO LEDs) show, as one pure function of the facts.

:func:`build_view` turns a :class:`Facts` snapshot — the hub's retained states as typed
views (``broker.views``), the connection, the message, the rating prompt, the time —
into an immutable :class:`CounterView`, already worded in the current language. A
button is enabled exactly when its op is in ``state/window.actions`` (and the hub is
reachable and nothing is in flight); no queue rule is repeated here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from broker.views import ConfigState, QueueState, WindowState
from counter_app.actions import ACCOUNTS_MAX, ACCOUNTS_MORE, ACCOUNTS_QUICK, ACTIONS, BREAK_KINDS, OPS, OUTCOMES, RATING_SCORES
from counter_app.rating import RATING_SCREEN, THANKS, Rating
from counter_app.strings import STRINGS, TEXTS

NEAR_NORM = 0.8  # a timer is "near" its norm from 80 % of it

# screens
LOADING, SIGN_IN, MAIN, RATING, THANKS_SCREEN, ACCOUNTS = "loading", "sign_in", "main", "rating", "thanks", "accounts"
# the accounts prompt's phases: quick buttons 1..4 and «5+», then a +/- stepper
QUICK, STEPPER = "quick", "stepper"


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
class Message:
    """A line for the operator: a string key, or the hub's own texts (``raw``) inside one."""
    key: str
    level: str                       # info / warning / error
    params: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, str] | None = None     # {"ru": ..., "en": ...} from a refusal

    def render(self, lang: str) -> str:
        if self.raw is not None:
            text = self.raw.get(lang) or self.raw.get("ru", "")
            return TEXTS.text(lang, self.key, reason=text, **self.params) if self.key else text
        return TEXTS.text(lang, self.key, **self.params)


@dataclass(frozen=True)
class AccountsPrompt:
    """Done pressed on a ticket whose topic's service norm is per personal account: how many
    accounts did the visit handle? (``finish`` ``accounts``, docs/contract.md)."""
    ticket: str                      # the ticket it is asked for (a new ticket drops the prompt)
    outcome: str | None = None       # the outcome already chosen, sent with the count
    phase: str = QUICK               # quick (1 2 3 4 5+) / stepper (after «5+»)
    count: int = 1

    def more(self) -> AccountsPrompt:
        """«5+»: the stepper, from 5."""
        return replace(self, phase=STEPPER, count=max(self.count, len(ACCOUNTS_QUICK) + 1))

    def stepped(self, delta: int) -> AccountsPrompt:
        return replace(self, phase=STEPPER, count=min(ACCOUNTS_MAX, max(1, self.count + delta)))


@dataclass(frozen=True)
class Facts:
    """Everything the screen depends on, at one moment."""
    window: int
    lang: str
    now: datetime
    signed_in: bool = False
    connected: bool = False
    busy: bool = False
    state: WindowState | None = None
    config: ConfigState = ConfigState()
    queue: QueueState = QueueState()
    message: Message | None = None
    rating: Rating | None = None
    rating_mode: str = RATING_SCREEN
    accounts: AccountsPrompt | None = None


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
    operators: tuple[Choice, ...] = ()   # sign-in list: code → display name (state/config)
    accounts_phase: str | None = None    # quick / stepper while asking for the number of accounts
    accounts_count: int = 1              # the stepper's value (the quick buttons' default is 1)
    accounts_choices: tuple[Choice, ...] = ()   # "1".."4" and "more" (5+)
    accounts_title: str = ""             # «Талон Б004: сколько лицевых счетов обслужено?»

    @property
    def serving(self) -> bool:
        return self.ticket_state in ("called", "serving")

    @property
    def enabled(self) -> frozenset[str]:
        """The actions that may be pressed now (what the GPIO LEDs light)."""
        return frozenset(a for a, b in self.buttons.items() if b.enabled)


def build_view(f: Facts) -> CounterView:
    lang, w = f.lang, f.state
    text = STRINGS[lang]
    state = w.state if w else None
    ticket = w.ticket if w else None

    if f.rating is not None and f.rating_mode == RATING_SCREEN:
        screen = THANKS_SCREEN if f.rating.phase == THANKS else RATING
    elif not f.signed_in:
        screen = SIGN_IN
    elif w is None:
        screen = LOADING
    elif f.accounts is not None:
        screen = ACCOUNTS
    else:
        screen = MAIN

    state_text = _state_text(text, w)
    number = ticket.number if ticket else ""
    if state == "open" and number:
        visitor = text["visitor_ticket"].format(number=number)
    elif state == "open":
        visitor = text["window_n"].format(n=f.window)
    else:
        visitor = state_text if state else ""
    op_name = w.operator.name if w and w.operator else ""
    op_text = text["operator"].format(name=op_name) if op_name else text["no_operator"]

    tstate = ticket.state if ticket else None
    topic_code = (ticket.topic or "") if ticket else ""
    topic = f.config.topic(topic_code) if topic_code else None
    timer_label = timer_text = norm_text = ""
    level = "none"
    if ticket:
        if tstate == "serving":
            since = parse_time(ticket.started_at) or parse_time(ticket.called_at)
            norm = topic.service_norm_min if topic else None
            timer_label = text["timer_service"]
            norm_key = "norm_per_account" if topic is not None and topic.per_account else "norm"
            norm_text = text[norm_key].format(min=_fmt_num(norm)) if norm else text["no_norm"]
        else:
            since, norm = parse_time(ticket.called_at), None
            timer_label = text["timer_waiting"]
        if since is not None:
            elapsed = max(0.0, (f.now - since).total_seconds())
            timer_text = format_duration(elapsed)
            level = norm_level(elapsed / 60.0, norm) if tstate == "serving" else "none"
    ticket_text = {"called": text["ticket_called"], "serving": text["ticket_serving"]}.get(
        tstate or "", text["no_ticket"] if not ticket else "")

    phone = f.config.office.phone or ""
    return CounterView(
        screen=screen, lang=lang, text=text, window=f.window, connected=f.connected, busy=f.busy,
        title=text["window_n"].format(n=f.window), operator=op_text,
        window_state=state, state_text=state_text,
        visitor_text=text["visitor_sees"].format(text=visitor) if visitor else "",
        ticket_number=number, ticket_topic=_topic_name(f.config, topic_code, lang),
        ticket_state=tstate, ticket_text=ticket_text,
        timer_label=timer_label, timer_text=timer_text, timer_level=level, norm_text=norm_text,
        queue=_queue_rows(f, text), buttons=buttons(f, text),
        message=f.message.render(lang) if f.message else "",
        message_level=f.message.level if f.message else "",
        break_choices=tuple(Choice(k, text[f"break_{k}"]) for k in BREAK_KINDS),
        outcome_choices=tuple(Choice(k, text[f"outcome_{k}"]) for k in OUTCOMES),
        transfer_choices=_transfer_choices(f, text, topic_code),
        rating_ticket=f.rating.ticket if f.rating else None,
        rating_phase=f.rating.phase if f.rating else None,
        rating_choices=tuple(Choice(str(s), text[f"rate_{s}"]) for s in RATING_SCORES),
        rating_footer=text["rate_footer"].format(phone=phone) if phone else "",
        operators=tuple(Choice(o.code, o.name or o.code) for o in f.config.operators),
        **_accounts_view(f.accounts, text),
    )


def asks_accounts(f: Facts) -> bool:
    """Done asks how many personal accounts the visit handled: the current ticket's topic
    has a per-account service norm (``state/config`` ``topics[].per_account``)."""
    ticket = f.state.ticket if f.state is not None else None
    topic = f.config.topic(ticket.topic) if ticket is not None and ticket.topic else None
    return topic is not None and topic.per_account


def _accounts_view(prompt: AccountsPrompt | None, text: Mapping[str, str]) -> dict[str, Any]:
    if prompt is None:
        return {}
    return {"accounts_phase": prompt.phase, "accounts_count": prompt.count,
            "accounts_choices": tuple(Choice(str(n), str(n)) for n in ACCOUNTS_QUICK)
            + (Choice(ACCOUNTS_MORE, f"{len(ACCOUNTS_QUICK) + 1}+"),),
            "accounts_title": text["accounts_title"].format(number=prompt.ticket)}


def refusal(f: Facts, action: str) -> Message | None:
    """Why ``action`` cannot be pressed now (None if it can)."""
    if not f.connected:
        return Message("hub_unreachable", "error")
    if f.busy:
        return Message("busy", "warning")
    if f.state is None:
        return Message("no_state", "warning")
    if OPS[action] in f.state.actions:
        return None
    return Message("rule_unavailable", "warning", {"action": TEXTS.text(f.lang, action),
                                                   "state": _situation(STRINGS[f.lang], f.state)})


def buttons(f: Facts, text: Mapping[str, str]) -> dict[str, ButtonState]:
    out = {}
    for action in ACTIONS:
        why = refusal(f, action)
        out[action] = ButtonState(True) if why is None else ButtonState(False, why.render(f.lang))
    return out


def _state_text(text: Mapping[str, str], w: WindowState | None) -> str:
    if w is None:
        return text["state_unknown"]
    if w.state == "open":
        return text["state_open"]
    if w.state == "paused":
        return text.get(f"break_{w.break_kind}", text["break_technical"])
    return text["state_closed"]


def _situation(text: Mapping[str, str], w: WindowState) -> str:
    """«Окно открыто · Талон А015: Вызван» — the state a refusal refers to."""
    parts = [_state_text(text, w)]
    if w.ticket is not None:
        state = {"called": text["ticket_called"], "serving": text["ticket_serving"]}.get(w.ticket.state or "", "")
        parts.append(text["visitor_ticket"].format(number=w.ticket.number) + (f": {state}" if state else ""))
    return " · ".join(parts)


def _topic_name(config: ConfigState, code: str, lang: str) -> str:
    if not code:
        return ""
    topic = config.topic(code)
    if topic is None:
        return code
    label = topic.name.get(lang)
    return f"{topic.prefix} · {label}" if label else topic.prefix


def _window_topics(f: Facts) -> tuple[str, ...]:
    if f.state is not None and f.state.topics:
        return f.state.topics
    info = f.config.window(f.window)
    return info.topics if info else ()


def _queue_rows(f: Facts, text: Mapping[str, str]) -> tuple[TopicRow, ...]:
    rows = []
    for code in _window_topics(f):
        topic = f.config.topic(code)
        label = _topic_name(f.config, code, f.lang)
        q = f.queue.topics.get(code)
        if q is None or q.waiting is None:
            rows.append(TopicRow(code, label, None, text["queue_none"], False))
            continue
        parts = [text["queue_row"].format(waiting=q.waiting)]
        over = False
        if q.waiting and q.oldest_wait_min is not None:
            parts.append(text["queue_oldest"].format(wait=text["minutes"].format(m=int(q.oldest_wait_min + 0.5))))
            over = norm_level(q.oldest_wait_min, topic.wait_norm_min if topic else None) == "over"
        rows.append(TopicRow(code, label, q.waiting, " · ".join(parts), over))
    return tuple(rows)


def _transfer_choices(f: Facts, text: Mapping[str, str], current_topic: str) -> tuple[Choice, ...]:
    out = [Choice(f"topic:{t.code}", f"{text['to_topic']} {_topic_name(f.config, t.code, f.lang)}")
           for t in f.config.topics if t.code and t.code != current_topic]
    out += [Choice(f"window:{w.number}", text["window_n"].format(n=w.number))
            for w in f.config.windows if w.number != f.window]
    return tuple(out)


def _fmt_num(value: Any) -> str:
    """A number of minutes for display: 10 → "10", 7.5 → "7.5"."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, (int, float)) else str(value)
