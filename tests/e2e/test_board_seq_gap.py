"""A hall board that misses a call heals itself from the broker.

Real hub (OfficeRuntime + supervised mosquitto) and a real HubClient: the board's
connection loses everything the broker sends for a moment (the call's event AND its
retained state/board update). The next event's ``seq`` jumps, the board's follower asks
``bus.reread_state("board")``, the client re-subscribes, mosquitto resends the retained
state/board, and the missed call is on the board and announced."""
import threading

import pytest

from display_board.hall import BoardPresenter
from hub.brokers import find_mosquitto
from tests.mqtt_fixtures import wait_until

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not find_mosquitto(), reason="mosquitto is not installed")]
WAIT = 30.0


class Deafness:
    """While ``on``, drops every message the broker delivers to ``client`` (lost on the way)."""

    def __init__(self, client):
        conn = client._conn
        self._deliver = conn._on_message
        conn.paho.on_message = self._filter
        self.on = False
        self.dropped: list[str] = []
        self._lock = threading.Lock()

    def _filter(self, client, userdata, msg):
        with self._lock:
            if self.on:
                self.dropped.append(msg.topic)
                return
        self._deliver(client, userdata, msg)

    def topics(self) -> list[str]:
        with self._lock:
            return list(self.dropped)


class Announcements:
    def __init__(self):
        self.calls = []

    def announce(self, ticket, window, recall=False):
        self.calls.append((ticket, window, recall))

    def configure(self, **kw):
        pass


def test_board_missing_a_call_rereads_the_retained_board_from_the_broker(board_office):
    kiosk = board_office.client("kiosk-1", "kiosk")
    counter = board_office.client("counter-1", "counter")
    counter.request("open", {"window": 1})
    kiosk.request("issue", {"topic": "A", "kind": "walk_in"})

    announcer = Announcements()
    bus = board_office.client("board-1", "board", start=False)
    deaf = Deafness(bus)
    hall = BoardPresenter(bus, announcer=announcer, min_display_s=0)
    hall.start()                    # direct: the presenter runs on its bus's thread only
    bus.start()
    assert bus.wait_ready(WAIT)
    wait_until(lambda: hall.config.topics, WAIT, "the retained config")

    # the board follows the office's seq from a live event
    kiosk.request("issue", {"topic": "A", "kind": "walk_in"})
    wait_until(lambda: hall.follower.last_seq is not None and hall.follower.last_seq >= 2, WAIT, "a live event")
    before, gaps, resyncs = hall.follower.last_seq, hall.follower.gaps, hall.resyncs

    # the call is lost on the way to this board: its event and the retained board update
    deaf.on = True
    called = counter.request("call_next", {"window": 1})["ticket"]["number"]
    wait_until(lambda: any(t.endswith("event/ticket") for t in deaf.topics())
               and any(t.endswith("state/board") for t in deaf.topics()), WAIT, "the call's messages dropped")
    deaf.on = False
    assert hall.model.now_calling is None and announcer.calls == []
    assert hall.follower.gaps == gaps and hall.follower.last_seq == before

    # the next event shows the gap; the board re-reads state/board from the broker
    kiosk.request("issue", {"topic": "A", "kind": "walk_in"})
    wait_until(lambda: hall.model.now_calling is not None, WAIT, "the missed call healed from the broker")
    assert hall.model.now_calling.ticket == called and hall.model.now_calling.window == 1
    assert [c.ticket for c in hall.model.history] == [called]
    assert announcer.calls == [(called, 1, False)]            # recent: announced, once
    assert hall.follower.gaps == gaps + 1 and hall.resyncs == resyncs + 1
