"""Every word the kiosk shows, in Russian (default) and English.

Wording follows docs/requirements.md (UI wording, digest §4): polite forms («Пожалуйста, …»), «Вы» with
a capital letter, never a categorical imperative («Явитесь», «Пройдите»).
Looked up through the shared ``broker.texts.Texts`` (Russian fallback).
"""
from __future__ import annotations

from broker.texts import Texts

STRINGS: dict[str, dict[str, str]] = {
    "ru": {
        "greeting_morning": "Доброе утро!",
        "greeting_day": "Добрый день!",
        "greeting_evening": "Добрый вечер!",
        "greeting_night": "Здравствуйте!",
        "welcome": "Добро пожаловать!",
        "instruction": "Здесь Вы можете получить талон электронной очереди",
        "start": "Получить талон",
        "booking": "У меня предварительная запись",
        "priority": "Обслуживание вне очереди",
        "help": "Нужна помощь? Вызов персонала",
        "help_called_title": "Сотрудник скоро подойдёт к Вам",
        "help_called_body": "Спасибо, что подождёте.",
        "language": "English",
        "back": "Назад",
        "home": "В начало",
        "choose_segment": "Пожалуйста, выберите категорию",
        "choose_topic": "Выберите тему обращения",
        "choose_topic_priority": "Вне очереди: выберите тему обращения",
        "waiting": "В очереди: {n} чел.",
        "expected_wait": "Ожидание ~{m} мин",
        "no_waiting": "Очереди нет",
        "reason_closed": "Сейчас приём не ведётся",
        "reason_cutoff": "Приём по данной теме на сегодня завершён",
        "reason_no_window": "Сейчас нет открытых окон по этой теме",
        "reason_unknown": "Приём по этой теме временно недоступен",
        "checkin_title": "Введите код предварительной записи",
        "checkin_submit": "Готово",
        "checkin_clear": "Стереть",
        "booking_not_found": "Запись с таким кодом не найдена. Пожалуйста, проверьте код "
                             "или обратитесь к администратору.",
        "booking_too_early": "Время Вашей записи ещё не наступило. Пожалуйста, вернитесь к "
                             "терминалу ближе к назначенному времени или возьмите талон в общую очередь.",
        "booking_too_late": "Время Вашей записи, к сожалению, прошло. Пожалуйста, возьмите "
                            "талон в общую очередь или обратитесь к администратору.",
        "priority_title": "Обслуживание вне очереди",
        "priority_body": "Право на обслуживание вне очереди имеют категории клиентов, "
                         "установленные законодательством РФ. Пожалуйста, выберите Вашу категорию. "
                         "Если нужна помощь, нажмите «Вызов персонала».",
        "printing": "Печатаем талон…",
        "take_ticket": "Возьмите, пожалуйста, талон",
        "your_ticket": "Ваш талон №",
        "people_ahead": "Перед Вами в очереди: {n} чел.",
        "eta": "Ориентировочное время ожидания: ~{m} мин",
        "please_wait": "Пожалуйста, ожидайте приглашения на табло.",
        "print_failed_title": "Талон не удалось напечатать",
        "print_failed_body": "Ваш номер сохранён в очереди. Пожалуйста, запомните его "
                             "или попробуйте напечатать ещё раз.",
        "reprint": "Напечатать ещё раз",
        "done": "Готово",
        "sorry": "Извините",
        "hub_unreachable": "Нет связи с сервером очереди. Талон не выдан. Пожалуйста, "
                           "попробуйте ещё раз через минуту или обратитесь к администратору.",
        "hub_unreachable_retry": "Нет связи с сервером очереди. Пожалуйста, нажмите «Повторить» "
                                 "через несколько секунд или «Вызов персонала».",
        "retry": "Повторить",
        "offline_banner": "Нет связи с сервером очереди…",
        "topic_closed": "Приём по этой теме сейчас не ведётся.",
        "out_of_service_title": "Терминал временно не работает",
        "out_of_service_body": "Пожалуйста, обратитесь к администратору.",
        "printer_paper_out": "Закончилась бумага для талонов.",
        "printer_cover_open": "Открыта крышка принтера.",
        "printer_offline": "Принтер талонов не отвечает.",
        "printer_error": "Ошибка принтера талонов.",
        "error_generic": "Не удалось выдать талон. Пожалуйста, обратитесь к администратору.",
        "speak": "Озвучить",
        "large_text": "Крупный шрифт",
        "large_text_off": "Обычный шрифт",
        "say_ticket": "Ваш талон: {number}. {topic}. Пожалуйста, ожидайте приглашения на табло.",
        "say_choices": "Варианты: {choices}.",
        "say_unavailable": "недоступно",
        "assisted": "Сопровождение: сотрудник подойдёт к Вам",
        "booking_at": "Запись на {time}",
        "out_of_service_number": "Ваш талон № {number} уже в очереди, пожалуйста, запомните его.",
        "paperless": "Без печати — на телефон",
        "paperless_hint": "Талон не будет напечатан: после выбора темы на экране появится код "
                          "для Вашего телефона.",
        "paperless_only": "Талон можно получить без печати — на телефон.",
        "issuing": "Выдаём талон…",
        "phone_title": "Наведите камеру телефона на код",
        "phone_body": "На телефоне откроется страница Вашего талона: очередь и приглашение к окну.",
        "paper_failed_phone": "Талон не удалось напечатать, поэтому он здесь, на экране.",
        "say_phone": "Ваш талон: {number}. {topic}. Код для телефона — на экране.",
    },
    "en": {
        "greeting_morning": "Good morning!",
        "greeting_day": "Good afternoon!",
        "greeting_evening": "Good evening!",
        "greeting_night": "Hello!",
        "welcome": "Welcome!",
        "instruction": "Take your queue ticket here",
        "start": "Take a ticket",
        "booking": "I have an appointment",
        "priority": "Priority service",
        "help": "Need help? Call staff",
        "help_called_title": "A member of staff is on the way",
        "help_called_body": "Thank you for waiting.",
        "language": "Русский",
        "back": "Back",
        "home": "Start over",
        "choose_segment": "Please choose a category",
        "choose_topic": "Please choose a topic",
        "choose_topic_priority": "Priority service: please choose a topic",
        "waiting": "Waiting: {n}",
        "expected_wait": "Wait ~{m} min",
        "no_waiting": "No queue",
        "reason_closed": "Not open at the moment",
        "reason_cutoff": "No more tickets for this topic today",
        "reason_no_window": "No window open for this topic right now",
        "reason_unknown": "Temporarily unavailable",
        "checkin_title": "Please enter your appointment code",
        "checkin_submit": "Done",
        "checkin_clear": "Clear",
        "booking_not_found": "We could not find an appointment with this code. Please check "
                             "the code or ask the administrator.",
        "booking_too_early": "Your appointment has not started yet. Please come back closer to "
                             "your time or take a regular ticket.",
        "booking_too_late": "Unfortunately your appointment time has passed. Please take a "
                            "regular ticket or ask the administrator.",
        "priority_title": "Priority service",
        "priority_body": "Priority service is for the categories of visitors set by Russian "
                         "law. Please choose your category. If you need help, press "
                         "\"Call staff\".",
        "printing": "Printing your ticket…",
        "take_ticket": "Please take your ticket",
        "your_ticket": "Your ticket No.",
        "people_ahead": "People ahead of you: {n}",
        "eta": "Estimated wait: ~{m} min",
        "please_wait": "Please wait for your number on the board.",
        "print_failed_title": "The ticket could not be printed",
        "print_failed_body": "Your number is in the queue. Please remember it or try "
                             "printing again.",
        "reprint": "Print again",
        "done": "Done",
        "sorry": "Sorry",
        "hub_unreachable": "No connection to the queue server. No ticket was issued. Please "
                           "try again in a minute or ask the administrator.",
        "hub_unreachable_retry": "No connection to the queue server. Please press \"Try again\" "
                                 "in a few seconds or \"Call staff\".",
        "retry": "Try again",
        "offline_banner": "No connection to the queue server…",
        "topic_closed": "This topic is not open at the moment.",
        "out_of_service_title": "This terminal is temporarily out of service",
        "out_of_service_body": "Please ask the administrator.",
        "printer_paper_out": "The ticket printer is out of paper.",
        "printer_cover_open": "The printer cover is open.",
        "printer_offline": "The ticket printer does not answer.",
        "printer_error": "Ticket printer error.",
        "error_generic": "The ticket could not be issued. Please ask the administrator.",
        "speak": "Read aloud",
        "large_text": "Large text",
        "large_text_off": "Normal text",
        "say_ticket": "Your ticket: {number}. {topic}. Please wait for your number on the board.",
        "say_choices": "Choices: {choices}.",
        "say_unavailable": "unavailable",
        "assisted": "Assistance: a member of staff will come to you",
        "booking_at": "Appointment at {time}",
        "out_of_service_number": "Your ticket No. {number} is already in the queue; please remember it.",
        "paperless": "No paper — on my phone",
        "paperless_hint": "Nothing will be printed: after you choose a topic, a code for your phone "
                          "appears on the screen.",
        "paperless_only": "You can still get your ticket on your phone, without paper.",
        "issuing": "Issuing your ticket…",
        "phone_title": "Point your phone's camera at the code",
        "phone_body": "Your phone opens your ticket's page: the queue and your call to the window.",
        "paper_failed_phone": "The ticket could not be printed, so here it is on the screen.",
        "say_phone": "Your ticket: {number}. {topic}. The code for your phone is on the screen.",
    },
}

TEXTS = Texts(STRINGS)
LANGUAGES = TEXTS.languages
text = TEXTS.text          # text(lang, key, **values)
