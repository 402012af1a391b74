"""The one wording lookup of the device apps (broker/texts.py)."""
import pytest

from broker.texts import Texts

T = Texts({"ru": {"hello": "Здравствуйте, {name}!", "only_ru": "Только по-русски", "brace": "{x}"},
           "en": {"hello": "Hello, {name}!"}})


def test_lookup_formats_and_falls_back_to_russian():
    assert T.get("hello", "en", name="Anna") == "Hello, Anna!"
    assert T.get("hello", name="Анна") == "Здравствуйте, Анна!"
    assert T.text("en", "only_ru") == "Только по-русски"
    assert T.text("de", "hello", name="A") == "Здравствуйте, A!"
    assert T.get("brace") == "{x}"              # no values: the template as it is
    assert T.languages == ("ru", "en") and "hello" in T and "nope" not in T
    with pytest.raises(KeyError):
        T.get("nope", "en")
    with pytest.raises(ValueError):
        Texts({"en": {}})


def test_device_apps_share_it_and_keep_their_russian():
    from display_board.texts import TEXTS as BOARD
    from kiosk.strings import TEXTS as KIOSK
    from kiosk.strings import text
    assert BOARD.text("ru", "call_line", ticket="А015", window=3) == "Приглашается талон А015 в окно 3"
    assert text("ru", "people_ahead", n=3) == "Перед Вами в очереди: 3 чел."
    assert KIOSK.text("en", "retry") == "Try again"
