"""What a ticket says, independent of how it is printed.

``ticket_lines(layout)`` turns a :class:`TicketLayout` into styled lines that both the
text composer (ESC/POS code page) and the image composer (Pillow raster) print.
No personal data ever reaches a ticket: there is no field for it (REQ-PD-1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

# Line styles: how each composer should render a line.
TITLE, RULE, CAPTION, NUMBER, TOPIC, EMPHASIS, BODY, SMALL = (
    "title", "rule", "caption", "number", "topic", "emphasis", "body", "small")

LABELS = {
    "ru": {
        "caption": "ТАЛОН №",
        "priority": "Обслуживание вне очереди",
        "assisted": "Сопровождение: сотрудник подойдёт к Вам",
        "booking": "Запись на {time}",
        "issued": "Выдан: {time}",
        "ahead": "Перед Вами: {n} чел.",
        "eta": "Ожидаемое время: ~{m} мин",
        "wait": "Пожалуйста, ожидайте приглашения на табло.",
        "thanks": "Рады, что Вы к нам обратились!",
        "follow": "Следите за очередью на телефоне",
    },
    "en": {
        "caption": "TICKET No.",
        "priority": "Priority service",
        "assisted": "Assistance: a member of staff will come to you",
        "booking": "Appointment at {time}",
        "issued": "Issued: {time}",
        "ahead": "People ahead of you: {n}",
        "eta": "Expected wait: ~{m} min",
        "wait": "Please wait for your number on the board.",
        "thanks": "Thank you for visiting us!",
        "follow": "Follow the queue on your phone",
    },
}


@dataclass(frozen=True)
class TicketLayout:
    """Everything printed on one ticket. Texts arrive already in the wanted language."""

    office_name: str
    number: str
    topic_label: str
    issued_at: datetime
    people_ahead: int | None = None
    eta_min: float | None = None
    priority: bool = False
    booking_time: str | None = None
    footer_lines: tuple[str, ...] = field(default_factory=tuple)
    qr_text: str | None = None      # the ticket's live page (``live_page``), else the office site
    live_page: bool = False         # qr_text opens the ticket's page: «Следите за очередью…» under it
    lang: str = "ru"
    assisted: bool = False          # priority served with assistance: staff come to the visitor
    large_print: bool = False       # bigger type for people with limited sight


def eta_minutes(eta_min: float) -> int:
    """Whole minutes for people: rounded up, never «~0 мин»."""
    return max(1, math.ceil(eta_min))


def ticket_lines(layout: TicketLayout) -> list[tuple[str, str]]:
    label = LABELS.get(layout.lang, LABELS["ru"])
    lines = [(TITLE, layout.office_name), (RULE, ""), (CAPTION, label["caption"]),
             (NUMBER, layout.number), (TOPIC, layout.topic_label)]
    if layout.priority:
        lines.append((EMPHASIS, label["priority"]))
    if layout.assisted:
        lines.append((EMPHASIS, label["assisted"]))
    if layout.booking_time:
        lines.append((EMPHASIS, label["booking"].format(time=layout.booking_time)))
    lines.append((BODY, label["issued"].format(time=layout.issued_at.strftime("%d.%m.%Y %H:%M"))))
    if layout.people_ahead is not None:
        lines.append((BODY, label["ahead"].format(n=layout.people_ahead)))
    if layout.eta_min is not None:
        lines.append((BODY, label["eta"].format(m=eta_minutes(layout.eta_min))))
    lines += [(BODY, label["wait"]), (RULE, "")]
    lines += [(SMALL, text) for text in layout.footer_lines]
    lines.append((BODY, label["thanks"]))
    return lines


def qr_caption(layout: TicketLayout) -> str | None:
    """The short line printed under the QR code: only when the code opens the ticket's page."""
    if not (layout.qr_text and layout.live_page):
        return None
    return LABELS.get(layout.lang, LABELS["ru"])["follow"]


def word_pieces(text: str) -> list[tuple[str, bool]]:
    """Words split after their hyphens: (piece, joined to the previous one without a space).
    Only ordinary spaces separate words: a phone number written with no-break spaces
    stays whole."""
    pieces: list[tuple[str, bool]] = []
    for word in (w for w in text.split(" ") if w):
        parts = [""]
        for i, ch in enumerate(word):
            parts[-1] += ch
            # a break after a hyphen between letters («контрольно-|инспекционное»), never in numbers
            if ch == "-" and 0 < i < len(word) - 1 and word[i - 1].isalpha() and word[i + 1].isalpha():
                parts.append("")
        pieces += [(part, i > 0) for i, part in enumerate(parts)]
    return pieces


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap for a fixed-width printer font, at spaces and after hyphens between
    letters (as the picture ticket wraps); a piece longer than the line is split."""
    lines: list[str] = []
    current = ""
    for piece, glued in word_pieces(text):   # a no-break space (phone numbers) holds
        while len(piece) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(piece[:width])
            piece, glued = piece[width:], False
        candidate = current + piece if glued or not current else f"{current} {piece}"
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = piece
    if current or not lines:
        lines.append(current)
    return lines
