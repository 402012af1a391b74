"""``talon bench phone --quick`` with a few pages: the figures are there and every page got
every call (the timings themselves are the benchmark's business, not a test's)."""
import json

import pytest

from hub.brokers import find_mosquitto
from talon.cli import main

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(not find_mosquitto(), reason="mosquitto is not installed")
def test_phone_bench_quick_reports_every_figure(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "phone", "--quick", "--pages", "8", "--json", "--out", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["pages"] == 8
    for key in ("call_to_page_ms", "hub_rss_mb", "web_rss_mb", "hub_call_ms", "rss_growth_mb"):
        assert key in figures, key
    assert set(figures["call_to_page_ms"]) >= {"p50", "p99"}
    assert set(figures["hub_call_ms"]) >= {"without_pages_p99", "with_pages_p99"}
    assert figures["all_pages_got_every_call"] is True and figures["pages_missed"] == 0
    assert figures["call_to_page_ms"]["n"] > 0
    assert json.loads(out.read_text())["phone"]["bench_seconds"] >= 0
