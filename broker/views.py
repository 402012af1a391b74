"""Typed, read-only views of what the hub publishes (docs/contract.md), parsed in one place.

Every device app reads the retained states and the ticket events through these
frozen dataclasses instead of poking at dicts::

    config = ConfigState.from_payload(payload)     # state/config
    queue = QueueState.from_payload(payload)       # state/queue
    board = BoardState.from_payload(payload)       # state/board
    window = WindowState.from_payload(payload)     # state/window/<n>
    event = TicketEvent.from_payload(payload)      # event/ticket
    ticket = Ticket.from_payload(reply["ticket"])  # a command reply's Ticket

``from_payload`` ignores keys it does not know (a newer hub may add some), is strict
about the types of the fields it reads, and raises ``ViewError`` (a ``ValueError``)
with the field's path on anything else, so a garbled message is refused whole rather
than half-shown. ``parse(name, payload)`` picks the view by state name.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "BoardCall", "BoardSettings", "BoardState", "ConfigState", "Name", "OfficeInfo", "Operator",
    "PriorityCategory", "PriorityRules", "QueueState", "QueueTopic", "Segment", "SoundSettings",
    "Ticket", "TicketEvent", "TopicInfo", "ViewError", "WindowInfo", "WindowState", "WindowTicket", "parse",
]

T = TypeVar("T")


class ViewError(ValueError):
    """A payload that does not match the contract (``path`` names the bad field)."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path


# --- field readers (strict on type, None-tolerant only where the contract allows) -------

def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ViewError(path, f"expected an object, got {type(value).__name__}")
    return value


def _str(d: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    value = d.get(key, default)
    if not isinstance(value, str):
        raise ViewError(f"{path}.{key}", f"expected a string, got {value!r}")
    return value


def _opt_str(d: Mapping[str, Any], key: str, path: str) -> str | None:
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise ViewError(f"{path}.{key}", f"expected a string or null, got {value!r}")
    return value


def _int(d: Mapping[str, Any], key: str, path: str, default: int | None = None) -> int:
    value = d.get(key, default)
    if type(value) is not int:   # bool is not a number here
        raise ViewError(f"{path}.{key}", f"expected an integer, got {value!r}")
    return value


def _opt_int(d: Mapping[str, Any], key: str, path: str) -> int | None:
    value = d.get(key)
    return None if value is None else _int(d, key, path)


def _opt_float(d: Mapping[str, Any], key: str, path: str) -> float | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ViewError(f"{path}.{key}", f"expected a number, got {value!r}")
    return float(value)


def _bool(d: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
    value = d.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ViewError(f"{path}.{key}", f"expected true or false, got {value!r}")
    return value


def _list(d: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ViewError(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
    return value


def _strs(d: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    items = _list(d, key, path)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ViewError(f"{path}.{key}[{i}]", f"expected a string, got {item!r}")
    return tuple(items)


def _each(d: Mapping[str, Any], key: str, path: str,
          make: Callable[[Mapping[str, Any], str], T]) -> tuple[T, ...]:
    return tuple(make(_obj(item, f"{path}.{key}[{i}]"), f"{path}.{key}[{i}]")
                 for i, item in enumerate(_list(d, key, path)))


# --- shared pieces --------------------------------------------------------------------------

@dataclass(frozen=True)
class Name:
    """A label in several languages: ``{"ru": …, "en": …}`` or a plain string."""

    texts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, value: Any, path: str = "name") -> Name:
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls((("ru", value),))
        d = _obj(value, path)
        return cls(tuple((str(lang), text) for lang, text in d.items() if isinstance(text, str)))

    def get(self, lang: str, fallback: str = "") -> str:
        """In ``lang``, else Russian, else any language, else ``fallback``."""
        table = dict(self.texts)
        return table.get(lang) or table.get("ru") or next(iter(table.values()), "") or fallback

    def __bool__(self) -> bool:
        return any(text for _, text in self.texts)


# --- state/config ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OfficeInfo:
    id: str = ""
    name: Name = Name()
    timezone: str | None = None
    languages: tuple[str, ...] = ()     # empty: the office did not say
    phone: str | None = None
    site: str | None = None
    public_url: str | None = None       # the base of the visitors' ticket pages; None: no pages
                                        # (or a hub older than the field: then only ``Ticket.url`` says)

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "office") -> OfficeInfo:
        return cls(id=_str(d, "id", path, ""), name=Name.parse(d.get("name"), f"{path}.name"),
                   timezone=_opt_str(d, "timezone", path),
                   languages=_strs(d, "languages", path),
                   phone=_opt_str(d, "phone", path), site=_opt_str(d, "site", path),
                   public_url=_opt_str(d, "public_url", path) or None)

    @property
    def phone_pages(self) -> bool:
        """The office serves each ticket's page for the visitor's phone (``public_url`` set)."""
        return bool(self.public_url)


@dataclass(frozen=True)
class TopicInfo:
    code: str
    prefix: str = ""
    name: Name = Name()
    segment: str | None = None
    wait_norm_min: float | None = None
    service_norm_min: float | None = None
    aggregation: str | None = None
    cutoff: str | None = None
    per_account: bool = False          # service norm per personal account: Done asks how many

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "topic") -> TopicInfo:
        code = _str(d, "code", path)
        return cls(code=code, prefix=_opt_str(d, "prefix", path) or code,
                   name=Name.parse(d.get("name"), f"{path}.name"), segment=_opt_str(d, "segment", path),
                   wait_norm_min=_opt_float(d, "wait_norm_min", path),
                   service_norm_min=_opt_float(d, "service_norm_min", path),
                   aggregation=_opt_str(d, "aggregation", path), cutoff=_opt_str(d, "cutoff", path),
                   per_account=_bool(d, "per_account", path, False))

    def label(self, lang: str) -> str:
        return self.name.get(lang, self.code)


@dataclass(frozen=True)
class WindowInfo:
    number: int
    zone: str | None = None
    topics: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "window") -> WindowInfo:
        return cls(number=_int(d, "number", path), zone=_opt_str(d, "zone", path), topics=_strs(d, "topics", path))


@dataclass(frozen=True)
class OperatorInfo:
    """An operator a counter may offer at sign-in: code and display name (never a PIN)."""
    code: str
    name: str = ""

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "operator") -> OperatorInfo:
        return cls(code=_str(d, "code", path), name=_opt_str(d, "name", path) or "")


@dataclass(frozen=True)
class PriorityCategory:
    code: str
    name: Name = Name()

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "category") -> PriorityCategory:
        return cls(_str(d, "code", path), Name.parse(d.get("name"), f"{path}.name"))

    def label(self, lang: str) -> str:
        return self.name.get(lang, self.code)


@dataclass(frozen=True)
class PriorityRules:
    mode: str | None = None
    categories: tuple[PriorityCategory, ...] = ()

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "priority") -> PriorityRules:
        return cls(_opt_str(d, "mode", path), _each(d, "categories", path, PriorityCategory.from_payload))


@dataclass(frozen=True)
class Segment:
    code: str
    name: Name = Name()

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "segment") -> Segment:
        return cls(_str(d, "code", path), Name.parse(d.get("name"), f"{path}.name"))

    def label(self, lang: str) -> str:
        return self.name.get(lang, self.code)


@dataclass(frozen=True)
class BoardSettings:
    history: int | None = None          # None: the board's default
    min_display_s: float | None = None
    notice: Name = Name()

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "board") -> BoardSettings:
        history = _opt_int(d, "history", path)
        if history is not None and history < 1:
            raise ViewError(f"{path}.history", f"must be at least 1, got {history}")
        return cls(history, _opt_float(d, "min_display_s", path), Name.parse(d.get("notice"), f"{path}.notice"))


@dataclass(frozen=True)
class SoundSettings:
    voice: bool = True
    repeat: int = 1

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "sound") -> SoundSettings:
        return cls(_bool(d, "voice", path, True), _int(d, "repeat", path, 1) if d.get("repeat") is not None else 1)


@dataclass(frozen=True)
class ConfigState:
    """``state/config``: the office, its topics, windows, priority rules, board and sound."""

    office: OfficeInfo = OfficeInfo()
    topics: tuple[TopicInfo, ...] = ()
    windows: tuple[WindowInfo, ...] = ()
    priority: PriorityRules = PriorityRules()
    segments: tuple[Segment, ...] = ()
    board: BoardSettings = BoardSettings()
    sound: SoundSettings = SoundSettings()
    operators: tuple[OperatorInfo, ...] = ()

    @classmethod
    def from_payload(cls, payload: Any) -> ConfigState:
        d = _obj(payload, "config")
        return cls(
            office=OfficeInfo.from_payload(_obj(d.get("office") or {}, "config.office"), "config.office"),
            topics=_each(d, "topics", "config", TopicInfo.from_payload),
            windows=_each(d, "windows", "config", WindowInfo.from_payload),
            priority=PriorityRules.from_payload(_obj(d.get("priority") or {}, "config.priority"), "config.priority"),
            segments=_each(d, "segments", "config", Segment.from_payload),
            board=BoardSettings.from_payload(_obj(d.get("board") or {}, "config.board"), "config.board"),
            sound=SoundSettings.from_payload(_obj(d.get("sound") or {}, "config.sound"), "config.sound"),
            operators=_each(d, "operators", "config", OperatorInfo.from_payload),
        )

    def topic(self, code: str) -> TopicInfo | None:
        return next((t for t in self.topics if t.code == code), None)

    def window(self, number: int) -> WindowInfo | None:
        return next((w for w in self.windows if w.number == number), None)

    def topic_label(self, code: str, lang: str) -> str:
        topic = self.topic(code)
        return topic.label(lang) if topic else code

    @property
    def window_numbers(self) -> tuple[int, ...]:
        return tuple(w.number for w in self.windows)


# --- state/queue ----------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueTopic:
    waiting: int | None = None
    eta_min: float | None = None
    oldest_wait_min: float | None = None
    accepting: bool = True
    reason: str | None = None          # closed | cutoff | no_window when not accepting

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "topic") -> QueueTopic:
        waiting = _opt_int(d, "waiting", path)
        if waiting is not None and waiting < 0:
            raise ViewError(f"{path}.waiting", f"must not be negative, got {waiting}")
        return cls(waiting, _opt_float(d, "eta_min", path), _opt_float(d, "oldest_wait_min", path),
                   _bool(d, "accepting", path, True), _opt_str(d, "reason", path))


@dataclass(frozen=True)
class QueueState:
    """``state/queue``: waiting count and estimate per topic code."""

    seq: int | None = None
    at: str | None = None
    topics: Mapping[str, QueueTopic] = field(default_factory=dict)
    windows_open: int | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> QueueState:
        d = _obj(payload, "queue")
        topics = _obj(d.get("topics") or {}, "queue.topics")
        return cls(seq=_opt_int(d, "seq", "queue"), at=_opt_str(d, "at", "queue"),
                   topics={str(code): QueueTopic.from_payload(_obj(t, f"queue.topics.{code}"), f"queue.topics.{code}")
                           for code, t in topics.items()},
                   windows_open=_opt_int(d, "windows_open", "queue"))

    def topic(self, code: str) -> QueueTopic:
        """The topic's figures; an unknown topic reads as accepting with nothing known."""
        return self.topics.get(code) or QueueTopic()


# --- state/board ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BoardCall:
    """One call on the board: a recall of the same ticket is a new call (``recalls`` + 1)."""

    ticket: str
    window: int
    topic: str | None = None
    at: str | None = None
    recalls: int = 0

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.ticket, self.window, self.recalls)

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "call") -> BoardCall:
        ticket = _str(d, "ticket", path)
        if not ticket:
            raise ViewError(f"{path}.ticket", "empty ticket number")
        return cls(ticket, _int(d, "window", path), _opt_str(d, "topic", path), _opt_str(d, "at", path),
                   _opt_int(d, "recalls", path) or 0)


@dataclass(frozen=True)
class BoardState:
    """``state/board``: the last calls, newest first."""

    seq: int | None = None
    calls: tuple[BoardCall, ...] = ()

    @classmethod
    def from_payload(cls, payload: Any) -> BoardState:
        d = _obj(payload, "board")
        return cls(_opt_int(d, "seq", "board"), _each(d, "calls", "board", BoardCall.from_payload))


# --- state/notice ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeState:
    """``state/notice``: the announcement to everyone waiting; ``text`` is "" when there is none."""

    seq: int | None = None
    text: str = ""
    at: str | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> NoticeState:
        d = _obj(payload, "notice")
        return cls(_opt_int(d, "seq", "notice"), (_opt_str(d, "text", "notice") or "").strip(),
                   _opt_str(d, "at", "notice"))


# --- state/window/<n> -----------------------------------------------------------------------

@dataclass(frozen=True)
class Operator:
    code: str
    name: str

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "operator") -> Operator:
        code = _str(d, "code", path)
        return cls(code, _opt_str(d, "name", path) or code)


@dataclass(frozen=True)
class WindowTicket:
    number: str
    topic: str | None = None
    state: str | None = None           # called | serving | …
    called_at: str | None = None
    started_at: str | None = None
    recalls: int = 0

    @classmethod
    def from_payload(cls, d: Mapping[str, Any], path: str = "ticket") -> WindowTicket:
        return cls(_str(d, "number", path), _opt_str(d, "topic", path), _opt_str(d, "state", path),
                   _opt_str(d, "called_at", path), _opt_str(d, "started_at", path), _opt_int(d, "recalls", path) or 0)


WINDOW_STATES = ("open", "paused", "closed")


@dataclass(frozen=True)
class WindowState:
    """``state/window/<n>``: the window's state, operator and current ticket.

    ``actions`` are the counter ops the hub allows at this window now (empty when the
    hub does not say)."""

    window: int
    state: str = "closed"              # open | paused | closed
    seq: int | None = None
    break_kind: str | None = None      # technical | lunch | rest when paused
    operator: Operator | None = None
    ticket: WindowTicket | None = None
    topics: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()

    @classmethod
    def from_payload(cls, payload: Any) -> WindowState:
        d = _obj(payload, "window")
        state = _str(d, "state", "window")
        if state not in WINDOW_STATES:
            raise ViewError("window.state", f"expected one of {WINDOW_STATES}, got {state!r}")
        operator = d.get("operator")
        ticket = d.get("ticket")
        return cls(window=_int(d, "window", "window"), state=state, seq=_opt_int(d, "seq", "window"),
                   break_kind=_opt_str(d, "break_kind", "window"),
                   operator=None if operator is None else Operator.from_payload(_obj(operator, "window.operator"),
                                                                                "window.operator"),
                   ticket=None if ticket is None else WindowTicket.from_payload(_obj(ticket, "window.ticket"),
                                                                                "window.ticket"),
                   topics=_strs(d, "topics", "window"), actions=_strs(d, "actions", "window"))


# --- a command reply's Ticket -----------------------------------------------------------------

@dataclass(frozen=True)
class Ticket:
    """The ``Ticket`` of a command reply (``issue``, ``checkin``, ``call_next``…)."""

    number: str
    topic: str | None = None
    kind: str | None = None            # walk_in | booking | priority
    state: str | None = None
    issued_at: str | None = None
    people_ahead: int | None = None
    eta_min: float | None = None
    window: int | None = None
    recalls: int = 0
    priority_category: str | None = None
    slot_start: str | None = None      # a checked-in booking's slot (ISO with offset), printed on its ticket
    assisted: bool = False             # marked for assisted service (docs/contract.md)
    url: str | None = None             # the visitor's live page (its QR), in issue and checkin replies

    @classmethod
    def from_payload(cls, payload: Any) -> Ticket:
        d = _obj(payload, "ticket")
        number = _str(d, "number", "ticket")
        if not number:
            raise ViewError("ticket.number", "empty ticket number")
        return cls(number=number, topic=_opt_str(d, "topic", "ticket"), kind=_opt_str(d, "kind", "ticket"),
                   state=_opt_str(d, "state", "ticket"), issued_at=_opt_str(d, "issued_at", "ticket"),
                   people_ahead=_opt_int(d, "people_ahead", "ticket"), eta_min=_opt_float(d, "eta_min", "ticket"),
                   window=_opt_int(d, "window", "ticket"), recalls=_opt_int(d, "recalls", "ticket") or 0,
                   priority_category=_opt_str(d, "priority_category", "ticket"),
                   slot_start=_opt_str(d, "slot_start", "ticket"),
                   assisted=_bool(d, "assisted", "ticket", False), url=_opt_str(d, "url", "ticket"))


# --- event/ticket ---------------------------------------------------------------------------

CALL_KINDS = ("called", "recalled")
WINDOW_KINDS = {"window_opened": "open", "window_paused": "paused", "window_closed": "closed"}


@dataclass(frozen=True)
class TicketEvent:
    """One ``event/ticket``: a state change with the office's strictly increasing ``seq``."""

    seq: int
    kind: str
    at: str | None = None
    ticket: str | None = None
    topic: str | None = None
    window: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Any) -> TicketEvent:
        d = _obj(payload, "event")
        seq = _int(d, "seq", "event")
        if seq < 1:
            raise ViewError("event.seq", f"must be positive, got {seq}")
        kind = _str(d, "kind", "event")
        if not kind:
            raise ViewError("event.kind", "empty")
        return cls(seq=seq, kind=kind, at=_opt_str(d, "at", "event"), ticket=_opt_str(d, "ticket", "event"),
                   topic=_opt_str(d, "topic", "event"), window=_opt_int(d, "window", "event"),
                   data=dict(_obj(d.get("data") or {}, "event.data")))

    @property
    def is_call(self) -> bool:
        """A ``called``/``recalled`` event that names its ticket and window."""
        return self.kind in CALL_KINDS and bool(self.ticket) and self.window is not None

    @property
    def recalls(self) -> int | None:
        """``data.recalls`` as the hub sent it (None when absent or not an integer)."""
        value = self.data.get("recalls")
        return value if type(value) is int else None

    @property
    def break_kind(self) -> str | None:
        value = self.data.get("break_kind") or self.data.get("kind")
        return value if isinstance(value, str) else None

    def call(self) -> BoardCall | None:
        """The board call this event makes (None for other events)."""
        if not self.is_call or self.ticket is None or self.window is None:
            return None
        recalls = self.recalls
        if recalls is None:   # an older hub: a first call has none, a recall at least one
            recalls = 1 if self.kind == "recalled" else 0
        return BoardCall(self.ticket, self.window, self.topic, self.at, recalls)


_STATE_VIEWS: dict[str, Callable[[Any], Any]] = {
    "config": ConfigState.from_payload, "queue": QueueState.from_payload, "board": BoardState.from_payload,
}


def parse(name: str, payload: Any) -> ConfigState | QueueState | BoardState | WindowState:
    """The view of retained state ``name`` ("config", "queue", "board", "window/<n>")."""
    if name.startswith("window/"):
        return WindowState.from_payload(payload)
    try:
        make = _STATE_VIEWS[name]
    except KeyError:
        raise ViewError("state", f"unknown state name {name!r}") from None
    result: ConfigState | QueueState | BoardState = make(payload)
    return result
