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


def test_an_operator_added_while_the_hub_runs_reaches_the_counters():
    """``talon operators add`` on a running office: the directory reload republishes state/config."""
    from storage import directory

    hub = LocalHub(operators={"ivanova": ("Иванова Анна", "1234")})
    try:
        assert hub.dispatcher.reload_directory() == []            # nothing changed: nothing to publish
        with hub.db.sessions() as s, s.begin():
            directory.add_operator(s, hub.db.config.office_id, "petrov", "Петров Олег", "4321")
        (pub,) = hub.dispatcher.reload_directory()
        assert pub.topic.endswith("/state/config") and pub.retain
        names = [o["name"] for o in pub.payload["operators"]]
        assert names == ["Иванова Анна", "Петров Олег"]
        assert hub.dispatcher.reload_directory() == []
    finally:
        hub.close()
