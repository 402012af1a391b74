"""Russian numerals and ticket words: known values, and a reverse parser over 0..9999."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.ru_numerals import (
    LETTER_NAMES,
    announcement_text,
    letter_words,
    number_words,
    split_ticket,
    thousands_form,
    ticket_words,
)

_VALUES = {
    "ноль": 0, "один": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6,
    "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "одиннадцать": 11, "двенадцать": 12,
    "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
    "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "тридцать": 30, "сорок": 40,
    "пятьдесят": 50, "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500, "шестьсот": 600,
    "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}


def _thousand_form(count: int) -> str:
    if 11 <= count % 100 <= 14:
        return "тысяч"
    return {1: "тысяча", 2: "тысячи", 3: "тысячи", 4: "тысячи"}.get(count % 10, "тысяч")


def parse_words(words: str) -> int:
    """A small independent reader of Russian cardinals that also checks the forms."""
    total, current = 0, 0
    tokens = words.split()
    for i, w in enumerate(tokens):
        if w in ("тысяча", "тысячи", "тысяч"):
            count = current or 1
            assert w == _thousand_form(count), words
            if current and tokens[i - 1] in ("один", "одна", "два", "две"):
                assert tokens[i - 1] in ("одна", "две"), words  # feminine before «тысяча»
            total += count * 1000
            current = 0
        else:
            assert w in _VALUES, w
            current += _VALUES[w]
    return total + current


@pytest.mark.parametrize("n, words", [
    (0, "ноль"), (1, "один"), (2, "два"), (10, "десять"), (11, "одиннадцать"), (19, "девятнадцать"),
    (20, "двадцать"), (21, "двадцать один"), (42, "сорок два"), (100, "сто"), (101, "сто один"),
    (110, "сто десять"), (215, "двести пятнадцать"), (999, "девятьсот девяносто девять"),
    (1000, "тысяча"), (1001, "тысяча один"), (1042, "тысяча сорок два"), (2000, "две тысячи"),
    (2001, "две тысячи один"), (4000, "четыре тысячи"), (5000, "пять тысяч"),
    (9999, "девять тысяч девятьсот девяносто девять"),
])
def test_numerals_known_values(n, words):
    assert number_words(n) == words


def test_numerals_feminine():
    assert number_words(1, feminine=True) == "одна"
    assert number_words(22, feminine=True) == "двадцать две"


@pytest.mark.parametrize("n, form", [(1, "тысяча"), (2, "тысячи"), (4, "тысячи"), (5, "тысяч"),
                                     (11, "тысяч"), (12, "тысяч"), (21, "тысяча"), (22, "тысячи"), (111, "тысяч")])
def test_numerals_thousands_form(n, form):
    assert thousands_form(n) == form


@given(st.integers(min_value=0, max_value=9999))
def test_numerals_parse_back(n):
    words = number_words(n)
    assert parse_words(words) == n
    assert "  " not in words and words == words.strip()


@pytest.mark.parametrize("bad", [-1, 10000])
def test_numerals_out_of_range(bad):
    with pytest.raises(ValueError):
        number_words(bad)


@pytest.mark.parametrize("ticket, spoken", [
    ("А042", "а сорок два"), ("Б007", "бэ семь"), ("К-015", "ка пятнадцать"), ("Л100", "эль сто"),
    ("А000", "а ноль"), ("17", "семнадцать"), ("A042", "а сорок два"),  # Latin A typed by mistake
    ("ПК1234", "пэ ка тысяча двести тридцать четыре"),
])
def test_numeral_ticket_words(ticket, spoken):
    assert ticket_words(ticket) == spoken


@given(st.sampled_from(sorted(LETTER_NAMES)), st.integers(min_value=0, max_value=999))
def test_numeral_ticket_words_parse_back(letter, n):
    spoken = ticket_words(f"{letter}{n:03d}")
    name = LETTER_NAMES[letter]
    assert spoken.startswith(name + " ")
    assert parse_words(spoken[len(name) + 1:]) == n


def test_numeral_letter_names_are_not_bare_consonants():
    assert letter_words("БКЛ") == "бэ ка эль"
    assert all(any(v in name for v in "аэеёиоуыюя") for name in LETTER_NAMES.values())


def test_numeral_split_ticket():
    assert split_ticket("А042") == ("А", 42)
    assert split_ticket(" К-015 ") == ("К", 15)
    with pytest.raises(ValueError):
        split_ticket("АБВ")


def test_numeral_announcement_text():
    assert announcement_text("А042", 3) == "Талон а сорок два, окно номер три."
    assert announcement_text("К015", 21) == "Талон ка пятнадцать, окно номер двадцать один."
    assert announcement_text("А042", 3, lang="en") == "Ticket А042, window 3."
