from bench import stats as bench


def test_bench_quick_reports_its_figures():
    out = bench.run(quick=True)
    for key in ("monthly_report_ms", "year_report_ms", "live_json_ms", "tickets", "dataset"):
        assert key in out
    assert set(bench.GOALS) <= set(out)
