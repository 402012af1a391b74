"""What the settings page says about an office configuration, in words a person uses.

``queue_core`` reports a problem as a dotted key counted from zero and an English phrase
(``topics[0].slot_min``: ``must be 5..240 minutes, got 1``). The page shows it as the
person sees the office: «Тема 1 (A): слот записи, мин — должно быть от 5 до 240 минут,
указано 1». ``check_lengths`` adds the web's own limits on text fields, so a pasted
page of text cannot become an office name that stretches every screen.
"""
from __future__ import annotations

import re
import tomllib

from queue_core.config import OfficeConfig
from server.i18n import _, current_language

# (what, limit) for every text a screen shows; keys are dotted paths like ConfigError's
LIMITS = {
    "office.name": 120, "office.name_en": 120, "office.phone": 32, "office.site": 200,
    "topics[].name": 120, "topics[].name_en": 120,
    "windows[].zone": 40,
    "priority.categories[].code": 32, "priority.categories[].name": 80, "priority.categories[].name_en": 80,
    "board.notice": 300, "board.notice_en": 300,
}

SECTIONS = {"office": "Офис", "calendar": "Календарь", "queue": "Очередь", "priority": "Льготы",
            "board": "Табло", "topics": "Темы обращений", "windows": "Окна", "(file)": "Файл настроек"}
FIELDS = {
    "id": "идентификатор", "name": "название", "name_en": "название по-английски", "timezone": "часовой пояс",
    "profile": "профиль нормативов", "languages": "языки", "phone": "телефон", "site": "сайт",
    "code": "код", "prefix": "префикс", "form": "форма обслуживания", "segment": "группа потребителей",
    "wait_norm_min": "норматив ожидания, мин", "service_norm_min": "норматив приёма, мин",
    "aggregation": "оценка норматива", "slot_min": "слот записи, мин", "cutoff": "запись до",
    "number": "номер", "topics": "темы", "weights": "веса тем", "zone": "зона",
    "hours": "часы работы", "breaks": "перерывы", "holidays": "праздничные дни", "workdays": "рабочие субботы",
    "workday_hours": "часы в рабочие субботы",
    "policy": "порядок вызова", "priority_max_in_row": "льготников подряд, не более",
    "number_width": "цифр в номере талона", "number_start": "первый номер", "start_step": "шаг нумерации",
    "aging_factor": "коэффициент ожидания", "default_wait_norm_min": "норматив ожидания по умолчанию, мин",
    "booking_early_min": "приход по записи раньше, мин", "booking_late_min": "опоздание по записи, мин",
    "mode": "режим", "categories": "категории", "history": "строк истории",
    "min_display_s": "показ вызова, с", "notice": "объявление", "notice_en": "объявление по-английски",
}
TYPES = {"str": "текст", "int": "целое число", "float": "число", "bool": "true или false", "list": "список",
         "dict": "раздел"}
DAYS = {"mon": "пн", "tue": "вт", "wed": "ср", "thu": "чт", "fri": "пт", "sat": "сб", "sun": "вс"}
FIELDS_EN = {"(file)": "Settings file"}

# English problem phrases of queue_core.config -> Russian; {0}, {1} are the regex groups
PROBLEMS = [
    (r"is required", "обязательно"),
    (r"is not a known setting", "такой настройки нет"),
    (r"must be a table", "должно быть разделом"),
    (r"must be (str|int|float|bool|list|dict|[a-z/]+), got (\w+)", "нужно значение типа «{0}», указано «{1}»"),
    (r"must be a time HH:MM, got (.*)", "нужно время ЧЧ:ММ, указано {0}"),
    (r"must be 'HH:MM-HH:MM', got (.*)", "нужен интервал ЧЧ:ММ-ЧЧ:ММ, указано {0}"),
    (r"ends before it starts: (.*)", "конец раньше начала: {0}"),
    (r"must be a positive number of minutes or empty \(no norm\), got (.*)",
     "нужно положительное число минут или пусто (норматива нет), указано {0}"),
    (r"must be a date YYYY-MM-DD, got (.*)", "нужна дата ГГГГ-ММ-ДД, указано {0}"),
    (r"must be a short latin code like 'A' or 'cash', got (.*)",
     "нужен короткий латинский код, например 'A' или 'cash', указано {0}"),
    (r"profile (.*) has no service form (.*)", "в профиле {0} нет формы обслуживания {1}"),
    (r"must be 1-3 letters, got (.*)", "нужно 1–3 буквы, указано {0}"),
    (r"must be (\d+)\.\.(\d+) minutes, got (.*)", "должно быть от {0} до {1} минут, указано {2}"),
    (r"must be a whole number of minutes, got (.*)", "нужно целое число минут, указано {0}"),
    (r"must be (\d+)\.\.(\d+), got (.*)", "должно быть от {0} до {1}, указано {2}"),
    (r"must list at least one topic", "нужна хотя бы одна тема"),
    (r"must list at least one window", "нужно хотя бы одно окно"),
    (r"unknown topic (.*)", "неизвестная тема {0}"),
    (r"weights a topic this window does not serve", "вес темы, которую это окно не обслуживает"),
    (r"must be a number in \(0, 100\], got (.*)", "нужно число больше 0 и не больше 100, указано {0}"),
    (r"must be 1-32 latin letters, digits, '-' or '_', got (.*)",
     "нужно 1–32 латинских буквы, цифры, '-' или '_', указано {0}"),
    (r"unknown time zone (.*)", "неизвестный часовой пояс {0}"),
    (r"(.*) is already used by topics\[(\d+)\]", "{0} уже занято темой {1+}"),
    (r"window (\d+) is defined twice", "окно {0} описано дважды"),
    (r"topic (.*) is served by no window", "тему {0} не обслуживает ни одно окно"),
    (r"must be one of (.*), got (.*)", "допустимо одно из: {0}; указано {1}"),
    (r"must be one of (.*)", "допустимо одно из: {0}"),
    (r"must be 'ru' or 'en', got (.*)", "допустимо 'ru' или 'en', указано {0}"),
    (r"is not valid TOML: (.*)", "ошибка в записи файла (TOML): {0}"),
    (r"longer than (\d+) characters \((\d+)\)", "длиннее {0} символов ({1})"),
]

_PART = re.compile(r"([A-Za-z_()]+)(?:\[(\d+)\])?")


def _item_names(text: str) -> dict[str, list]:
    """Each topic's code and each window's number from the TOML, to name an item as on screen."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    out = {}
    for section, key in (("topics", "code"), ("windows", "number")):
        items = data.get(section)
        out[section] = [i.get(key) if isinstance(i, dict) else None for i in items] if isinstance(items, list) else []
    return out


def human_key(key: str, text: str = "") -> str:
    """``topics[0].slot_min`` -> «Тема 1 (A): слот записи, мин»; numbering from one."""
    if current_language() == "en":
        return re.sub(r"\[(\d+)\]", lambda m: f" {int(m.group(1)) + 1}", key).replace(".", ": ")
    names = _item_names(text) if text else {}
    parts = key.split(".")
    head = _PART.fullmatch(parts[0])
    if head is None:
        return key
    section, index = head.group(1), head.group(2)
    if section in ("topics", "windows") and index is not None:
        i = int(index)
        known = names.get(section, [])
        ident = known[i] if i < len(known) else None
        if section == "topics":
            words = f"Тема {i + 1}" + (f" ({ident})" if isinstance(ident, str) and ident else "")
        else:
            words = (f"Окно {ident}" if isinstance(ident, int) and not isinstance(ident, bool)
                     else f"Окно {i + 1}-е по порядку")
    else:
        words = SECTIONS.get(section, section)
    rest = []
    for j, part in enumerate(parts[1:]):
        m = _PART.fullmatch(part)
        if m is None:
            rest.append(part)
            continue
        name, sub = m.group(1), m.group(2)
        if parts[j] == "hours" or (j == 0 and section == "calendar" and name in DAYS):
            rest.append(DAYS.get(name, name))
            continue
        if section == "priority" and name == "categories" and sub is not None:
            words = f"Льготная категория {int(sub) + 1}"
            continue
        if parts[j].startswith("weights"):
            rest.append(f"тема {name}")
            continue
        label = FIELDS.get(name, name)
        rest.append(f"{label}, {int(sub) + 1}-я запись" if sub is not None else label)
    if index is not None and section not in ("topics", "windows"):
        rest.insert(0, f"{int(index) + 1}-я запись")
    return words + (": " + ", ".join(rest) if rest else "")


def human_problem(problem: str) -> str:
    if current_language() == "en":
        return problem
    problem = re.sub(r"\(at line (\d+), column (\d+)\)", r"(строка \1, позиция \2)", problem)
    for pattern, words in PROBLEMS:
        m = re.fullmatch(pattern, problem, flags=re.S)
        if m:
            groups = [TYPES.get(g, g) for g in m.groups()]
            out = words
            for n, g in enumerate(groups):
                out = out.replace("{%d+}" % n, str(int(g) + 1) if g and g.isdigit() else str(g))
                out = out.replace("{%d}" % n, str(g))
            return out
    return problem


def message(key: str, problem: str, text: str = "") -> str:
    return _("Изменения не сохранены: {key} — {problem}").format(key=human_key(key, text),
                                                                 problem=human_problem(problem))


def check_lengths(config: OfficeConfig) -> tuple[str, str] | None:
    """The first text longer than the web allows, as (key, problem) like ConfigError's."""
    values = [("office.name", config.name_ru), ("office.name_en", config.name_en), ("office.phone", config.phone),
              ("office.site", config.site), ("board.notice", config.notice_ru), ("board.notice_en", config.notice_en)]
    for i, t in enumerate(config.topics):
        values += [(f"topics[{i}].name", t.name_ru), (f"topics[{i}].name_en", t.name_en)]
    for i, w in enumerate(config.windows):
        values.append((f"windows[{i}].zone", w.zone or ""))
    for i, p in enumerate(config.priority_categories):
        values += [(f"priority.categories[{i}].code", p.code), (f"priority.categories[{i}].name", p.name_ru),
                   (f"priority.categories[{i}].name_en", p.name_en)]
    for key, value in values:
        limit = LIMITS[re.sub(r"\[\d+\]", "[]", key)]
        if value and len(value) > limit:
            return key, f"longer than {limit} characters ({len(value)})"
    return None
