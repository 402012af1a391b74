"""state/config lists the operators (code + name, never a PIN) for the counters' sign-in list."""
import json

from broker.views import ConfigState
from hub.local import LocalHub


def test_config_state_lists_operators_without_pins():
    hub = LocalHub(operators={"petrov": ("Петров Олег", "4321"), "ivanova": ("Иванова Анна", "1234")})
    try:
        payload = hub.states["config"]
        assert payload["operators"] == [{"code": "ivanova", "name": "Иванова Анна"},
                                        {"code": "petrov", "name": "Петров Олег"}]
        text = json.dumps(payload, ensure_ascii=False)
        assert "1234" not in text and "4321" not in text and "pin" not in text.lower()
        config = ConfigState.from_payload(payload)
        assert [(o.code, o.name) for o in config.operators] == [("ivanova", "Иванова Анна"), ("petrov", "Петров Олег")]
    finally:
        hub.close()


def test_an_older_config_without_operators_still_parses():
    assert ConfigState.from_payload({"v": 1}).operators == ()
