"""What «Озвучить» says: the screen's title and choices, or the printed ticket.

Pure functions over the view (no Kivy, no sound); the app hands the sentence to the
board's voice (``hardware.speech.Speaker``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from hardware.printer_ticket import TicketLayout
from hardware.ru_numerals import ticket_words
from kiosk.strings import text

if TYPE_CHECKING:
    from kiosk.office import Choice
    from kiosk.presenter import KioskView

TITLE_KEYS = {"attract": "instruction", "segment": "choose_segment", "checkin": "checkin_title",
              "priority": "priority_title", "printing": "printing", "phone": "phone_title"}
ATTRACT_CHOICES = ("start", "booking", "priority", "help")


def spoken_number(number: str, lang: str) -> str:
    """«А015» as a voice says it: «а пятнадцать» (Russian), as printed otherwise."""
    if lang != "ru":
        return number
    try:
        return ticket_words(number)
    except ValueError:
        return number


def _choices(view: KioskView, choices: tuple[Choice, ...]) -> str:
    said = []
    for choice in choices:
        item = choice.label
        if not choice.enabled:
            item += f" — {text(view.lang, 'say_unavailable')}"
        said.append(item)
    return text(view.lang, "say_choices", choices="; ".join(said)) if said else ""


def ticket_text(layout: TicketLayout) -> str:
    return text(layout.lang, "say_ticket", number=spoken_number(layout.number, layout.lang),
                topic=layout.topic_label)


def screen_text(view: KioskView) -> str:
    """The sentence for the screen ``view`` shows."""
    screen, lang = view.screen.value, view.lang
    if screen in ("ticket", "print_failed") and view.ticket_number:
        said = text(lang, "say_ticket", number=spoken_number(view.ticket_number, lang),
                    topic=view.ticket_topic)
        return said if screen == "ticket" else f"{text(lang, 'print_failed_title')}. {said}"
    if screen == "phone" and view.ticket_number:
        said = text(lang, "say_phone", number=spoken_number(view.ticket_number, lang), topic=view.ticket_topic)
        return " ".join(p for p in (view.phone_note, f"{text(lang, 'phone_title')}.", said) if p)
    if screen in ("message", "unreachable", "out_of_service"):
        return f"{view.message_title}. {view.message_body}"
    parts = [view.topics_title if screen == "topics" else text(lang, TITLE_KEYS.get(screen, "instruction"))]
    if screen == "attract":
        parts.insert(0, view.greeting)
        parts.append(text(lang, "say_choices", choices="; ".join(text(lang, k) for k in ATTRACT_CHOICES)))
    elif screen == "priority":
        parts.append(text(lang, "priority_body"))
    choices = {"segment": view.segments, "topics": view.topics, "priority": view.priority_categories}
    if screen in choices:
        parts.append(_choices(view, choices[screen]))
    return " ".join(p.rstrip(".") + "." for p in parts if p)
