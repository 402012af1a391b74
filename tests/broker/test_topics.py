import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.topics import Topics, valid_id

T = Topics("mek-1")


def test_builds_every_contract_topic():
    assert T.cmd("kiosk-1") == "talon/mek-1/cmd/kiosk-1"
    assert T.reply("kiosk-1") == "talon/mek-1/reply/kiosk-1"
    assert T.event == "talon/mek-1/event/ticket"
    assert T.state("board") == "talon/mek-1/state/board"
    assert T.state("window/3") == T.window_state(3) == "talon/mek-1/state/window/3"
    assert T.status("board_2") == "talon/mek-1/device/board_2/status"
    assert (T.all_cmds, T.all_states, T.all_events, T.all_statuses, T.all) == (
        "talon/mek-1/cmd/+", "talon/mek-1/state/#", "talon/mek-1/event/#",
        "talon/mek-1/device/+/status", "talon/mek-1/#")


@pytest.mark.parametrize("topic, parsed", [
    ("talon/mek-1/cmd/kiosk-1", ("cmd", "kiosk-1")),
    ("talon/mek-1/reply/c_3", ("reply", "c_3")),
    ("talon/mek-1/event/ticket", ("event", "ticket")),
    ("talon/mek-1/state/config", ("state", "config")),
    ("talon/mek-1/state/window/12", ("state", "window/12")),
    ("talon/mek-1/device/kiosk-1/status", ("status", "kiosk-1")),
])
def test_parse(topic, parsed):
    assert T.parse(topic) == parsed


@pytest.mark.parametrize("topic", [
    "talon/other/cmd/kiosk-1", "talon/mek-1/cmd/a/b", "talon/mek-1/cmd/+", "talon/mek-1/state/window/0",
    "talon/mek-1/state/window/x", "talon/mek-1/state/nope", "talon/mek-1/event/other",
    "talon/mek-1/device/k/online", "talon/mek-1/", "talon/mek-1/cmd/",
])
def test_parse_refuses_foreign_topics(topic):
    with pytest.raises(ValueError):
        T.parse(topic)


@pytest.mark.parametrize("bad", ["", "a" * 33, "a/b", "a+", "#", "кио", "a b", None, 3])
def test_ids_are_validated(bad):
    assert not valid_id(bad)
    with pytest.raises(ValueError):
        T.cmd(bad)
    with pytest.raises(ValueError):
        Topics(bad)


@given(st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True))
def test_round_trip_of_any_valid_id(device):
    assert T.parse(T.cmd(device)) == ("cmd", device)
    assert T.parse(T.status(device)) == ("status", device)


@given(st.text(max_size=80))
def test_parse_raises_only_value_error(topic):
    try:
        T.parse(topic)
    except ValueError:
        pass
