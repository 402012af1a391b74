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
    "Устройство {device} не в сети {m} мин в рабочее время (предел 60 мин)":
        "Device {device} offline for {m} min of working time (limit 60 min)",
    "Принтер {device}: {state}": "Printer {device}: {state}",
    "Посетителю нужна помощь у {device} ({m} мин назад)": "A visitor asked for help at {device} ({m} min ago)",
    "Талон {ticket}: индивидуальное обслуживание ({category}), подойдите к посетителю ({m} мин назад)":
        "Ticket {ticket}: assisted service ({category}), please go to the visitor ({m} min ago)",
    "льготная категория": "priority category",
    "Принято": "Acknowledged",
    "Приём талона {ticket} в окне {window} идёт {m} мин при нормативе {norm} мин":
        "Ticket {ticket} at window {window} in service for {m} min (norm {norm} min)",
    "Визит талона {ticket} идёт {m} мин при пределе {limit} мин":
        "Ticket {ticket} has been in the office for {m} min (visit limit {limit} min)",
    # reports
    "Визиты: общее время обслуживания": "Visits: total time", "Визитов": "Visits",
    "Среднее общее время": "Mean total",
    "Наибольшее общее время": "Longest total", "Предел общего времени": "Visit limit",
    "Доля в пределе": "Within the limit", "Сверх предела": "Over the limit", "Общее время": "Total time",
    "предел не более {limit} мин на визит": "at most {limit} min a visit", "предела нет": "no limit",
    " (на 1 лицевой счёт)": " (per personal account)",
    "Период": "Period", "день": "day", "неделя": "week", "месяц": "month", "полугодие": "half-year",
    "год": "year", "произвольный": "custom", "с": "from", "по": "to", "Дата": "Date", "Все": "All",
    "Группировка": "Group by", "по теме обращения": "by topic", "по окну": "by window",
    "по сотруднику": "by operator", "по группе потребителей": "by customer group", "по часам": "by hour",
    "по дням": "by day", "итого": "total", "Сформировать": "Build", "Скачать CSV": "Download CSV",
    "Скачать XLSX": "Download XLSX", "Версия для печати": "Printable version", "Печать": "Print",
    "Талонов": "Tickets", "Обслужено": "Served", "Не явились": "No-shows", "Переведены": "Transfers",
    "Отменены": "Cancelled", "Ушли до вызова": "Left before the call", "Среднее время ожидания в очереди": "Mean wait",
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
    "Показать свободное время": "Show free times", "Свободное время на {day}": "Free times on {day}",
    "На этот день свободного времени нет. Пожалуйста, выберите другой день.":
        "No free times on this day. Please choose another day.",
    # layout, roles, errors
    "Названия — не длиннее {name} символов, объявление на табло — {notice}.":
        "Names: at most {name} characters; the board notice: {notice}.",
    "Основные настройки": "Main settings", "Офис": "Office", "Табло": "Board", "Тема": "Topic", "код": "code",
    "Название по-английски": "Name in English", "Телефон": "Phone", "Сайт": "Site",
    "Объявление на табло": "Board notice", "Объявление на табло по-английски": "Board notice in English",
    "Норматив ожидания, мин": "Wait norm, min", "Норматив приёма, мин": "Service norm, min",
    "Пустой норматив — норматива нет. Названия — не длиннее {name} символов, объявление на табло — {notice}.":
        "An empty norm means no norm. Names: at most {name} characters; the board notice: {notice}.",
    "Всё остальное (окна, календарь, порядок вызова, льготы) — в файле. Сохранение формы записывает файл заново, без комментариев.":
        "Everything else (windows, calendar, call order, priorities) is in the file. Saving the form rewrites the file, without comments.",
    "Меню": "Menu", "Разделы": "Sections", "оператор": "operator", "руководитель": "head", "администратор": "admin",
    "Таблица шире экрана: прокрутите её вбок →": "The table is wider than the screen: scroll it sideways →",
    "В этом состоянии": "In this state", "Принтер": "Printer",
    "Неверный запрос": "Bad request", "Запрос не удалось понять. Пожалуйста, вернитесь назад и повторите.":
        "The request could not be understood. Please go back and try again.",
    "Нужен вход": "Login required", "Нет доступа": "Forbidden", "Страница не найдена": "Page not found",
    "Такой страницы нет. Проверьте адрес или перейдите на главную.":
        "There is no such page. Check the address or go to the home page.",
    "Недопустимый запрос": "Method not allowed", "Этот адрес не принимает такой запрос.":
        "This address does not accept this kind of request.",
    "Слишком большой запрос": "Request too large", "Запрос слишком большой. Ничего не сохранено.":
        "The request is too large. Nothing was saved.",
    "Слишком много запросов": "Too many requests", "Слишком много запросов. Пожалуйста, подождите и повторите.":
        "Too many requests. Please wait and try again.",
    "Ошибка на сервере": "Server error",
    "На сервере произошла ошибка. Пожалуйста, повторите позже; если ошибка повторяется, сообщите администратору.":
        "Something went wrong on the server. Please try again later; if it happens again, tell the administrator.",
    # downtime, disclosure and CSAT (storage/downtime.py, storage/disclosure.py, storage/csat.py)
    "Простои устройств в рабочее время": "Device downtime in working hours",
    "Простой в рабочее время, мин": "Down in working hours, min",
    "Дней с простоем больше 60 мин": "Days down over 60 min", "По дням": "By day", "День": "Day",
    "Как считается": "How it is computed", "Правило": "Rule", "Формула": "Formula",
    "Простой — устройство не в сети или киоск не выдаёт талоны (нет бумаги, открыта крышка, принтер не в сети "
    "или неисправен); учитывается только рабочее время офиса по календарю (часы работы без перерывов, без "
    "выходных и праздников), незакрытый простой — до текущего момента; больше 60 минут за день — нарушение "
    "(004:2656).":
        "Down: the device is offline, or the kiosk issues no tickets (paper out, cover open, printer offline or "
        "in error); only the office calendar's working time counts (opening hours minus breaks, no days off or "
        "holidays), an outage still open up to now; over 60 minutes in a day breaks the limit (004:2656).",
    "Сведения за истекший год": "The past year", "Показатель": "Item", "Значение": "Value", "Пункт": "Clause",
    "не внесено": "not entered",
    "Перечень мероприятий по повышению качества обслуживания потребителей, выполненных в истекшем году":
        "Measures to improve customer service carried out in the past year",
    "Количество обращений (обслуженных визитов)": "Appeals (visits served)",
    "Количество претензий": "Claims",
    "Количество жалоб на действия гарантирующего поставщика": "Complaints about the supplier",
    "Режим работы каналов заочного обслуживания в течение года": "Working hours of the remote channels over the year",
    "Сведения, которых нет в очереди": "Figures the queue does not record",
    "Сведения за {year} год сохранены.": "The figures for {year} are saved.",
    "«{value}» — не целое число от 0 до 1 000 000": "«{value}» is not a whole number from 0 to 1,000,000",
    "полугодие — 1 или 2": "the half-year is 1 or 2",
    "Бумажные анкеты": "Paper questionnaires", "бумажные анкеты": "paper questionnaires",
    "оценки в электронной очереди": "queue ratings", "В электронной очереди": "In the queue",
    "Бумажные анкеты за {year}, {half} полугодие сохранены.": "Paper questionnaires for {year}, half {half} are saved.",
    "Источник": "Source", "Позитивных (4–5)": "Positive (4–5)", "Нейтральных (3)": "Neutral (3)",
    "Негативных (1–2)": "Negative (1–2)", "CSAT (доля оценок 4–5)": "CSAT (share of 4–5)",
    "По группам потребителей": "By client group", "По темам обращения": "By topic",
    "CSAT = (оценки 4 и 5) / (все оценки) × 100 %; позитивные — 4–5, нейтральные — 3, негативные — 1–2":
        "CSAT = (ratings of 4 and 5) / (all ratings) × 100 %; positive 4–5, neutral 3, negative 1–2",
    "Группы и темы — по оценкам в электронной очереди: в бумажной анкете их нет.":
        "Groups and topics use the queue's ratings: a paper questionnaire has neither.",
}


def init_app(app: Flask) -> None:
    @app.before_request
    def _pick_language():
        lang = request.args.get("lang")
        if lang in LANGUAGES:
            session["lang"] = lang
        g.lang = session.get("lang", "ru")

    app.jinja_env.globals.update(_=_, lang=current_language, lang_url=lang_url)
    app.jinja_env.filters["num"] = number


def number(value, digits: int = 1) -> str:
    """A number as the reader writes it: «48,4» in Russian, «48.4» in English; whole numbers bare."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    v = float(value)
    text = f"{v:.0f}" if abs(v - round(v)) < 0.5 * 10 ** -digits else f"{v:.{digits}f}"
    return text.replace(".", ",") if current_language() == "ru" else text


def lang_url(code: str) -> str:
    """This page in another language: the same address and arguments, ``lang`` changed."""
    from urllib.parse import urlencode
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", code)]
    return request.path + "?" + urlencode(args)


def current_language() -> str:
    return getattr(g, "lang", None) or "ru"


def _(text: str) -> str:
    if current_language() == "en":
        return EN.get(text, text)
    return text


def name_of(obj) -> str:
    """A topic's (or office's) name in the current language."""
    return obj.name_en if current_language() == "en" and getattr(obj, "name_en", "") else obj.name_ru


# the visitor's ticket page (server/phone.py, server/phone_state.py, templates/phone*.html)
EN.update({
    "Ваш талон": "Your ticket", "Талон": "Ticket", "Объявление": "Announcement", "Действия": "Actions",
    "Язык": "Language", "Перед Вами": "Ahead of you", "Ожидаемое время": "Expected wait",
    "Пожалуйста, ожидайте вызова": "Please wait to be called", "Пожалуйста, ожидайте вызова.": "Please wait to be called.",
    "Вас перевели к окну {window}.": "You have been transferred to window {window}.",
    "Вас перевели: тема «{topic}».": "You have been transferred: topic «{topic}».",
    "Талон {number} — пройдите к окну {window}": "Ticket {number} — please go to window {window}",
    "Вас ждут. Спасибо, что подождали!": "You are expected. Thank you for waiting!",
    "Вас приглашают повторно. Пожалуйста, пройдите к окну {window}.":
        "You are being called again. Please go to window {window}.",
    "Вас обслуживают в окне {window}": "You are being served at window {window}",
    "Ваша очередь совсем скоро": "Your turn is very soon",
    "Сейчас нет открытых окон по Вашей теме: время ожидания уточняется":
        "No window for your topic is open right now: the wait will be known soon",
    "Обслуживание завершено": "Your visit is complete", "Спасибо, что пришли! Хорошего дня.":
        "Thank you for coming! Have a good day.",
    "Вы вышли из очереди": "You have left the queue",
    "Спасибо, что предупредили. Если понадобится, возьмите новый талон.":
        "Thank you for letting us know. If you need to, please take a new ticket.",
    "Талон закрыт: Вы не подошли на вызов": "The ticket is closed: you did not come when called",
    "Если Вы ещё в офисе, пожалуйста, обратитесь к сотруднику или возьмите новый талон.":
        "If you are still in the office, please ask a member of staff or take a new ticket.",
    "Талон отменён": "The ticket was cancelled", "Талон больше не действует": "The ticket is no longer valid",
    "Если Вам нужна помощь, пожалуйста, обратитесь к сотруднику.": "If you need help, please ask a member of staff.",
    "Включить звук и вибрацию при вызове": "Turn on sound and vibration for the call",
    "Уведомить в Telegram": "Notify me in Telegram", "Я ухожу": "I am leaving",
    "Вы уверены, что хотите выйти из очереди? Талон будет закрыт.":
        "Are you sure you want to leave the queue? The ticket will be closed.",
    "Да, я ухожу": "Yes, I am leaving", "Нет, остаться": "No, stay", "Хорошо, иду": "OK, on my way",
    "Вы вышли из очереди. Спасибо, что предупредили!": "You have left the queue. Thank you for letting us know!",
    "Выйти из очереди с телефона здесь нельзя. Пожалуйста, скажите об этом сотруднику.":
        "The queue cannot be left from the phone here. Please tell a member of staff.",
    "Выйти из очереди с телефона здесь нельзя. Если Вы уходите, пожалуйста, скажите об этом сотруднику.":
        "The queue cannot be left from the phone here. If you are leaving, please tell a member of staff.",
    "Сейчас выйти из очереди с телефона нельзя. Пожалуйста, скажите об этом сотруднику.":
        "The queue cannot be left from the phone now. Please tell a member of staff.",
    "Нет связи. Переподключаемся…": "No connection. Reconnecting…",
    "Страница обновляется сама. Держите её открытой — при вызове телефон подаст сигнал.":
        "This page updates by itself. Keep it open: the phone will signal when you are called.",
    "Талон не найден": "Ticket not found",
    "Этот талон не найден или действовал в другой день. Пожалуйста, проверьте ссылку или возьмите новый "
    "талон в терминале.":
        "This ticket was not found or was for another day. Please check the link or take a new ticket at the kiosk.",
    "Слишком много запросов с Вашего устройства. Пожалуйста, подождите минуту и обновите страницу.":
        "Too many requests from your device. Please wait a minute and reload the page.",
    # the dashboard's announcement form
    "Объявление для всех ожидающих": "Announcement to everyone waiting", "Текст объявления": "Announcement text",
    "Показать объявление": "Show the announcement", "Убрать объявление": "Remove the announcement",
    "Сейчас показано": "Shown now", "Объявления нет.": "No announcement.",
    "Объявление показано на табло и на телефонах ожидающих.":
        "The announcement is shown on the board and on the phones of everyone waiting.",
    "Объявление убрано.": "The announcement is removed.",
    "Объявление не длиннее {limit} символов.": "The announcement is at most {limit} characters.",
    "Не длиннее {limit} символов; появится на табло и на телефонах ожидающих.":
        "At most {limit} characters; it appears on the board and on the phones of everyone waiting.",
    "Объявления здесь недоступны: веб-сервер запущен без хаба.":
        "Announcements are not available here: the web server runs without the hub.",
})
