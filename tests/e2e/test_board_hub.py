"""The board's presenters on a real HubClient against a real hub (OfficeRuntime with a
supervised mosquitto): a counter's Next reaches the hall board and the window display,
the announcement is played (FilePlayer keeps what would have been heard), a broker
crash shows «Нет связи» and the board recovers the right picture by itself."""
import shutil
import threading

import pytest

from display_board.hall import BoardPresenter
from display_board.window import WindowPresenter
from hardware.sound import Announcer, SoundCache
from hardware.sound_players import FilePlayer, wav_duration
from hub.brokers import find_mosquitto
from tests.mqtt_fixtures import wait_until

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not find_mosquitto(), reason="mosquitto is not installed")]
WAIT = 30.0


class Models:
    """Every model a presenter reported (it reports from the bus thread)."""

    def __init__(self):
        self.items = []
        self._lock = threading.Lock()

    def __call__(self, model):
        with self._lock:
            self.items.append(model)

    @property
    def last(self):
        with self._lock:
            return self.items[-1] if self.items else None




def test_board_next_shows_blinks_and_plays_then_survives_a_broker_crash(board_office, tmp_path):
    kiosk = board_office.client("kiosk-1", "kiosk")
    counter = board_office.client("counter-2", "counter")
    counter.request("open", {"window": 2})
    for _ in range(3):
        kiosk.request("issue", {"topic": "A", "kind": "walk_in"})

    player = FilePlayer(tmp_path / "played")
    announcer = Announcer(SoundCache(tmp_path / "sound"), player).start()
    hall_models, window_models = Models(), Models()
    hall_bus = board_office.client("board-1", "board", start=False)
    hall = BoardPresenter(hall_bus, announcer=announcer, min_display_s=0)
    hall.on_change(hall_models)
    hall.start()               # direct: each presenter runs on its own bus's thread only
    window_bus = board_office.client("board-w2", "board", start=False)
    window = WindowPresenter(window_bus, 2)
    window.on_change(window_models)
    window.start()
    for bus in (hall_bus, window_bus):
        bus.start()
        assert bus.wait_ready(WAIT)
    try:
        wait_until(lambda: hall.config.topics and window.config.topics, WAIT, "the retained config on both displays")
        wait_until(lambda: announcer.prerendered.is_set(), WAIT, "the first calls prerendered")
        assert announcer.prerender_count > 0

        # Next at window 2 → both displays show the number, the hall board announces it
        first = counter.request("call_next", {"window": 2})["ticket"]["number"]
        wait_until(lambda: hall.model.now_calling and hall.model.now_calling.ticket == first, WAIT, "hall board")
        assert hall.model.now_calling.window == 2
        assert hall.model.now_calling_line == f"Приглашается талон {first} в окно 2"
        blink_rev = hall.model.now_calling_rev          # a new rev is what makes the panel blink
        wait_until(lambda: window.model.ticket == first, WAIT, "window display")
        assert window.model.title == "Окно 2" and window.model.state == "open"
        assert announcer.wait_idle(WAIT)
        assert [a.ticket for a in announcer.played] == [first]
        assert announcer.played[0].started_at is not None
        assert len(player.played) == 1 and wav_duration(player.played[0]) > 1.0
        assert "0001.wav" in (tmp_path / "played" / "played.log").read_text()

        # the visitor is served; the window display goes idle, the hall board keeps the call listed
        counter.request("start", {"window": 2})
        counter.request("finish", {"window": 2})
        wait_until(lambda: window.model.ticket == "", WAIT, "window display idle")
        assert window.model.idle

        # the broker crashes: both displays say so and keep the last picture
        board_office.runtime.broker.kill()
        wait_until(lambda: not hall.model.connected and not window.model.connected, WAIT, "offline badge")
        assert hall.model.offline_text.startswith("Нет связи")
        assert window.model.offline_text.startswith("Нет связи")
        assert hall.model.now_calling.ticket == first

        # the supervisor restarts it; everyone reconnects by themselves, the hub republishes
        wait_until(lambda: board_office.runtime.broker.restarts >= 1, WAIT, "broker restarted")
        wait_until(lambda: hall.model.connected and window.model.connected, WAIT, "back online")
        assert hall.model.offline_text == "" and window.model.offline_text == ""
        assert hall.resyncs >= 1
        assert counter.wait_ready(WAIT)

        # the recovered board is right: a call after the crash is shown, blinks and is announced
        second = counter.request("call_next", {"window": 2}, timeout=10)["ticket"]["number"]
        wait_until(lambda: hall.model.now_calling.ticket == second, WAIT, "hall board after the crash")
        assert hall.model.now_calling_rev > blink_rev
        assert [c.ticket for c in hall.model.history[:2]] == [second, first]
        wait_until(lambda: window.model.ticket == second, WAIT, "window display after the crash")
        assert announcer.wait_idle(WAIT)
        assert [a.ticket for a in announcer.played] == [first, second]   # nothing announced twice
        assert len(player.played) == 2
    finally:
        announcer.stop()


def test_board_started_late_takes_the_retained_picture_without_announcing_it(board_office, tmp_path):
    """A board that (re)starts mid-day shows the hub's retained state/board at once and
    does not announce calls it never saw being made."""
    kiosk = board_office.client("kiosk-1", "kiosk")
    counter = board_office.client("counter-1", "counter")
    counter.request("open", {"window": 1})
    kiosk.request("issue", {"topic": "R", "kind": "walk_in"})
    called = counter.request("call_next", {"window": 1})["ticket"]["number"]

    player = FilePlayer(tmp_path / "played")
    announcer = Announcer(SoundCache(tmp_path / "sound"), player).start()
    bus = board_office.client("board-1", "board", start=False)
    hall = BoardPresenter(bus, announcer=announcer, min_display_s=0).start()
    window_bus = board_office.client("board-w1", "board", start=False)
    window = WindowPresenter(window_bus, 1).start()
    try:
        bus.start()
        window_bus.start()
        wait_until(lambda: hall.model.now_calling is not None, WAIT, "the retained board")
        assert hall.model.now_calling.ticket == called and hall.model.now_calling.window == 1
        wait_until(lambda: window.model.ticket == called, WAIT, "the retained window state")
        assert announcer.wait_idle(WAIT) and list(announcer.played) == [] and player.played == []
    finally:
        announcer.stop()


@pytest.fixture(autouse=True)
def _espeak():
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
