"""``talon bench hq --quick``, shrunk: offices publish through real bridges into a real head
office; the figures are there and nothing was lost or stored twice (timings are not judged)."""
import json

import pytest

from bench import hq as hq_bench
from talon.cli import main

pytestmark = pytest.mark.e2e

KEYS = {"offices", "events_per_s", "offered_events_per_s", "ingest_lag_ms", "lost", "duplicated", "catch_up_s",
        "network_month_report_ms", "network_month_report_cold_ms", "database"}


def test_bench_hq_quick_small(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(hq_bench, "QUICK", {"offices": 3, "steady_s": 6, "cut_s": 6, "report_offices": 2,
                                            "tickets_per_office": 400, "page_offices": (2, 3),
                                            "page_tickets_per_office": 50})
    out = tmp_path / "bench.json"
    assert main(["bench", "hq", "--quick", "--json", "--out", str(out)]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert KEYS <= set(figures)
    assert figures["offices"] == 3 and figures["report_offices"] == 2
    assert figures["events_published"] > 0 and figures["settled"] is True
    assert figures["lost"] == 0 and figures["duplicated"] == 0
    assert set(figures["ingest_lag_ms"]) == {"p50", "p99", "max", "n"} and figures["ingest_lag_ms"]["n"] > 0
    assert figures["catch_up_s"] is not None
    assert set(figures["hq_live_page_ms"]) == {"2", "3"}
    assert json.loads(out.read_text())["hq"]["bench_seconds"] >= 0
