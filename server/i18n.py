"""Russian first, English on request: ``?lang=en`` (kept in the session) switches.

Strings are written in Russian in the code and templates; ``_()`` looks up the
English text when the session's language is English, and falls back to Russian.
"""
from __future__ import annotations

from flask import Flask, g, request, session

LANGUAGES = ("ru", "en")

EN = {
    # navigation and common
    "Электронная очередь": "Electronic queue", "Очередь сейчас": "Live queue", "Отчёты": "Reports",
    "Настройки": "Settings", "Запись": "Booking", "Выйти": "Log out", "Войти": "Log in", "Вход": "Log in",
    "Имя пользователя": "Username", "Пароль": "Password", "Показать": "Show",
    "Неверное имя пользователя или пароль.": "Wrong username or password.",
    "Слишком много неудачных попыток входа. Пожалуйста, повторите через {s} с.":
        "Too many failed login attempts. Please try again in {s} s.",
    "Пожалуйста, войдите в систему.": "Please log in.",
    "Недостаточно прав для этой страницы.": "You do not have access to this page.",
    "Форма устарела или отправлена не с этой страницы. Пожалуйста, обновите страницу и повторите.":
        "The form has expired or was not sent from this page. Please reload the page and try again.",
    "Запрос слишком большой (не более {limit} КБ). Ничего не сохранено.":
        "The request is too large (at most {limit} KB). Nothing was saved.",
    "Ошибка": "Error", "На главную": "Home",
    # dashboard
    "Тема обращения": "Topic", "Ожидают": "Waiting", "Дольше всех ждёт": "Longest wait",
    "Норматив ожидания": "Wait norm", "Ожидаемое время": "Expected wait", "Окно": "Window",
    "Окна": "Windows", "Состояние": "State", "Сотрудник": "Operator", "Талон": "Ticket",
    "Время приёма": "Service time", "Норматив приёма": "Service norm", "Предупреждения": "Alerts",
    "Предупреждений нет.": "No alerts.", "открыто": "open", "перерыв": "break", "закрыто": "closed",
    "Обновлено": "Updated", "нет связи с сервером, переподключение…": "connection lost, reconnecting…",
    "мин": "min", "Устройства": "Devices",
    "Устройства ещё не сообщали о себе.": "No device has reported yet.", "в сети": "online", "не в сети": "offline",
    "Очередь по теме «{topic}»: {n} чел. (порог {limit})": "Queue for «{topic}»: {n} people (threshold {limit})",
    "Талон {ticket} ждёт {m} мин при нормативе {norm} мин": "Ticket {ticket} has waited {m} min (norm {norm} min)",
    "Устройство {device} не в сети {m} мин (предел 60 мин)": "Device {device} offline for {m} min (limit 60 min)",
    "Принтер {device}: {state}": "Printer {device}: {state}",
    "Посетителю нужна помощь у {device} ({m} мин назад)": "A visitor asked for help at {device} ({m} min ago)",
    "Приём талона {ticket} в окне {window} идёт {m} мин при нормативе {norm} мин":
        "Ticket {ticket} at window {window} in service for {m} min (norm {norm} min)",
    # reports
    "Период": "Period", "день": "day", "неделя": "week", "месяц": "month", "полугодие": "half-year",
    "год": "year", "произвольный": "custom", "с": "from", "по": "to", "Дата": "Date", "Все": "All",
    "Группировка": "Group by", "по теме обращения": "by topic", "по окну": "by window",
    "по сотруднику": "by operator", "по группе потребителей": "by customer group", "по часам": "by hour",
    "по дням": "by day", "итого": "total", "Сформировать": "Build", "Скачать CSV": "Download CSV",
    "Скачать XLSX": "Download XLSX", "Версия для печати": "Printable version", "Печать": "Print",
    "Талонов": "Tickets", "Обслужено": "Served", "Не явились": "No-shows", "Переведены": "Transfers",
    "Отменены": "Cancelled", "Среднее время ожидания в очереди": "Mean wait",
    "Ожидание, p90": "Wait p90", "Среднее время приёма": "Mean service", "Приём, p90": "Service p90",
    "Норматив": "Norm", "Доля в нормативе (ожидание)": "Within wait norm",
    "Доля в нормативе (приём)": "Within service norm", "Ожидание": "Wait", "Приём": "Service",
    "Соответствует нормативу": "Meets the norm", "Не соответствует нормативу": "Does not meet the norm",
    "Норматив не установлен": "No norm set", "Нагрузка по часам": "Load by hour",
    "Среднее ожидание и норматив": "Mean wait vs norm", "Нет данных за период.": "No data for the period.",
    "Сводный отчёт": "Summary report", "Раскрытие информации за год": "Yearly disclosure",
    "Рейтинг удовлетворенности клиентов CSAT": "Customer satisfaction (CSAT)",
    "Производительность сотрудников": "Operator productivity", "Неявки и переводы": "No-shows and transfers",
    "Простои устройств": "Device downtime", "Отчёт за месяц (накопительным итогом)": "Monthly report (cumulative)",
    "Месяц": "Month", "Год": "Year", "Посетителей": "Visitors", "Оценок": "Ratings",
    "Средняя оценка": "Mean rating", "Устройство": "Device", "Не в сети, мин": "Offline, min",
    "Самый долгий простой, мин": "Longest outage, min", "Больше 60 мин": "Over 60 min", "да": "yes", "нет": "no",
    "Период задан неверно: {problem}": "The period is wrong: {problem}",
    "дата начала позже даты окончания": "the start date is after the end date",
    "период длиннее трёх лет": "the period is longer than three years",
    "неверная дата «{value}»": "bad date «{value}»", "год вне диапазона 2000–2100": "year outside 2000–2100",
    "неизвестный период «{value}»": "unknown period «{value}»",
    "С начала года": "Year to date", "Час": "Hour", "Доля оценок 4–5": "Share of 4–5",
    "Распределение оценок": "Rating distribution", "Оценка": "Score", "Количество": "Count",
    # settings
    "Настройки офиса": "Office settings", "Сохранить": "Save", "Сохранено.": "Saved.",
    "Изменения не сохранены: {key} — {problem}": "Not saved: {key} — {problem}",
    "Темы обращений": "Topics", "Код": "Code", "Префикс": "Prefix", "Название": "Name",
    "Группа": "Group", "Слот записи, мин": "Booking slot, min", "Оценка норматива": "Norm judged by",
    "среднее за период": "period mean", "каждый талон": "each ticket", "Темы": "Topics", "Зона": "Zone",
    "История версий": "Version history", "Сохранил": "Saved by", "Файл конфигурации (TOML)": "Configuration file (TOML)",
    "Нельзя сменить идентификатор офиса через веб-интерфейс": "The office id cannot be changed from the web",
    # bookings
    "Предварительная запись": "Book a visit", "Время": "Time", "Ваше имя (необязательно)": "Your name (optional)",
    "Телефон (необязательно)": "Phone (optional)", "Записаться": "Book",
    "Вы записаны. Ваш код: {code}. Время: {slot}. Пожалуйста, введите код на терминале при входе.":
        "You are booked. Your code: {code}. Time: {slot}. Please enter the code at the kiosk when you arrive.",
    "Имя и телефон используются только для записи и удаляются через {days} дн.":
        "Your name and phone are used only for the booking and are deleted after {days} days.",
}


def init_app(app: Flask) -> None:
    @app.before_request
    def _pick_language():
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            session["lang"] = lang
        g.lang = session.get("lang", "ru")

    app.jinja_env.globals.update(_=_, lang=current_language)


def current_language() -> str:
    return getattr(g, "lang", None) or "ru"


def _(text: str) -> str:
    if current_language() == "en":
        return EN.get(text, text)
    return text


def name_of(obj) -> str:
    """A topic's (or office's) name in the current language."""
    return obj.name_en if current_language() == "en" and getattr(obj, "name_en", "") else obj.name_ru
