"""Reading the hub's retained state for the kiosk: topic buttons, greeting, ticket layout.

Pure functions over the ``state/config`` and ``state/queue`` payloads (docs/contract.md);
no I/O, no Kivy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hardware.printer_ticket import TicketLayout, eta_minutes
from kiosk.strings import text

REASON_KEYS = {"closed": "reason_closed", "cutoff": "reason_cutoff", "no_window": "reason_no_window"}


@dataclass(frozen=True)
class Choice:
    """A button: a segment, a priority category or a topic."""

    code: str
    label: str
    detail: str = ""
    enabled: bool = True


def localized(names: dict | str | None, lang: str, fallback: str = "") -> str:
    if isinstance(names, str):
        return names
    names = names or {}
    return names.get(lang) or names.get("ru") or fallback


def office_now(config: dict, now: datetime) -> datetime:
    """``now`` in the office's time zone (the greeting follows the office clock)."""
    zone = (config.get("office") or {}).get("timezone")
    if zone:
        try:
            return now.astimezone(ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return now


def greeting_key(hour: int) -> str:
    if 5 <= hour < 12:
        return "greeting_morning"
    if 12 <= hour < 18:
        return "greeting_day"
    if 18 <= hour < 23:
        return "greeting_evening"
    return "greeting_night"


def segment_choices(config: dict, lang: str) -> list[Choice]:
    """Segments that have at least one topic; the segment screen is skipped when < 2."""
    used = {topic.get("segment") for topic in config.get("topics", [])}
    return [Choice(s["code"], localized(s.get("name"), lang, s["code"]))
            for s in config.get("segments", []) if s.get("code") in used]


def priority_choices(config: dict, lang: str) -> list[Choice]:
    categories = (config.get("priority") or {}).get("categories", [])
    return [Choice(c["code"], localized(c.get("name"), lang, c["code"])) for c in categories]


def _topic_detail(lang: str, queue: dict) -> str:
    waiting = queue.get("waiting")
    if waiting is None:
        return ""
    if waiting == 0:
        return text(lang, "no_waiting")
    parts = [text(lang, "waiting", n=waiting)]
    if queue.get("eta_min") is not None:
        parts.append(text(lang, "expected_wait", m=eta_minutes(queue["eta_min"])))
    return " · ".join(parts)


def topic_choices(config: dict, queue_state: dict, lang: str, segment: str | None) -> list[Choice]:
    """One button per topic (of the chosen segment), with its queue or why it is closed."""
    per_topic = (queue_state or {}).get("topics", {})
    choices = []
    for topic in config.get("topics", []):
        if segment and topic.get("segment") not in (segment, None):
            continue
        queue = per_topic.get(topic["code"], {})
        accepting = queue.get("accepting", True)
        if accepting:
            detail = _topic_detail(lang, queue)
        else:
            detail = text(lang, REASON_KEYS.get(queue.get("reason"), "reason_unknown"))
        choices.append(Choice(topic["code"], localized(topic.get("name"), lang, topic["code"]),
                              detail, accepting))
    return choices


def topic_label(config: dict, code: str, lang: str) -> str:
    for topic in config.get("topics", []):
        if topic["code"] == code:
            return localized(topic.get("name"), lang, code)
    return code


def office_name(config: dict, lang: str) -> str:
    return localized((config.get("office") or {}).get("name"), lang)


def ticket_layout(ticket: dict, config: dict, lang: str, now: datetime) -> TicketLayout:
    """What to print for a ticket the hub issued. No personal data is copied."""
    office = config.get("office") or {}
    try:
        issued_at = datetime.fromisoformat(ticket["issued_at"])
    except (KeyError, TypeError, ValueError):
        issued_at = now
    footer = []
    if office.get("phone"):
        footer.append(("Контактный центр: " if lang == "ru" else "Contact centre: ") + office["phone"])
    if office.get("site"):
        footer.append(("Сайт: " if lang == "ru" else "Website: ") + office["site"])
    return TicketLayout(
        office_name=office_name(config, lang),
        number=ticket["number"],
        topic_label=topic_label(config, ticket.get("topic", ""), lang),
        issued_at=issued_at,
        people_ahead=ticket.get("people_ahead"),
        eta_min=ticket.get("eta_min"),
        priority=ticket.get("kind") == "priority",
        booking_time=ticket.get("booking_time"),
        footer_lines=tuple(footer),
        qr_text=office.get("site") or None,
        lang=lang,
    )
