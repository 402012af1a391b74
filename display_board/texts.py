"""Board wording, Russian first (docs/requirements.md, digest §4.5), English available."""
from __future__ import annotations

from broker.texts import Texts

TABLES: dict[str, dict[str, str]] = {
    "ru": {
        "ticket": "Талон",
        "window": "Окно",
        "now_calling": "Приглашается",
        "call_line": "Приглашается талон {ticket} в окно {window}",
        "recall_line": "Повторно приглашается талон {ticket} в окно {window}",
        "no_calls": "Ожидайте вызова",
        "offline": "Нет связи",
        "offline_since": "Нет связи с {time}",
        "window_title": "Окно {window}",
        "closed": "Окно закрыто",
        "technical": "Технический перерыв",
        "lunch": "Обеденный перерыв",
        "rest": "Перерыв",
        "paused": "Перерыв",
        "serving": "Вас обслуживает: {name}",
        "idle": "Окно свободно",
        "free": "—",
    },
    "en": {
        "ticket": "Ticket",
        "window": "Window",
        "now_calling": "Now calling",
        "call_line": "Ticket {ticket}, please go to window {window}",
        "recall_line": "Ticket {ticket}, please go to window {window} (repeat)",
        "no_calls": "Please wait to be called",
        "offline": "No connection",
        "offline_since": "No connection since {time}",
        "window_title": "Window {window}",
        "closed": "Window closed",
        "technical": "Technical break",
        "lunch": "Lunch break",
        "rest": "Break",
        "paused": "Break",
        "serving": "You are served by: {name}",
        "idle": "Window free",
        "free": "—",
    },
}


TEXTS = Texts(TABLES)
text = TEXTS.text          # text(lang, key, **fmt)
