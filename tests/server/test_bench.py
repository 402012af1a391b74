from server import bench


def test_bench_quick_reports_its_figures():
    out = bench.run(quick=True)
    assert out["days"] == 5 and out["tickets"] > 100
    for key in ("dashboard_snapshot_median_ms", "monthly_report_page_median_ms", "summary_xlsx_median_ms"):
        assert out[key] > 0
