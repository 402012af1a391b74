"""The board's command line and its benchmark (figures are printed, never asserted)."""
import argparse

import pytest

from bench import board as bench
from broker.fake_bus import FakeBus
from display_board import cli
from display_board.hall import BoardPresenter
from display_board.trace import Tracer, read_marks
from display_board.window import WindowPresenter
from hub.brokers import find_mosquitto


def parse(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_board_cli_options_build_the_right_presenter(tmp_path):
    args = parse("--history", "5", "--grid", "--no-voice", "--sound-dir", str(tmp_path), "--player", "null")
    announcer = cli.build_announcer(args)
    try:
        p = cli.build_presenter(FakeBus(), args, announcer)
        assert isinstance(p, BoardPresenter) and p.history_size == 5 and p.grid_mode
        assert announcer.settings.voice_on is False
    finally:
        announcer.stop()
    args = parse("--window", "3", "--fullscreen", "--lang", "en")
    assert cli.build_announcer(args) is None                  # per-window displays stay silent
    p = cli.build_presenter(FakeBus(), args)
    assert isinstance(p, WindowPresenter) and p.window == 3 and p.lang == "en"


@pytest.mark.skipif(not find_mosquitto(), reason="mosquitto is not installed")
def test_board_bench_quick_reports_figures():
    """A real hub and a real board process; the figures are printed by ``talon bench``, never asserted."""
    result = bench.run(quick=True)
    assert set(result) >= {"next_to_frame_ms", "next_to_sound_ms", "idle_cpu_pct", "rss_mb", "calls_blinked"}
    assert set(result["next_to_frame_ms"]) >= {"p50", "p99"} and set(result["next_to_sound_ms"]) >= {"p50", "p99"}
    assert result["calls"] == bench.QUICK_CALLS == result["calls_blinked"]      # every call blinked
    flat = {f"{k}.{sub}" for k, v in result.items() if isinstance(v, dict) for sub in v} | set(result)
    assert set(bench.GOALS) <= flat


def test_board_trace_marks_round_trip(tmp_path):
    tracer = Tracer(tmp_path / "trace.log")
    tracer.mark("frame", "А001", at=12.5)
    tracer.mark("connected")
    tracer.close()
    tracer.mark("frame", "А002")            # after close: ignored, never raises
    marks = read_marks(tmp_path / "trace.log")
    assert marks[0] == ("frame", "А001", 12.5)
    assert [m[:2] for m in marks] == [("frame", "А001"), ("connected", "-")]
    assert read_marks(tmp_path / "missing.log") == []
