"""Every word the Telegram notifier sends, Russian first, English for a page switched to EN.

The language is the ticket page's (``storage.ticket_links.Link.lang``); anything else
falls back to Russian.
"""
from __future__ import annotations

TEXTS = {
    "ru": {
        "subscribed": "Вы подписаны на уведомления о талоне {number}. Мы напишем, когда перед Вами "
                      "останется {threshold} {people}, и когда Вас пригласят к окну. Отписаться: /stop",
        "unknown": "К сожалению, этот талон не найден или его обслуживание уже завершено. Пожалуйста, "
                   "откройте страницу талона по QR-коду и нажмите «Уведомить в Telegram» ещё раз.",
        "hello": "Здравствуйте! Чтобы получать уведомления о своей очереди, пожалуйста, откройте страницу "
                 "талона по QR-коду и нажмите «Уведомить в Telegram».",
        "stopped": "Уведомления отключены. Спасибо, что воспользовались электронной очередью.",
        "ahead": "Перед Вами {ahead} {people}. Пожалуйста, подойдите ближе к залу ожидания. Талон {number}.",
        "next": "Вы следующий. Пожалуйста, подойдите ближе к залу ожидания. Талон {number}.",
        "called": "Вас приглашают в окно {window}. Талон {number}.",
        "recalled": "Повторное приглашение: Вас ждут в окне {window}. Талон {number}.",
        "announcement": "Объявление: {text}",
    },
    "en": {
        "subscribed": "You are subscribed to notifications about ticket {number}. We will write when "
                      "{threshold} {people} ahead of you and when you are called to a window. "
                      "To unsubscribe: /stop",
        "unknown": "Sorry, this ticket was not found or its service has ended. Please open the ticket "
                   "page from its QR code and press «Notify me in Telegram» again.",
        "hello": "Hello! To be notified of your turn, please open your ticket page from its QR code and "
                 "press «Notify me in Telegram».",
        "stopped": "Notifications are off. Thank you for using the electronic queue.",
        "ahead": "{ahead} {people} ahead of you. Please come closer to the waiting area. Ticket {number}.",
        "next": "You are next. Please come closer to the waiting area. Ticket {number}.",
        "called": "Please proceed to window {window}. Ticket {number}.",
        "recalled": "Second call: window {window} is waiting for you. Ticket {number}.",
        "announcement": "Announcement: {text}",
    },
}


def people(n: int, lang: str) -> str:
    """«человек» / «человека» agreeing with ``n`` (1 человек, 3 человека, 5 человек)."""
    if lang == "en":
        return "person is" if n == 1 else "people are"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "человека"
    return "человек"


def text(key: str, lang: str | None = "ru", **values) -> str:
    lang = lang if lang in TEXTS else "ru"
    for count in ("threshold", "ahead"):
        if count in values:
            values.setdefault("people", people(values[count], lang))
    return TEXTS[lang][key].format(**values)
