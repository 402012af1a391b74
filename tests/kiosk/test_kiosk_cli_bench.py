"""``talon kiosk`` options and the kiosk benchmark (its keys, never its values)."""
import argparse

from bench import kiosk as bench
from hardware.printer import TicketPrinter
from hardware.printer_fake import FakePrinter
from kiosk import cli


def parse(*argv):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_kiosk_cli_builds_printer_settings():
    args = parse("--printer", "network", "--printer-target", "10.0.0.5", "--printer-profile", "POS-5890",
                 "--cyrillic", "cp866_59", "--paper-width", "384", "--idle-timeout", "30", "--lang", "en")
    printer = cli.printer_from_args(args)
    assert isinstance(printer, TicketPrinter)
    assert printer.settings.connection == "network" and printer.settings.cyrillic == "cp866_59"
    assert printer.settings.paper_width_px == 384 and printer.settings.columns == 32
    options = cli.options_from_args(args)
    assert options.idle_timeout_s == 30 and options.lang == "en"


def test_kiosk_cli_fake_printer_and_defaults():
    args = parse("--printer", "fake")
    assert isinstance(cli.printer_from_args(args), FakePrinter)
    assert args.fullscreen is False and args.lang == "ru"


def test_kiosk_bench_quick_reports_every_figure(capsys):
    figures = bench.run(quick=True)
    assert set(figures) >= {"compose_text_ms_median", "compose_image_384_ms_median",
                            "compose_image_576_ms_median", "tap_to_ticket_shown_ms_median"}
    if "skipped" not in figures:  # the figures need mosquitto
        assert set(figures) >= {"tap_to_print_ms", "first_frame_s", "rss_mb"}
        assert set(figures["tap_to_print_ms"]) >= {"p50", "p99"}
    assert set(bench.GOALS) == {"tap_to_print_ms.p99", "first_frame_s", "rss_mb"}
    assert capsys.readouterr().out == ""  # nothing leaks onto stdout before the JSON
