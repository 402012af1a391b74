"""Which ``state/window/<n>`` the hub republishes after a window event: the event's window,
and only those others whose ``actions`` changed (docs/contract.md, retained state)."""
from hub.dispatcher import Dispatcher
from tests.hub.test_dispatcher import hub, send, states_of  # noqa: F401  (hub: the fixture)
from tests.queue_core.helpers import MONDAY_10


def windows_in(pubs) -> list[int]:
    return [int(p.topic.rsplit("/", 1)[1]) for p in pubs if "/state/window/" in p.topic]


def test_a_break_republishes_only_the_windows_whose_actions_changed(hub: Dispatcher):  # noqa: F811
    before = {n: states_of(hub, n) for n in (2, 3)}
    _, pubs = send(hub, "counter-1", "pause", window=1, kind="lunch")
    assert windows_in(pubs) == [1]                 # 2 and 3 may still pause and close: nothing new for them
    assert {n: states_of(hub, n)["actions"] for n in (2, 3)} == {n: before[n]["actions"] for n in (2, 3)}
    _, pubs = send(hub, "counter-2", "pause", window=2, kind="rest")
    assert windows_in(pubs) == [2, 3]              # 3 is the last open window now: no break, no close
    window_3 = next(p.payload for p in pubs if p.topic.endswith("state/window/3"))
    assert "pause" not in window_3["actions"] and "close" not in window_3["actions"]
    assert window_3 == states_of(hub, 3) | {"seq": window_3["seq"]}
    _, pubs = send(hub, "counter-1", "open", window=1)
    assert windows_in(pubs) == [1, 3]              # 3 may take a break again
    assert "pause" in next(p.payload for p in pubs if p.topic.endswith("state/window/3"))["actions"]


def test_a_window_the_clock_changed_is_republished_once(hub: Dispatcher):  # noqa: F811
    """The windows are checked against the clock once a minute: after hours the last open
    window may close, and its state says so once."""
    for n in (1, 2):
        send(hub, f"counter-{n}", "pause", window=n, kind="lunch")
    assert windows_in(hub.refresh()) == []
    hub.clock.now = MONDAY_10.replace(hour=20, minute=1)
    assert windows_in(hub.refresh()) == [3]
    assert "close" in states_of(hub, 3)["actions"]
    assert windows_in(hub.refresh()) == []          # published once, not again
