"""Reading the hub's retained state for the kiosk: topic buttons, greeting, ticket layout.

Pure functions over the typed ``state/config`` and ``state/queue`` views
(``broker.views``, docs/contract.md); no I/O, no Kivy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broker.views import ConfigState, QueueState, QueueTopic, Ticket
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


def office_now(config: ConfigState, now: datetime) -> datetime:
    """``now`` in the office's time zone (the greeting follows the office clock)."""
    zone = config.office.timezone
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


def segment_choices(config: ConfigState, lang: str) -> list[Choice]:
    """Segments that have at least one topic; the segment screen is skipped when < 2."""
    used = {topic.segment for topic in config.topics}
    return [Choice(s.code, s.label(lang)) for s in config.segments if s.code in used]


def priority_choices(config: ConfigState, lang: str) -> list[Choice]:
    return [Choice(c.code, c.label(lang)) for c in config.priority.categories]


def _topic_detail(lang: str, queue: QueueTopic) -> str:
    waiting = queue.waiting
    if waiting is None:
        return ""
    if waiting == 0:
        return text(lang, "no_waiting")
    parts = [text(lang, "waiting", n=waiting)]
    if queue.eta_min is not None:
        parts.append(text(lang, "expected_wait", m=eta_minutes(queue.eta_min)))
    return " · ".join(parts)


def topic_choices(config: ConfigState, queue_state: QueueState, lang: str, segment: str | None) -> list[Choice]:
    """One button per topic (of the chosen segment), with its queue or why it is closed."""
    choices = []
    for topic in config.topics:
        if segment and topic.segment not in (segment, None):
            continue
        queue = queue_state.topic(topic.code)
        if queue.accepting:
            detail = _topic_detail(lang, queue)
        else:
            detail = text(lang, REASON_KEYS.get(queue.reason or "", "reason_unknown"))
        choices.append(Choice(topic.code, topic.label(lang), detail, queue.accepting))
    return choices


def topic_label(config: ConfigState, code: str, lang: str) -> str:
    return config.topic_label(code, lang)


def office_name(config: ConfigState, lang: str) -> str:
    return config.office.name.get(lang)


def booking_time(ticket: Ticket, config: ConfigState) -> str | None:
    """«10:30»: a checked-in booking's slot start in office-local time (None for other tickets)."""
    if ticket.kind != "booking" or not ticket.slot_start:
        return None
    try:
        slot = datetime.fromisoformat(ticket.slot_start)
    except ValueError:
        return None
    return (office_now(config, slot) if slot.tzinfo else slot).strftime("%H:%M")


def ticket_layout(ticket: Ticket, config: ConfigState, lang: str, now: datetime) -> TicketLayout:
    """What to print for a ticket the hub issued. No personal data is copied."""
    office = config.office
    try:
        issued_at = datetime.fromisoformat(ticket.issued_at) if ticket.issued_at else now
    except ValueError:
        issued_at = now
    footer = []
    if office.phone:
        footer.append(("Контактный центр: " if lang == "ru" else "Contact centre: ")
                      + office.phone.replace(" ", "\u00a0"))  # never split across lines
    if office.site:
        footer.append(("Сайт: " if lang == "ru" else "Website: ") + office.site)
    return TicketLayout(
        office_name=office_name(config, lang),
        number=ticket.number,
        topic_label=topic_label(config, ticket.topic or "", lang),
        issued_at=issued_at,
        people_ahead=ticket.people_ahead,
        eta_min=ticket.eta_min,
        priority=ticket.kind == "priority",
        booking_time=booking_time(ticket, config),
        footer_lines=tuple(footer),
        qr_text=ticket.url or office.site or None,   # the ticket's live page; without the web, the site
        live_page=bool(ticket.url),
        lang=lang,
        assisted=ticket.assisted,
    )
