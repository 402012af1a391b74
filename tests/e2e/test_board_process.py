"""The real board process (``python -m talon board``, offscreen Kivy, SDL disk audio)
against a real hub: Next → the frame shows the number and the panel blinks → the
announcement is really played (PCM written by SDL); a broker crash → «Нет связи» →
the board comes back by itself. The board reports through TALON_TRACE_FILE marks."""
import shutil
from array import array

import pytest

from bench.board import BoardProcess
from hub.brokers import find_mosquitto

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not find_mosquitto(), reason="mosquitto is not installed"),
              pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")]
WAIT = 60.0




def loud_samples(path) -> int:
    data = path.read_bytes()
    samples = array("h")
    samples.frombytes(data[: len(data) // 2 * 2])
    return sum(1 for s in samples if abs(s) > 2000)


def test_board_process_shows_blinks_plays_and_recovers_from_a_broker_crash(board_office, tmp_path):
    kiosk = board_office.client("kiosk-1", "kiosk")
    counter = board_office.client("counter-3", "counter")
    counter.request("open", {"window": 3})
    for _ in range(2):
        kiosk.request("issue", {"topic": "A", "kind": "walk_in"})
    board = BoardProcess(board_office, tmp_path / "board", args=["--min-display", "0"]).start()
    display = BoardProcess(board_office, tmp_path / "window", device="board-w3", args=["--window", "3"]).start()
    try:
        board.wait_mark("connected", timeout=WAIT)
        display.wait_mark("connected", timeout=WAIT)
        board.wait_mark("prerendered", timeout=WAIT)

        first = counter.request("call_next", {"window": 3})["ticket"]["number"]
        board.wait_mark("frame", first, timeout=WAIT)          # a frame with the number was drawn
        board.wait_mark("flash", first, timeout=WAIT)          # the panel blinks with it
        board.wait_mark("sound_start", first, timeout=WAIT)
        board.wait_mark("sound_end", first, timeout=WAIT)
        assert loud_samples(board.audio_file) > 10_000        # chime and voice really went out
        display.wait_mark("frame", first, timeout=WAIT)        # the window display shows it too
        assert not display.marks("sound_start")                # the window display stays silent

        board_office.runtime.broker.kill()
        board.wait_mark("disconnected", timeout=WAIT)
        board.wait_mark("offline_shown", timeout=WAIT)         # «Нет связи» on screen
        display.wait_mark("offline_shown", timeout=WAIT)
        board.wait_mark("connected", count=2, timeout=WAIT)    # reconnected by itself
        board.wait_mark("online_shown", timeout=WAIT)
        display.wait_mark("online_shown", timeout=WAIT)
        assert counter.wait_ready(WAIT)

        counter.request("start", {"window": 3}, timeout=10)
        counter.request("finish", {"window": 3}, timeout=10)
        second = counter.request("call_next", {"window": 3}, timeout=10)["ticket"]["number"]
        board.wait_mark("frame", second, timeout=WAIT)
        board.wait_mark("flash", second, timeout=WAIT)
        board.wait_mark("sound_start", second, timeout=WAIT)
        display.wait_mark("frame", second, timeout=WAIT)
        assert [m[1] for m in board.marks("sound_start")] == [first, second]   # none replayed after the crash
        assert board.proc.poll() is None and display.proc.poll() is None
    finally:
        board.stop()
        display.stop()
