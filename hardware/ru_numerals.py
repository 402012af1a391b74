"""Russian words for call announcements: numbers, ticket letters, the whole phrase.

>>> number_words(42)
'сорок два'
>>> ticket_words("А042")
'а сорок два'
>>> announcement_text("А042", 3)
'Талон а сорок два, окно номер три.'

Numbers are spoken in the nominative case (``номер три``, ``талон сорок два``).
The ticket letter is spoken by its conventional Russian name («бэ», «ка», «эль»)
so a speech engine does not swallow it into the next word.
"""
from __future__ import annotations

import re

_UNITS_M = ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_UNITS_F = ["ноль", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"]
_TEENS = ["десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
          "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"]
_TENS = ["", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят",
         "восемьдесят", "девяносто"]
_HUNDREDS = ["", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот",
             "восемьсот", "девятьсот"]

MAX_NUMBER = 9999

# Conventional names of the Russian letters, as a speaker reads an abbreviation.
LETTER_NAMES: dict[str, str] = {
    "А": "а", "Б": "бэ", "В": "вэ", "Г": "гэ", "Д": "дэ", "Е": "е", "Ё": "ё", "Ж": "жэ",
    "З": "зэ", "И": "и", "Й": "и краткое", "К": "ка", "Л": "эль", "М": "эм", "Н": "эн",
    "О": "о", "П": "пэ", "Р": "эр", "С": "эс", "Т": "тэ", "У": "у", "Ф": "эф", "Х": "ха",
    "Ц": "цэ", "Ч": "че", "Ш": "ша", "Щ": "ща", "Ъ": "твёрдый знак", "Ы": "ы",
    "Ь": "мягкий знак", "Э": "э", "Ю": "ю", "Я": "я",
}

# Latin letters typed by mistake in a prefix ("A" instead of "А"): say them the Russian way.
_LATIN_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
_LATIN_NAMES: dict[str, str] = {
    "D": "дэ", "F": "эф", "G": "гэ", "I": "и", "J": "йот", "L": "эль", "N": "эн", "Q": "ку",
    "R": "эр", "S": "эс", "U": "у", "V": "вэ", "W": "дубль вэ", "Z": "зэт",
}


def _below_thousand(n: int, units: list[str]) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append(_HUNDREDS[hundreds])
    if 10 <= rest <= 19:
        words.append(_TEENS[rest - 10])
    else:
        tens, unit = divmod(rest, 10)
        if tens:
            words.append(_TENS[tens])
        if unit:
            words.append(units[unit])
    return words


def thousands_form(n: int) -> str:
    """The form of «тысяча» that goes with ``n``: 1 тысяча, 2 тысячи, 5 тысяч, 11 тысяч."""
    if 11 <= n % 100 <= 14:
        return "тысяч"
    last = n % 10
    if last == 1:
        return "тысяча"
    if 2 <= last <= 4:
        return "тысячи"
    return "тысяч"


def number_words(n: int, feminine: bool = False) -> str:
    """``n`` (0..9999) in Russian words, nominative case.

    ``feminine`` picks «одна»/«две» for feminine nouns; tickets and windows are
    counted with the masculine/neuter forms («номер один», «талон два»).
    1000..1999 are said the way people say them: «тысяча сорок два».
    """
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"number_words needs an int, got {n!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number_words handles 0..{MAX_NUMBER}, got {n}")
    if n == 0:
        return "ноль"
    units = _UNITS_F if feminine else _UNITS_M
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands == 1:
        words.append("тысяча")
    elif thousands:
        words += _below_thousand(thousands, _UNITS_F)
        words.append(thousands_form(thousands))
    words += _below_thousand(rest, units)
    return " ".join(words)


def letter_words(letters: str) -> str:
    """Spoken names of the letters of a ticket prefix: ``"АК"`` → ``"а ка"``."""
    names = []
    for ch in letters.upper():
        if ch in LETTER_NAMES:
            names.append(LETTER_NAMES[ch])
        elif ch in _LATIN_NAMES:
            names.append(_LATIN_NAMES[ch])
        elif ch.translate(_LATIN_LOOKALIKES) in LETTER_NAMES:
            names.append(LETTER_NAMES[ch.translate(_LATIN_LOOKALIKES)])
        elif ch.isalpha():
            names.append(ch.lower())
        # separators ("-", " ") are not spoken
    return " ".join(names)


_TICKET_RE = re.compile(r"^\s*([^\d]*?)[\s\-–—]*(\d+)\s*$")


def split_ticket(number: str) -> tuple[str, int]:
    """``"А042"`` → ``("А", 42)``; ``"К-015"`` → ``("К", 15)``; ``"17"`` → ``("", 17)``."""
    m = _TICKET_RE.match(number or "")
    if not m:
        raise ValueError(f"not a ticket number: {number!r}")
    return m.group(1).strip(" -–—"), int(m.group(2))


def ticket_words(number: str) -> str:
    """A ticket number as spoken: letter names, then the number without leading zeros."""
    letters, n = split_ticket(number)
    spoken_letters = letter_words(letters)
    if n > MAX_NUMBER:  # never expected; read it digit by digit rather than fail the call
        spoken_number = " ".join(number_words(int(d)) for d in str(n))
    else:
        spoken_number = number_words(n)
    return f"{spoken_letters} {spoken_number}".strip()


def announcement_text(ticket: str, window: int | str, lang: str = "ru") -> str:
    """The sentence the board speaks: «Талон а сорок два, окно номер три.»"""
    if lang == "en":
        return f"Ticket {ticket}, window {window}."
    window_words = number_words(int(window)) if str(window).isdigit() else str(window)
    return f"Талон {ticket_words(ticket)}, окно номер {window_words}."
