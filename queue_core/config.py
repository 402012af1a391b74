"""One office's configuration, validated as a whole.

``parse_office_config(mapping)`` takes what ``tomllib`` read from the office's TOML
file and either returns a complete ``OfficeConfig`` or raises ``ConfigError`` naming
the exact key, so a broken file never starts a half-configured office.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from urllib.parse import urlsplit

from queue_core.errors import ConfigError
from queue_core.norms import PROFILES, NormProfile

POLICIES = ("fifo", "norm_aware")
PRIORITY_MODES = ("out_of_turn", "individual", "call_staff")
# modes in which a priority ticket is served in its turn, marked for assisted service, and
# staff are alerted (``call_staff`` is the older name of ``individual``)
ASSISTED_MODES = ("individual", "call_staff")
AGGREGATIONS = ("mean", "max")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")


@dataclass(frozen=True, slots=True)
class Topic:
    code: str
    prefix: str
    name_ru: str
    name_en: str
    segment: str = "b2c"
    wait_norm_min: float | None = None
    service_norm_min: float | None = None
    aggregation: str = "mean"
    cutoff: time | None = None          # no new tickets after this office-local time
    slot_min: int = 15                  # booking slot length
    form: str | None = None             # the norm profile's service form it maps to
    per_account: bool = False           # service norm per personal account (``finish`` accounts)


@dataclass(frozen=True, slots=True)
class Window:
    number: int
    topics: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict)   # topic -> weight (norm_aware)
    zone: str = ""

    def weight(self, topic: str) -> float:
        return self.weights.get(topic, 1.0)


@dataclass(frozen=True, slots=True)
class Calendar:
    hours: dict[int, tuple[time, time]]          # weekday (0=Mon) -> open, close
    breaks: tuple[tuple[time, time], ...] = ()   # office-wide breaks (lunch 12-13)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()      # working Saturdays etc. use hours of `workday_hours`
    workday_hours: tuple[time, time] | None = None


@dataclass(frozen=True, slots=True)
class PriorityCategory:
    code: str
    name_ru: str
    name_en: str


@dataclass(frozen=True, slots=True)
class HqLink:
    """``[hq]``: this office's link to head office (docs/deploy.md, "Linking an office to head
    office"). The password is no setting: it lives in ``hq.password`` in the data directory."""
    url: str                # mqtts://host:8883 (mqtt:// for a lab)
    user: str               # the office's user on the head-office broker (default: the office id)
    cafile: str = ""        # CA of the head-office broker's certificate ("": the system's CAs)

    @property
    def tls(self) -> bool:
        return self.url.startswith("mqtts://")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (8883 if self.tls else 1883)


@dataclass(frozen=True, slots=True)
class OfficeConfig:
    office_id: str
    name_ru: str
    name_en: str
    timezone: str
    topics: tuple[Topic, ...]
    windows: tuple[Window, ...]
    calendar: Calendar
    profile: NormProfile
    policy: str = "norm_aware"
    priority_mode: str = "out_of_turn"
    priority_max_in_row: int = 3        # at most K priority calls in a row per window; 0 = no limit
    priority_categories: tuple[PriorityCategory, ...] = ()
    number_width: int = 3
    number_start: int = 1
    start_step: bool = True             # windows press Start and Done needs it; if False there is no
                                        # Start (refused) and Done from called has started_at = called_at
    aging_factor: float = 1.5           # norm_aware: a wait past factor x norm goes first (measured: docs)
    default_wait_norm_min: float = 15.0  # reference for topics with no wait norm (norm_aware)
    booking_early_min: int = 30
    booking_late_min: int = 10
    languages: tuple[str, ...] = ("ru", "en")
    phone: str = ""
    site: str = ""
    board_history: int = 8
    board_min_display_s: int = 10
    notice_ru: str = ""
    notice_en: str = ""
    public_url: str = ""                # [web] the base of the visitors' ticket pages; "" = this host's
    region: str = ""                    # head office groups offices by region and branch
    branch: str = ""
    hq: HqLink | None = None            # ``[hq]``: the link to head office, if any

    def topic(self, code: str) -> Topic:
        from queue_core.errors import UnknownTopic
        for t in self.topics:
            if t.code == code:
                return t
        raise UnknownTopic(f"unknown topic {code!r}", f"Неизвестная тема обращения {code!r}")

    def window(self, number: int) -> Window:
        from queue_core.errors import UnknownWindow
        for w in self.windows:
            if w.number == number:
                return w
        raise UnknownWindow(f"unknown window {number!r}", f"Неизвестное окно {number!r}")


# ---------------------------------------------------------------------------------
def _get(m: dict, key: str, path: str, kind: type | tuple, default: Any = ..., ) -> Any:
    if key not in m:
        if default is ...:
            raise ConfigError(f"{path}.{key}".lstrip("."), "is required")
        return default
    value = m[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ConfigError(f"{path}.{key}".lstrip("."), f"must be {names}, got {type(value).__name__}")
    return value


def _time(value: Any, key: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value):
        h, m = map(int, value.split(":"))
        if h < 24 and m < 60:
            return time(h, m)
    raise ConfigError(key, f"must be a time HH:MM, got {value!r}")


def _span(value: Any, key: str) -> tuple[time, time]:
    if not isinstance(value, str) or "-" not in value:
        raise ConfigError(key, f"must be 'HH:MM-HH:MM', got {value!r}")
    a, b = value.split("-", 1)
    start, end = _time(a.strip(), key), _time(b.strip(), key)
    if end <= start:
        raise ConfigError(key, f"ends before it starts: {value!r}")
    return start, end


def _norm(value: Any, key: str) -> float | None:
    """An absent norm or "" is *no norm*; a present one must be a positive number of minutes."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or value > 24 * 60:
        raise ConfigError(key, f"must be a positive number of minutes or empty (no norm), got {value!r}")
    return float(value)


def _unknown_keys(m: dict, allowed: set[str], path: str) -> None:
    extra = sorted(set(m) - allowed)
    if extra:
        raise ConfigError(f"{path}.{extra[0]}".lstrip("."), "is not a known setting")


def _parse_calendar(c: dict) -> Calendar:
    _unknown_keys(c, {"hours", "breaks", "holidays", "workdays", "workday_hours"}, "calendar")
    hours_m = _get(c, "hours", "calendar", dict, {d: "08:00-17:00" for d in WEEKDAYS[:5]})
    hours: dict[int, tuple[time, time]] = {}
    for day, span in hours_m.items():
        if day not in WEEKDAYS:
            raise ConfigError(f"calendar.hours.{day}", f"must be one of {', '.join(WEEKDAYS)}")
        hours[WEEKDAYS.index(day)] = _span(span, f"calendar.hours.{day}")
    breaks = tuple(_span(b, f"calendar.breaks[{i}]") for i, b in enumerate(_get(c, "breaks", "calendar", list, [])))
    holidays = []
    for i, d in enumerate(_get(c, "holidays", "calendar", list, [])):
        if not isinstance(d, date):
            try:
                d = date.fromisoformat(str(d))
            except ValueError:
                raise ConfigError(f"calendar.holidays[{i}]", f"must be a date YYYY-MM-DD, got {d!r}") from None
        holidays.append(d)
    workdays = []
    for i, d in enumerate(_get(c, "workdays", "calendar", list, [])):
        try:
            workdays.append(d if isinstance(d, date) else date.fromisoformat(str(d)))
        except ValueError:
            raise ConfigError(f"calendar.workdays[{i}]", f"must be a date YYYY-MM-DD, got {d!r}") from None
    wh = c.get("workday_hours")
    return Calendar(hours=hours, breaks=breaks, holidays=frozenset(holidays), workdays=frozenset(workdays),
                    workday_hours=_span(wh, "calendar.workday_hours") if wh else None)


def _parse_topic(i: int, t: dict, profile: NormProfile) -> Topic:
    path = f"topics[{i}]"
    if not isinstance(t, dict):
        raise ConfigError(path, "must be a table")
    _unknown_keys(t, {"code", "prefix", "name", "name_en", "segment", "form", "wait_norm_min",
                      "service_norm_min", "aggregation", "cutoff", "slot_min"}, path)
    code = _get(t, "code", path, str)
    if not _CODE.match(code):
        raise ConfigError(f"{path}.code", f"must be a short latin code like 'A' or 'cash', got {code!r}")
    form = None
    if "form" in t:
        try:
            form = profile.form(_get(t, "form", path, str))
        except KeyError:
            raise ConfigError(f"{path}.form", f"profile {profile.code!r} has no service form {t['form']!r}") from None
    name = _get(t, "name", path, str, form.name_ru if form else ...)
    wait = _norm(t["wait_norm_min"], f"{path}.wait_norm_min") if "wait_norm_min" in t else (form.wait_min if form else None)
    service = _norm(t["service_norm_min"], f"{path}.service_norm_min") if "service_norm_min" in t else (form.service_min if form else None)
    aggregation = _get(t, "aggregation", path, str, profile.aggregation)
    if aggregation not in AGGREGATIONS:
        raise ConfigError(f"{path}.aggregation", f"must be one of {AGGREGATIONS}, got {aggregation!r}")
    prefix = _get(t, "prefix", path, str, form.prefix if form and form.prefix else code)
    if not 1 <= len(prefix) <= 3 or not prefix.isalpha():
        raise ConfigError(f"{path}.prefix", f"must be 1-3 letters, got {prefix!r}")
    slot = _get(t, "slot_min", path, int, 15)
    if not 5 <= slot <= 240:
        raise ConfigError(f"{path}.slot_min", f"must be 5..240 minutes, got {slot}")
    return Topic(
        code=code, prefix=prefix, name_ru=name, name_en=_get(t, "name_en", path, str, form.name_en if form else name),
        segment=_get(t, "segment", path, str, form.segment if form else "b2c"),
        wait_norm_min=wait, service_norm_min=service, aggregation=aggregation,
        cutoff=_time(t["cutoff"], f"{path}.cutoff") if "cutoff" in t else None,
        slot_min=slot, form=form.code if form else None, per_account=profile.per_account(form),
    )


def _parse_window(i: int, w: dict, topic_codes: set[str]) -> Window:
    path = f"windows[{i}]"
    if not isinstance(w, dict):
        raise ConfigError(path, "must be a table")
    _unknown_keys(w, {"number", "topics", "weights", "zone"}, path)
    number = _get(w, "number", path, int)
    if not 1 <= number <= 999:
        raise ConfigError(f"{path}.number", f"must be 1..999, got {number}")
    topics = _get(w, "topics", path, list)
    if not topics:
        raise ConfigError(f"{path}.topics", "must list at least one topic")
    for j, code in enumerate(topics):
        if code not in topic_codes:
            raise ConfigError(f"{path}.topics[{j}]", f"unknown topic {code!r}")
    weights = _get(w, "weights", path, dict, {})
    for code, weight in weights.items():
        if code not in topics:
            raise ConfigError(f"{path}.weights.{code}", "weights a topic this window does not serve")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 100:
            raise ConfigError(f"{path}.weights.{code}", f"must be a number in (0, 100], got {weight!r}")
    return Window(number=number, topics=tuple(topics), weights={k: float(v) for k, v in weights.items()},
                  zone=_get(w, "zone", path, str, ""))


def parse_office_config(m: dict) -> OfficeConfig:
    """Validate a whole office; raise ConfigError naming the first bad key."""
    _unknown_keys(m, {"office", "topics", "windows", "calendar", "queue", "priority", "board", "web", "hq"}, "")
    office = _get(m, "office", "", dict)
    office_id, profile, tz, languages = _parse_office(office)
    topics = _parse_topics(_get(m, "topics", "", list), profile)
    windows = _parse_windows(_get(m, "windows", "", list), topics)
    q = _get(m, "queue", "", dict, {})
    queue = _parse_queue(q, profile)
    mode, categories = _parse_priority(_get(m, "priority", "", dict, {}), profile)
    b = _get(m, "board", "", dict, {})
    _unknown_keys(b, {"history", "min_display_s", "notice", "notice_en"}, "board")
    history = _get(b, "history", "board", int, 8)
    if not 1 <= history <= 30:
        raise ConfigError("board.history", f"must be 1..30, got {history}")
    return OfficeConfig(
        office_id=office_id, name_ru=_get(office, "name", "office", str),
        name_en=_get(office, "name_en", "office", str, office.get("name", "")),
        timezone=tz, topics=topics, windows=windows,
        calendar=_parse_calendar(_get(m, "calendar", "", dict, {})), profile=profile,
        priority_mode=mode, priority_categories=categories, **queue,
        start_step=_get(q, "start_step", "queue", bool, True), languages=languages,
        phone=_get(office, "phone", "office", str, ""), site=_get(office, "site", "office", str, ""),
        board_history=history, board_min_display_s=_get(b, "min_display_s", "board", int, 10),
        notice_ru=_get(b, "notice", "board", str, ""), notice_en=_get(b, "notice_en", "board", str, ""),
        public_url=_parse_web(_get(m, "web", "", dict, {})),
        region=_get(office, "region", "office", str, ""), branch=_get(office, "branch", "office", str, ""),
        hq=parse_hq_section(m["hq"], office_id) if "hq" in m else None,
    )


def _parse_web(web: dict) -> str:
    """``[web] public_url``: where visitors' phones reach this office's web server (the
    tickets' QR codes), e.g. a reverse proxy's address; "" = this host's name and web port."""
    _unknown_keys(web, {"public_url"}, "web")
    url = _get(web, "public_url", "web", str, "").strip()
    if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ConfigError("web.public_url", f"must be an http:// or https:// address, got {url!r}")
    return url.rstrip("/")


def _parse_office(office: dict) -> tuple[str, NormProfile, str, tuple[str, ...]]:
    """``[office]``: (id, norm profile, time zone, languages)."""
    _unknown_keys(office, {"id", "name", "name_en", "timezone", "profile", "languages", "phone", "site",
                           "region", "branch"}, "office")
    office_id = _get(office, "id", "office", str)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", office_id):
        raise ConfigError("office.id", f"must be 1-32 latin letters, digits, '-' or '_', got {office_id!r}")
    profile_code = _get(office, "profile", "office", str, "mek")
    if profile_code not in PROFILES:
        raise ConfigError("office.profile", f"must be one of {sorted(PROFILES)}, got {profile_code!r}")
    tz = _get(office, "timezone", "office", str, "Europe/Moscow")
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(tz)
    except Exception:
        raise ConfigError("office.timezone", f"unknown time zone {tz!r}") from None
    languages = tuple(_get(office, "languages", "office", list, ["ru", "en"]))
    for i, lang in enumerate(languages):
        if lang not in ("ru", "en"):
            raise ConfigError(f"office.languages[{i}]", f"must be 'ru' or 'en', got {lang!r}")
    return office_id, PROFILES[profile_code], tz, languages


def _parse_topics(raw: list, profile: NormProfile) -> tuple[Topic, ...]:
    """``[[topics]]``: at least one; codes and prefixes unique."""
    if not raw:
        raise ConfigError("topics", "must list at least one topic")
    topics = tuple(_parse_topic(i, t, profile) for i, t in enumerate(raw))
    for kind in ("code", "prefix"):
        seen: dict[str, int] = {}
        for i, t in enumerate(topics):
            v = getattr(t, kind)
            if v in seen:
                raise ConfigError(f"topics[{i}].{kind}", f"{v!r} is already used by topics[{seen[v]}]")
            seen[v] = i
    return topics


def _parse_windows(raw: list, topics: tuple[Topic, ...]) -> tuple[Window, ...]:
    """``[[windows]]``: at least one, numbers unique, every topic served by some window."""
    if not raw:
        raise ConfigError("windows", "must list at least one window")
    windows = tuple(_parse_window(i, w, {t.code for t in topics}) for i, w in enumerate(raw))
    numbers = [w.number for w in windows]
    if len(set(numbers)) != len(numbers):
        dup = next(n for n in numbers if numbers.count(n) > 1)
        raise ConfigError(f"windows[{numbers.index(dup, numbers.index(dup) + 1)}].number", f"window {dup} is defined twice")
    served = {c for w in windows for c in w.topics}
    for i, t in enumerate(topics):
        if t.code not in served:
            raise ConfigError(f"topics[{i}]", f"topic {t.code!r} is served by no window")
    return windows


_QUEUE_INTS = {"priority_max_in_row": (3, 0, 100), "number_width": (3, 1, 6), "number_start": (1, 0, 9999),
               "booking_early_min": (30, 0, 240), "booking_late_min": (10, 0, 240)}
"""``[queue]`` integers: key -> (default, least, most); ``priority_max_in_row`` defaults
to the profile's (0: no interleave, a priority ticket is always the next call)."""


def _parse_queue(q: dict, profile: NormProfile) -> dict:
    """``[queue]`` as keyword arguments of ``OfficeConfig`` (``start_step`` is read by the caller)."""
    _unknown_keys(q, {"policy", "priority_max_in_row", "number_width", "number_start", "start_step",
                      "aging_factor", "default_wait_norm_min", "booking_early_min", "booking_late_min"}, "queue")
    policy = _get(q, "policy", "queue", str, "norm_aware")
    if policy not in POLICIES:
        raise ConfigError("queue.policy", f"must be one of {POLICIES}, got {policy!r}")
    values: dict = {"policy": policy}
    for key, (default, lo, hi) in _QUEUE_INTS.items():
        if key == "priority_max_in_row":
            default = profile.priority_max_in_row
        values[key] = _get(q, key, "queue", int, default)
        if not lo <= values[key] <= hi:
            raise ConfigError(f"queue.{key}", f"must be {lo}..{hi}, got {values[key]}")
    values["aging_factor"] = _get(q, "aging_factor", "queue", float, 1.5)
    if not 1.0 <= values["aging_factor"] <= 10.0:
        raise ConfigError("queue.aging_factor", f"must be 1..10, got {values['aging_factor']}")
    values["default_wait_norm_min"] = _norm(q.get("default_wait_norm_min", 15), "queue.default_wait_norm_min") or 15.0
    return values


def _parse_priority(pr: dict, profile: NormProfile) -> tuple[str, tuple[PriorityCategory, ...]]:
    """``[priority]``: (mode, categories); the mode defaults to the profile's."""
    _unknown_keys(pr, {"mode", "categories"}, "priority")
    mode = _get(pr, "mode", "priority", str, profile.priority_mode)
    if mode not in PRIORITY_MODES:
        raise ConfigError("priority.mode", f"must be one of {PRIORITY_MODES}, got {mode!r}")
    cats = []
    for i, c in enumerate(_get(pr, "categories", "priority", list, DEFAULT_PRIORITY_CATEGORIES)):
        p = f"priority.categories[{i}]"
        if not isinstance(c, dict):
            raise ConfigError(p, "must be a table")
        cats.append(PriorityCategory(_get(c, "code", p, str), _get(c, "name", p, str), _get(c, "name_en", p, str, c.get("name", ""))))
    return mode, tuple(cats)


_HQ_URL = re.compile(r"^mqtts?://[A-Za-z0-9.-]+(:\d{1,5})?/?$")
_HQ_USER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_hq_section(hq: Any, office_id: str) -> HqLink:
    """``[hq]`` (``url``, ``user``, ``cafile``) of the office file, or of the file ``talon setup
    hub --hq`` writes."""
    if not isinstance(hq, dict):
        raise ConfigError("hq", "must be a table")
    _unknown_keys(hq, {"url", "user", "cafile"}, "hq")
    url = _get(hq, "url", "hq", str)
    match = _HQ_URL.match(url)
    if not match or not 0 < int((match.group(1) or ":1883")[1:]) < 65536:
        raise ConfigError("hq.url", f"must look like mqtts://host:8883 (or mqtt://host:1883), got {url!r}")
    user = _get(hq, "user", "hq", str, office_id)
    if not _HQ_USER.match(user):
        raise ConfigError("hq.user", f"must be 1-64 latin letters, digits, '.', '-' or '_', got {user!r}")
    cafile = _get(hq, "cafile", "hq", str, "")
    if any(c in cafile for c in "\n\r"):
        raise ConfigError("hq.cafile", "must be one line")
    return HqLink(url.rstrip("/"), user, cafile)


def parse_office_toml(text: str) -> OfficeConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", f"is not valid TOML: {exc}") from None
    return parse_office_config(data)


DEFAULT_PRIORITY_CATEGORIES = [
    {"code": "disabled", "name": "Люди с инвалидностью", "name_en": "People with disabilities"},
    {"code": "veteran", "name": "Ветераны Великой Отечественной войны", "name_en": "WWII veterans"},
    {"code": "limited_mobility", "name": "Люди с ограниченными возможностями передвижения",
     "name_en": "People with limited mobility"},
    {"code": "visually_impaired", "name": "Незрячие и слабовидящие", "name_en": "Blind and visually impaired people"},
]


def office_from_profile(profile_code: str = "mek", windows: int = 4, office_id: str = "office",
                        policy: str = "norm_aware", name: str | None = None) -> OfficeConfig:
    """A ready office built from a norm profile: one topic per service form, every
    window serving every topic. Used by the simulator and the demo's defaults."""
    profile = PROFILES[profile_code]
    data = {
        "office": {"id": office_id, "name": name or f"Офис обслуживания ({profile.code.upper()})",
                   "name_en": f"Customer office ({profile.code.upper()})", "profile": profile_code},
        "topics": [{"code": chr(ord("A") + i), "form": f.code} for i, f in enumerate(profile.forms)],
        "windows": [{"number": n, "topics": [chr(ord("A") + i) for i in range(len(profile.forms))]}
                    for n in range(1, windows + 1)],
        "calendar": {"hours": {d: "08:00-20:00" for d in WEEKDAYS}},
        "queue": {"policy": policy},
    }
    return parse_office_config(data)
