"""The board's command line and its benchmark (figures are printed, never asserted)."""
import argparse

from broker.fake_bus import FakeBus
from display_board import bench, cli
from display_board.presenter import BoardPresenter, WindowPresenter


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


def test_board_bench_quick_reports_figures():
    result = bench.run(quick=True)
    assert set(result) >= {"event_to_model_ms", "announce_render_cold_ms", "announce_render_cached_ms"}
    assert result["event_to_model_ms"]["n"] == 200
